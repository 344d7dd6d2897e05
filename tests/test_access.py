"""Every route × every role: the expected allow or deny. A new route without an entry here fails the suite."""
import datetime as dt
import re

import pytest

from dissuasion.core.enums import ActivityKind, FollowUpKind, Method
from dissuasion.core.timeutil import now
from dissuasion.extensions import db
from dissuasion.followups.rules import schedule
from dissuasion.imports.models import Push
from dissuasion.jobs.models import Job
from dissuasion.notifications.models import Notification
from dissuasion.notifications.operations import notify
from dissuasion.prevention.models import Activity
from dissuasion.reports.models import WeeklyReport
from dissuasion.reports.queries import compute_report
from dissuasion.watch.models import WatchEntry
from dissuasion.watch.operations import EntryInput, create_entry, find_or_create_person, kind_by_code

ROLES = ("officer", "lead", "center", "admin")
CASE_ROLES = {"officer", "lead", "center"}
PUBLIC = "public"
#: JSON API routes: a bearer token instead of a session (anonymous: 401 JSON); tested in their own files.
TOKEN = "token"
READERS = {"lead", "center"}
#: rule -> (method, roles allowed or PUBLIC, status when allowed). Everyone else: 403; anonymous: to the login page.
EXPECTED = {
    "/": ("GET", set(ROLES), 302),
    "/healthz": ("GET", PUBLIC, 200),
    "/login": ("GET", PUBLIC, None),
    "/login/totp": ("GET", PUBLIC, 302),  # without a pending login: back to the login page
    "/login/totp/setup": ("GET", PUBLIC, 302),
    "/logout": ("POST", set(ROLES), 302),
    "/password": ("GET", set(ROLES), 200),
    "/account/totp": ("GET", set(ROLES), 200),
    "/lang/<lang>": ("POST", PUBLIC, 302),
    "/cases/": ("GET", CASE_ROLES, 200),
    "/cases/board": ("GET", {"lead"}, 200),
    "/cases/county": ("GET", {"center"}, 200),
    "/cases/<int:case_id>": ("GET", CASE_ROLES, 200),
    "/cases/search": ("GET", CASE_ROLES, 200),
    "/cases/assign": ("POST", {"lead"}, None),
    "/cases/route-group": ("POST", {"center"}, 302),
    "/cases/route-selected": ("POST", {"center"}, 302),
    "/cases/route-by-directory": ("POST", {"center"}, 302),
    "/cases/<int:case_id>/sign": ("POST", CASE_ROLES, None),
    "/cases/<int:case_id>/assign": ("POST", CASE_ROLES, None),
    "/cases/<int:case_id>/transfer": ("POST", CASE_ROLES, None),
    "/cases/<int:case_id>/route": ("POST", CASE_ROLES, None),
    "/cases/<int:case_id>/reveal/<field>": ("POST", CASE_ROLES, 200),
    "/cases/<int:case_id>/call": ("POST", CASE_ROLES, 303),
    "/cases/<int:case_id>/contact": ("GET", CASE_ROLES, 200),
    "/cases/<int:case_id>/close": ("POST", CASE_ROLES, 400),
    "/cases/<int:case_id>/approve-close": ("POST", CASE_ROLES, 400),
    "/cases/<int:case_id>/reopen": ("POST", CASE_ROLES, 400),
    "/cases/<int:case_id>/followups": ("POST", CASE_ROLES, 400),
    "/cases/<int:case_id>/followups/<int:followup_id>/move": ("POST", CASE_ROLES, 400),
    "/admin/rules": ("GET", {"admin"}, 200),
    "/admin/rules/<tier>": ("POST", {"admin"}, None),
    "/admin/users": ("GET", {"admin"}, 200),
    "/admin/users/<int:user_id>": ("GET", {"admin"}, 200),
    "/admin/users/<int:user_id>/password": ("POST", {"admin"}, 302),
    "/admin/users/<int:user_id>/unlock": ("POST", {"admin"}, 302),
    "/admin/users/<int:user_id>/tokens/<int:token_id>/revoke": ("POST", {"admin"}, 302),
    "/admin/users/throttle/clear": ("POST", {"admin"}, 302),
    "/account/tokens": ("GET", set(ROLES), 200),
    "/account/tokens/<int:token_id>/revoke": ("POST", set(ROLES), 302),
    "/admin/directory": ("GET", {"admin", "center"}, 200),
    "/admin/audit": ("GET", {"admin"}, 200),
    "/admin/audit/export": ("GET", {"admin"}, 200),
    "/reports/weekly": ("GET", READERS, 200),
    "/reports/weekly.xlsx": ("GET", READERS, 200),
    "/reports/weekly/generate": ("POST", READERS, 302),
    "/reports/archive": ("GET", READERS, 200),
    "/reports/archive/<int:report_id>": ("GET", READERS, 200),
    "/reports/feedback.xlsx": ("GET", READERS, 302),  # without dates: back to the report page with a message
    "/reports/summary": ("GET", READERS, 200),
    "/reports/summary.docx": ("POST", READERS, 302),  # without a text: back to the page with a message
    "/prevention/": ("GET", CASE_ROLES, 200),
    "/prevention/activities.xlsx": ("GET", CASE_ROLES, 200),
    "/prevention/new": ("GET", {"officer", "lead"}, 200),
    "/prevention/<int:activity_id>/edit": ("GET", {"officer", "lead"}, None),  # not the author: back to the list
    "/prevention/<int:activity_id>/delete": ("POST", {"officer", "lead"}, 302),  # (after edit: a lead deletes it)
    "/prevention/targets": ("GET", {"admin"}, 200),
    "/notifications": ("GET", set(ROLES), 200),
    "/notifications/read": ("POST", set(ROLES), 302),
    "/notifications/<int:note_id>/open": ("GET", set(ROLES), 302),  # the user's own notice: marked read, then there
    "/imports/upload": ("GET", {"center"}, 200),
    "/imports/preview": ("POST", {"center"}, 400),  # without a file: the upload page says to choose one
    "/imports/commit": ("POST", {"center"}, 302),  # without an upload token: back to the upload page
    "/imports/": ("GET", {"center"}, 200),
    "/imports/<int:push_id>": ("GET", {"center"}, 200),
    "/imports/<int:push_id>/errors.xlsx": ("GET", {"center"}, 200),
    "/imports/jobs/<int:job_id>": ("GET", {"center"}, 200),  # a commit still queued: its progress page
    "/imports/jobs/<int:job_id>.json": ("GET", {"center"}, 200),
    "/watch/": ("GET", CASE_ROLES, 200),
    "/watch/register.xlsx": ("GET", CASE_ROLES, 200),
    "/watch/new": ("GET", READERS, 200),
    "/watch/from-case/<int:case_id>": ("POST", READERS, 302),
    "/watch/<int:entry_id>": ("GET", CASE_ROLES, 200),
    "/watch/<int:entry_id>/meetings": ("POST", CASE_ROLES, 400),  # an empty form: the page says what to fill
    "/watch/<int:entry_id>/reveal/<field>": ("POST", CASE_ROLES, 200),
    "/watch/<int:entry_id>/edit": ("POST", READERS, 400),  # an empty form: the page says what to fill
    "/watch/<int:entry_id>/end": ("POST", READERS, 302),  # without a reason: back to the entry with a message
    "/watch/assessment": ("GET", READERS, 200),
    "/watch/assessment.xlsx": ("GET", READERS, 200),
    "/watch/settings": ("GET", {"admin"}, 200),
    "/api/v1/watch": ("GET", TOKEN, 401),
    "/api/v1/watch/<int:entry_id>": ("GET", TOKEN, 401),
    "/api/v1/watch/<int:entry_id>/meetings": ("POST", TOKEN, 401),
    "/api/v1/assessment": ("GET", TOKEN, 401),
    "/api/v1/reports/weekly": ("GET", TOKEN, 401),
    "/api/v1/feedback": ("GET", TOKEN, 401),
    "/api/v1/cases": ("GET", TOKEN, 401),
    "/api/v1/cases/<int:case_id>": ("GET", TOKEN, 401),
    "/api/v1/cases/<int:case_id>/sign": ("POST", TOKEN, 401),
    "/api/v1/cases/<int:case_id>/contacts": ("POST", TOKEN, 401),
    "/api/v1/cases/<int:case_id>/close": ("POST", TOKEN, 401),
    "/api/v1/pushes": ("POST", TOKEN, 401),
    "/api/v1/pushes/jobs/<int:job_id>": ("GET", TOKEN, 401),
    "/api/v1/warnings": ("POST", TOKEN, 401),
    "/warnings/new": ("GET", {"lead", "center"}, 200),
    "/warnings/returns": ("GET", {"center"}, 200),
    "/warnings/lookup": ("POST", {"lead", "center"}, 200),
    "/warnings/returns/group": ("POST", {"center"}, 302),  # without a reason: back with a message
    "/cases/<int:case_id>/return": ("POST", {"center"}, 302),  # a routed case nobody asked to send back: refused
    "/warnings/<int:warning_id>/undo-return": ("POST", {"center"}, 302),  # not returned: refused, back
    "/cases/<int:case_id>/request-return": ("POST", {"lead"}, 302),  # without a reason: back with a message
    "/api/v1/activities": ("GET", TOKEN, 401),
    "/api/v1/openapi.json": ("GET", PUBLIC, 200),
}


def _rules(app) -> set[str]:
    return {rule.rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"}


def test_every_route_has_an_expectation(app):
    missing = _rules(app) - set(EXPECTED)
    assert not missing, f"routes without an access expectation in tests/test_access.py: {sorted(missing)}"
    assert not set(EXPECTED) - _rules(app), "expectations for routes that no longer exist"


@pytest.fixture
def ids(make_case, make_user):
    """Objects every allowed role may reach: a pool case of PCS01, an officer account."""
    case = make_case(precinct="PCS01", community="无民警社区")
    followup = schedule(case, FollowUpKind.MANUAL, Method.PHONE, now() + dt.timedelta(days=1))
    report = WeeklyReport(week="2026-W47", precinct_id=case.precinct_id,
                          data=compute_report("2026-W47", case.precinct))
    push = Push(file_name="名单.csv", sha256="0" * 64)
    activity = Activity(precinct_id=case.precinct_id, kind=ActivityKind.LECTURE, held_on=now().date(), place="礼堂",
                        people=10)
    job = Job(kind="imports.commit", ref="", payload={"file_name": "名单.csv"})
    db.session.add_all([report, push, activity, job])
    lead = make_user("lead", precinct="PCS01")
    entry = create_entry(find_or_create_person("关注人", phone="13900001111"), EntryInput(
        kind_id=kind_by_code("returnee").id, precinct_id=case.precinct_id, officer_id=lead.id), lead)
    officer = make_user("officer", precinct="PCS01")
    note = notify(officer.id, "assigned", "新指派任务", case_id=case.id)
    db.session.commit()
    return {"case_id": case.id, "user_id": officer.id, "lang": "en", "note_id": note.id,
            "tier": "high", "field": "id", "report_id": report.id, "push_id": push.id,
            "followup_id": followup.id, "warning_id": case.warnings[0].id, "activity_id": activity.id,
            "token_id": 1, "entry_id": entry.id, "job_id": job.id}


def _url(rule: str, ids: dict) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(ids[m.group(1)]), rule)


@pytest.mark.parametrize("role", (None, *ROLES))
def test_each_role_is_allowed_or_denied_as_expected(client, auth, make_user, ids, role):
    if role:
        user = make_user(role, precinct="PCS01")
        if role == "officer":  # a watch entry is seen by the officer responsible for it
            db.session.get(WatchEntry, ids["entry_id"]).officer_id = user.id
            db.session.commit()
        db.session.get(Notification, ids["note_id"]).user_id = user.id  # a notice is followed by its own user
        db.session.commit()
        if role == "center":  # a commit's progress is its own user's
            db.session.get(Job, ids["job_id"]).created_by_id = user.id
            db.session.commit()
        auth.login(user)
    for rule, (method, allowed, ok_status) in EXPECTED.items():
        if rule == "/logout" or allowed == TOKEN:
            continue  # /logout would end the session the other checks need; both are checked below
        response = client.open(_url(rule, ids), method=method)
        if allowed == PUBLIC or (role and role in allowed):
            assert response.status_code not in (401, 403, 404, 500), (role, rule, response.status_code)
            if ok_status:
                assert response.status_code == ok_status, (role, rule, response.status_code)
        elif role is None:
            assert response.status_code == 302 and "/login" in response.headers["Location"], (rule,)
        else:
            assert response.status_code == 403, (role, rule, response.status_code)
    assert client.post("/logout").status_code == 302


@pytest.mark.parametrize("role", ["officer", "lead"])
def test_another_precincts_objects_by_guessed_ids_are_404(client, auth, make_user, make_case, role):
    mine = make_case(precinct="PCS01", community="无民警社区").id
    theirs = [make_case(precinct="PCS02", name="外所的人").id for _ in range(3)]
    auth.login(make_user(role, precinct="PCS01"))
    assert client.get(f"/cases/{mine}").status_code == 200
    missing = client.get(f"/cases/{max(theirs) + 1}")
    assert missing.status_code == 404
    for case_id in theirs:
        response = client.get(f"/cases/{case_id}")
        assert response.status_code == 404
        # "not yours" looks exactly like "does not exist" (the page only repeats its own path)
        assert _page(response, f"/cases/{case_id}") == _page(missing, f"/cases/{max(theirs) + 1}")


def _page(response, path: str) -> str:
    """The page without its own path and CSRF tokens (their signature carries the second they were made in)."""
    html = response.get_data(as_text=True).replace(path, "")
    return re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token" value=""', html)


def test_api_routes_without_a_token_are_401_json(client):
    for rule, (method, allowed, status) in EXPECTED.items():
        if allowed == TOKEN:
            response = client.open(_url(rule, {"case_id": 1, "entry_id": 1, "job_id": 1}), method=method)
            assert response.status_code == status and response.get_json()["error"]["code"] == "unauthorized", rule
