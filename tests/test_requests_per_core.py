"""Issue 23 (requests per core): an API token's last use is written at most once a minute, yet shown, and a revoked
token is refused at once; the load test's checker expects the follow-ups the rules make, and its contacts are never
dated before their case's warning was pushed."""
import datetime as dt
import random
import sys
from pathlib import Path

from dissuasion.api.tokens import create_api_token
from dissuasion.auth.models import ApiToken
from dissuasion.auth.operations import revoke_token
from dissuasion.contacts.operations import log_contact
from dissuasion.contacts.validation import ContactInput
from dissuasion.core.enums import FailureReason, Method, Reached
from dissuasion.core.timeutil import local, now
from dissuasion.extensions import db
from dissuasion.followups.models import FollowUp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.load_users import SHANGHAI, contact_form  # noqa: E402
from bench.load_verify import expected_keys  # noqa: E402

T0 = dt.datetime(2026, 12, 7, 2, 0, 0, tzinfo=dt.UTC)


def _token(user) -> tuple[dict, int]:
    token = create_api_token(user, "push")
    db.session.commit()
    row = db.session.scalar(db.select(ApiToken).filter_by(user_id=user.id))
    return {"Authorization": f"Bearer {token}"}, row.id


def _last_used(token_id: int) -> dt.datetime | None:
    db.session.expire_all()
    return db.session.get(ApiToken, token_id).last_used_at


def test_a_tokens_last_use_is_written_at_most_once_a_minute_and_still_shown(client, auth, make_user, clock):
    clock(T0)
    officer = make_user("officer")
    headers, token_id = _token(officer)
    assert client.get("/api/v1/cases", headers=headers).status_code == 200
    assert _last_used(token_id) == T0
    clock(T0 + dt.timedelta(seconds=40))  # within the minute: reading the worklist writes nothing
    assert client.get("/api/v1/cases", headers=headers).status_code == 200
    assert _last_used(token_id) == T0
    clock(T0 + dt.timedelta(seconds=75))
    assert client.get("/api/v1/cases", headers=headers).status_code == 200
    assert _last_used(token_id) == T0 + dt.timedelta(seconds=75)
    auth.login(officer)
    page = client.get("/account/tokens").get_data(as_text=True)
    assert local(T0 + dt.timedelta(seconds=75)).strftime("%H:%M") in page  # 上次使用, to the minute


def test_a_revoked_token_is_refused_at_once_even_within_the_minute(client, make_user, clock):
    clock(T0)
    officer = make_user("officer")
    headers, token_id = _token(officer)
    assert client.get("/api/v1/cases", headers=headers).status_code == 200
    clock(T0 + dt.timedelta(seconds=10))
    revoke_token(db.session.get(ApiToken, token_id), None)
    db.session.commit()
    assert client.get("/api/v1/cases", headers=headers).status_code == 401


def test_a_stopped_accounts_token_is_refused_at_once_within_the_minute(client, make_user, clock):
    clock(T0)
    officer = make_user("officer")
    headers, _id = _token(officer)
    assert client.get("/api/v1/cases", headers=headers).status_code == 200
    officer.active = False
    db.session.commit()
    clock(T0 + dt.timedelta(seconds=5))
    assert client.get("/api/v1/cases", headers=headers).status_code == 401


def _failed(at: dt.datetime, method: Method) -> ContactInput:
    return ContactInput(method=method, reached=Reached.NONE, contacted_at=at,
                        failure_reason=FailureReason.NOT_HOME if method == Method.VISIT else FailureReason.NO_ANSWER)


def test_the_load_checker_expects_the_next_contact_once_every_escalation_step_is_tried(make_user, make_case, clock):
    """特高危: one try, then relatives, then a visit; the fourth failed try leaves nothing pending, and since issue
    20 the case gets its next contact (next:…). The checker once called that follow-up unexpected."""
    clock(T0)
    officer = make_user("officer")
    case = make_case(tier="extra_high", assignee=officer)
    for minutes in (5, 10, 15, 20, 25):
        clock(T0 + dt.timedelta(minutes=minutes))
        log_contact(case, _failed(now(), Method.VISIT), officer, version=case.version)
        db.session.commit()
    made = sorted(db.session.scalars(db.select(FollowUp.rule_key).filter_by(case_id=case.id)))
    assert any(k.startswith("next:") for k in made)
    contacts = sorted(case.contacts, key=lambda c: c.id)
    assert sorted(expected_keys(case, contacts, _rule(case))) == made


def _rule(case):
    from dissuasion.cases.rules import rules_by_tier
    return rules_by_tier()[case.tier]


def test_the_load_generator_never_dates_a_contact_before_the_push():
    """A case pushed a minute ago: neither a late failed call nor a 劝阻 logged 'a few minutes ago' may be dated
    before it (the app refuses such a contact: that was most of the load test's 400s)."""
    rng = random.Random(1)
    at = dt.datetime.now(dt.UTC)
    pushed = (at - dt.timedelta(seconds=50)).astimezone(SHANGHAI)
    earliest = pushed.replace(second=0, microsecond=0)  # the case page shows the push time to the minute
    for _ in range(200):
        for kind in ("failed", "dissuaded", "close"):
            data = contact_form(kind, "high", "1", "x", "m", rng, earliest)
            dated = dt.datetime.strptime(data["contacted_at"], "%Y-%m-%dT%H:%M").replace(tzinfo=SHANGHAI)
            assert dated >= pushed, (kind, data["contacted_at"])
            assert dated <= at + dt.timedelta(minutes=2)  # the form's clock skew
