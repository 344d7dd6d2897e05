"""Issue 23 (requests per core): an API token's last use is written at most once a minute, yet shown, and a revoked
token is refused at once; the load test's checker expects the follow-ups the rules make, and its contacts are never
dated before their case's warning was pushed."""
import datetime as dt
import random
import sys
from decimal import Decimal
from pathlib import Path

from sqlalchemy import event

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


class _Statements:
    """The SQL statements the app sends while the block runs."""

    def __enter__(self):
        self.sql: list[str] = []
        event.listen(db.engine, "before_cursor_execute", self._seen)
        return self

    def _seen(self, _conn, _cursor, statement, *_args):
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA")):
            self.sql.append(statement)  # (SQLite's BEGIN IMMEDIATE goes through the cursor)

    def __exit__(self, *_exc):
        event.remove(db.engine, "before_cursor_execute", self._seen)


def test_the_officers_pages_take_few_queries(client, auth, make_user, make_case, bearer):
    """Per-request work (issue 23): the worklist asked the database 12 times (three counts, the overdue count, the
    rows, their people and holders one query each, the header's bell, token link and precinct each their own); the
    header now comes with the user, the counts in one query, the rows with their people."""
    officer = make_user("officer")
    cases = [make_case(tier=t, assignee=officer) for t in ("extra_high", "high", "medium", "low")]
    make_case(tier="high")  # the precinct's pool
    auth.login(officer)
    headers = bearer(officer)
    budget = {"/cases/": 4, f"/cases/{cases[0].id}": 8, f"/cases/{cases[0].id}/contact": 2}
    for path, most in budget.items():
        with _Statements() as seen:
            page = client.get(path)
        assert page.status_code == 200 and officer.username in page.get_data(as_text=True)
        assert len(seen.sql) <= most, (path, len(seen.sql), seen.sql)
    for path, most in {"/api/v1/cases": 6, f"/api/v1/cases/{cases[1].id}": 6}.items():
        client.get(path, headers=headers)  # the token's first use from this address is audited, once
        with _Statements() as seen:
            answer = client.get(path, headers=headers)
        assert answer.status_code == 200
        assert len(seen.sql) <= most, (path, len(seen.sql), seen.sql)
        assert not any(s.lstrip().upper().startswith(("UPDATE", "INSERT")) for s in seen.sql), seen.sql  # a read


def test_the_header_still_shows_the_bell_and_the_token_link(client, auth, make_user, make_case, bearer):
    """The bell's count and 接口令牌 now come with the user's own query: the same figures as before."""
    from dissuasion.notifications.models import Notification

    officer = make_user("officer")
    auth.login(officer)
    page = client.get("/cases/").get_data(as_text=True)
    assert "/account/tokens" not in page and 'class="badge">' not in page.split('class="bell"')[1].split("</a>")[0]
    bearer(officer)
    db.session.add_all([Notification(user_id=officer.id, kind="assigned", message=f"任务 {n}") for n in range(3)])
    db.session.commit()
    page = client.get("/cases/").get_data(as_text=True)
    bell = page.split('class="bell"')[1].split("</a>")[0]
    assert "/account/tokens" in page and '<span class="badge">3</span>' in bell


def test_the_api_worklist_answers_what_each_case_serialised_whole_answers(client, make_user, make_case, bearer,
                                                                           clock):
    """The API worklist reads only the columns it returns (issue 23, requests per core): every listed case is the
    same JSON as the case loaded whole and serialised by case_json (sign and the contact answer still do that), for
    own and pool cases, with and without community, follow-ups, outcomes and amounts, overdue or not, each filter."""
    from dissuasion.api.serialize import case_json
    from dissuasion.cases.models import Case
    from dissuasion.contacts.validation import ContactInput
    from dissuasion.core.enums import AppStatus, Outcome

    clock(T0)
    me = make_user("officer", display_name="李警官")
    colleague = make_user("officer")
    mine = [make_case(tier=t, assignee=me, id_number="11010519491231002X" if t == "high" else "")
            for t in ("extra_high", "high", "medium", "low")]
    pool = make_case(tier="high", community="无民警社区")
    make_case(tier="low", assignee=colleague)
    make_case(tier="high", precinct="PCS02")  # another precinct's
    clock(T0 + dt.timedelta(minutes=3))
    log_contact(mine[0], _failed(now(), Method.VISIT), me, version=mine[0].version)
    log_contact(mine[2], ContactInput(method=Method.PHONE, reached=Reached.SELF, contacted_at=now(),
                                      outcome=Outcome.DISSUADED, amount_dissuaded=Decimal("1234.50"),
                                      app_status=AppStatus.REGISTERED_NOW, note="已劝阻 13800138000"),
                me, version=mine[2].version)
    log_contact(mine[3], ContactInput(method=Method.PHONE, reached=Reached.SELF, contacted_at=now(),
                                      outcome=Outcome.SELF_PROTECTED), me, close=True, version=mine[3].version)
    db.session.commit()
    clock(T0 + dt.timedelta(hours=2))  # some deadlines have passed: overdue first
    headers = bearer(me)
    seen, followups = set(), 0
    for query in ("", "?per_page=2&page=2", "?assignee=me", "?overdue=true", "?status=closed", "?tier=high"):
        body = client.get(f"/api/v1/cases{query}", headers=headers).get_json()
        db.session.expire_all()
        assert body["items"] == [case_json(db.session.get(Case, item["id"])) for item in body["items"]], query
        seen |= {item["id"] for item in body["items"]}
        followups += sum(len(item["followups"]) for item in body["items"])
    assert followups and seen == {c.id for c in [*mine, pool]}  # a colleague's and another precinct's are not listed


def test_the_api_case_answers_what_the_case_serialised_whole_answers(client, make_user, make_case, bearer, clock):
    """GET /api/v1/cases/<id> reads the case, its follow-ups, contacts (with who logged them) and warnings as columns:
    the same JSON as the case loaded whole and serialised by case_detail_json (the contact's answer still does), and
    a case out of reach is still 404, a pool case a colleague took 409."""
    from dissuasion.api.serialize import case_detail_json
    from dissuasion.cases.dispatch import sign_for
    from dissuasion.cases.models import Case
    from dissuasion.core.enums import AppStatus, Outcome

    clock(T0)
    me, lead = make_user("officer"), make_user("lead")
    colleague = make_user("officer")
    first = make_case(tier="high", assignee=me, id_number="11010519491231002X")
    make_case(tier="medium", assignee=me, warning_no="W-second", id_number="11010519491231002X")  # same person
    second = make_case(tier="low", assignee=me)
    pool, theirs = make_case(tier="high", community="无民警社区"), make_case(tier="high", precinct="PCS02")
    clock(T0 + dt.timedelta(minutes=3))
    log_contact(first, _failed(now(), Method.PHONE), me, version=first.version)
    log_contact(first, ContactInput(method=Method.PHONE, reached=Reached.RELATIVE, contacted_at=now(),
                                    relative_relation="母亲", relative_phone="13900139000",
                                    note="身份证 11010519491231002X"), lead, version=first.version)
    log_contact(second, ContactInput(method=Method.PHONE, reached=Reached.SELF, contacted_at=now(),
                                     outcome=Outcome.DISSUADED, amount_dissuaded=Decimal("88.00"),
                                     app_status=AppStatus.REGISTERED_NOW), me, version=second.version)
    db.session.commit()
    headers = bearer(me)
    for case in (first, second, pool):
        body = client.get(f"/api/v1/cases/{case.id}", headers=headers).get_json()
        db.session.expire_all()
        assert body == case_detail_json(db.session.get(Case, case.id))
    assert len(body["warnings"]) == 1 and body["contacts"] == []
    body = client.get(f"/api/v1/cases/{first.id}", headers=headers).get_json()
    assert len(body["contacts"]) == 2 and {c["officer"] for c in body["contacts"]} == {me.username, lead.username}
    assert "13900139000" not in str(body) and body["contacts"][1]["relative"]["phone_masked"].count("*") == 4
    assert client.get(f"/api/v1/cases/{theirs.id}", headers=headers).status_code == 404
    sign_for(db.session.get(Case, pool.id), colleague)
    db.session.commit()
    assert client.get(f"/api/v1/cases/{pool.id}", headers=headers).status_code == 409


def _api_contact(client, headers, case_id: int, version, **fields):
    """POST a contact through the API at the frozen clock; its 201 answer."""
    body = {"method": "phone", "reached": "self", "contacted_at": now().isoformat(), "version": version} | fields
    answer = client.post(f"/api/v1/cases/{case_id}/contacts", headers=headers, json=body)
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def test_the_api_contact_answers_what_the_case_and_contact_serialised_whole_answer(client, make_user, make_case,
                                                                                   bearer, clock):
    """A contact's answer (issue 23: the contact's row written alone, the tier's rule loaded with the case, the 回访
    keys checked in one query) is the same JSON as the case and the contact loaded whole and serialised, for failed
    tries (a retry, then the escalation the leads are told of), 劝阻 (回访), a relative's number and a note with an ID
    number, a close, by the holder and by a lead, on cases with earlier contacts and follow-ups."""
    from dissuasion.api.serialize import case_detail_json, contact_json
    from dissuasion.cases.models import Case
    from dissuasion.contacts.models import Contact

    clock(T0)
    me, lead = make_user("officer"), make_user("lead")
    high = make_case(tier="high", assignee=me, id_number="11010519491231002X")
    extra = make_case(tier="extra_high", assignee=me)
    low = make_case(tier="low", assignee=me)
    mine, leads = bearer(me), bearer(lead)
    steps = [
        (high, mine, {"method": "visit", "reached": "none", "failure_reason": "not_home"}),
        (high, mine, {"method": "visit", "reached": "none", "failure_reason": "not_home"}),  # the tries used up
        (high, leads, {"reached": "relative", "relative": {"relation": "母亲", "phone": "13900139000"},
                       "note": "身份证 11010519491231002X"}),
        (high, mine, {"method": "visit", "outcome": "dissuaded", "amount_dissuaded": "1234.50",
                      "app": "registered_now"}),
        (extra, mine, {"outcome": "dissuaded", "amount_dissuaded": "88.00", "fraud_type": "investment"}),
        (extra, mine, {"method": "visit", "outcome": "self_protected", "close": True}),
        (low, mine, {"outcome": "false_alarm", "close": True}),
    ]
    for minutes, (case, headers, fields) in enumerate(steps, start=3):
        clock(T0 + dt.timedelta(minutes=minutes))
        version = client.get(f"/api/v1/cases/{case.id}", headers=headers).get_json()["version"]
        body = _api_contact(client, headers, case.id, version, **fields)
        db.session.expire_all()
        whole = db.session.get(Case, case.id)
        assert body["case"] == case_detail_json(whole), fields
        assert body["contact"] == contact_json(db.session.get(Contact, body["contact"]["id"])), fields
        assert body["case"]["contacts"][-1]["id"] == body["contact"]["id"]
    assert {c["officer"] for c in body["case"]["contacts"]} == {me.username}
    answered = client.get(f"/api/v1/cases/{high.id}", headers=mine).get_json()
    assert {c["officer"] for c in answered["contacts"]} == {me.username, lead.username}
    assert [f["kind"] for f in answered["followups"]].count("revisit") == 2  # 高: day 3 and 7


def test_an_api_contact_takes_few_queries(client, make_user, make_case, bearer, clock):
    """劝阻 on a 高 case through the API reads: the token; the case with its person, precinct, community and its tier's
    rule; its warnings (the earliest push); its follow-ups; whether its 回访 exist (one query for both days); the
    contacts of the answer. It read 8 times: the rules of every tier, and each 回访's key on its own. It writes what it
    wrote: the contact, the audit record, the case, its timeline, the 回访."""
    clock(T0)
    me = make_user("officer")
    case = make_case(tier="high", assignee=me)
    headers = bearer(me)
    clock(T0 + dt.timedelta(minutes=3))
    client.get(f"/api/v1/cases/{case.id}", headers=headers)  # the token's first use from this address is audited
    case_id, version = case.id, case.version
    with _Statements() as seen:
        body = _api_contact(client, headers, case_id, version, outcome="dissuaded", amount_dissuaded="500.00")
    assert [f["kind"] for f in body["case"]["followups"]] == ["revisit", "revisit"]
    reads = [s for s in seen.sql if s.lstrip().upper().startswith("SELECT")]
    assert len(reads) <= 6, "\n".join(s[:120] for s in reads)
    written = {s.split()[2] for s in seen.sql if s.lstrip().upper().startswith("INSERT")}
    assert written == {"contacts", "audit_events", "case_events", "followups"}
    assert [s.split()[1] for s in seen.sql if s.lstrip().upper().startswith("UPDATE")] == ["cases"]


def test_a_contact_applies_the_rule_saved_since_and_the_default_without_one(client, make_user, make_case, bearer,
                                                                           clock):
    """The rule of the case's tier is read by each contact (loaded with the case): an admin's change applies to the
    next contact at once (no copy kept from an earlier one), and a tier whose rule was never saved has its default."""
    from dissuasion.cases.models import RuleSetting
    from dissuasion.cases.rules import DEFAULT_RULES, update_rule
    from dissuasion.core.enums import Tier

    clock(T0)
    me = make_user("officer")
    first, second, third = (make_case(tier=t, assignee=me) for t in ("high", "high", "medium"))
    headers = bearer(me)
    clock(T0 + dt.timedelta(minutes=3))

    def revisit_days(case) -> list[int]:
        body = _api_contact(client, headers, case.id, case.version, outcome="dissuaded", amount_dissuaded="10.00")
        at = dt.datetime.fromisoformat(body["contact"]["contacted_at"])
        return [(dt.datetime.fromisoformat(f["due_at"]) - at).days for f in body["case"]["followups"]
                if f["kind"] == "revisit"]

    assert revisit_days(first) == [3, 7]
    update_rule(Tier.HIGH, {**DEFAULT_RULES[Tier.HIGH], "followup_days": [2, 5]})
    db.session.delete(db.session.get(RuleSetting, Tier.MEDIUM))
    db.session.commit()
    assert revisit_days(second) == [2, 5]
    assert revisit_days(third) == DEFAULT_RULES[Tier.MEDIUM]["followup_days"] == [7]
