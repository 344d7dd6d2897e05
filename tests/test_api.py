"""The case API (issue 5 item 6): tokens, scoping, the worklist, one case, sign, contacts, close, errors."""
import datetime as dt

import pytest

from dissuasion.auth.models import ApiToken
from dissuasion.contacts.models import Contact
from dissuasion.core.auditlog import AuditEvent
from dissuasion.core.enums import CaseStatus
from dissuasion.core.timeutil import now
from dissuasion.extensions import db

ERROR_KEYS = {"code", "message", "fields"}


def call_payload(version, **extra):
    return {"method": "phone", "reached": "self", "outcome": None, "note": "已电话提醒", "version": version,
            **extra}


def assert_error(response, status, code):
    body = response.get_json()
    assert response.status_code == status, body
    assert set(body["error"]) == ERROR_KEYS and body["error"]["code"] == code, body
    return body["error"]


def test_cli_creates_a_token_that_is_stored_only_as_its_hash(runner, client, make_user):
    user = make_user("officer", precinct="PCS01", username="li")
    result = runner.invoke(args=["api-token", "create", "li"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    stored = db.session.scalar(db.select(ApiToken))
    assert stored.user_id == user.id and token not in stored.token_hash and len(stored.token_hash) == 64
    assert db.session.scalar(db.select(AuditEvent).filter_by(action="api_token_create")) is not None
    response = client.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(ApiToken, stored.id).last_used_at is not None
    assert runner.invoke(args=["api-token", "create", "nobody"]).exit_code == 1


def test_no_token_a_wrong_one_or_a_revoked_one_is_401(client, make_user, bearer):
    headers = bearer(make_user("officer"))
    assert_error(client.get("/api/v1/cases"), 401, "unauthorized")
    assert_error(client.get("/api/v1/cases", headers={"Authorization": "Bearer wrong"}), 401, "unauthorized")
    db.session.scalar(db.select(ApiToken)).revoked = True
    db.session.commit()
    assert_error(client.get("/api/v1/cases", headers=headers), 401, "unauthorized")


def test_a_logged_in_session_without_a_token_is_not_enough(client, auth, make_user):
    auth.login(make_user("officer"))
    assert_error(client.post("/api/v1/cases/1/sign"), 401, "unauthorized")


def test_admin_tokens_get_no_case_content(client, make_user, bearer):
    assert_error(client.get("/api/v1/cases", headers=bearer(make_user("admin"))), 403, "forbidden")


def test_worklist_is_scoped_ordered_and_filtered(client, make_user, make_case, bearer, clock):
    me = make_user("officer", precinct="PCS01")
    low = make_case(tier="low", assignee=me, name="低")
    high = make_case(tier="high", name="高", community="无民警社区")
    make_case(precinct="PCS02", name="外所")
    make_case(assignee=make_user("officer", precinct="PCS01"), name="同事的")
    headers = bearer(me)
    body = client.get("/api/v1/cases", headers=headers).get_json()
    assert [c["id"] for c in body["items"]] == [high.id, low.id]
    assert (body["total"], body["page"], body["per_page"]) == (2, 1, 50)
    first = body["items"][0]
    assert first["precinct"] == "PCS01" and first["tier"] == "high" and first["status"] == "new"
    assert first["person"]["phone_masked"].count("*") == 4 and first["assignee"] is None
    assert first["sign_deadline"].endswith("+08:00") and first["overdue"] is False and first["version"] == 1
    mine = client.get("/api/v1/cases?assignee=me", headers=headers).get_json()
    assert [c["id"] for c in mine["items"]] == [low.id]
    assert client.get("/api/v1/cases?tier=low", headers=headers).get_json()["total"] == 1
    clock(now() + dt.timedelta(hours=1))  # the high case's sign-for limit (30 min) has passed
    overdue = client.get("/api/v1/cases?overdue=true", headers=headers).get_json()
    assert [c["id"] for c in overdue["items"]] == [high.id] and overdue["items"][0]["overdue"] is True
    bad = assert_error(client.get("/api/v1/cases?status=open&assignee=you", headers=headers), 400, "invalid")
    assert set(bad["fields"]) == {"status", "assignee"}


def test_one_case_with_contacts_followups_and_warnings_masked(client, make_user, make_case, bearer):
    me = make_user("officer", precinct="PCS01")
    case = make_case(tier="medium", assignee=me, id_number="11010519491231002X", phone="13800138000")
    body = client.get(f"/api/v1/cases/{case.id}", headers=bearer(me)).get_json()
    assert body["person"]["id_number_masked"] != "11010519491231002X"
    assert "13800138000" not in str(body) and "11010519491231002X" not in str(body)
    assert body["warnings"][0]["tier"] == "medium" and body["contacts"] == [] and "followups" in body


@pytest.mark.parametrize("role", ["officer", "lead"])
def test_another_precincts_case_is_404_like_a_missing_one(client, make_user, make_case, bearer, role):
    theirs = make_case(precinct="PCS02")
    headers = bearer(make_user(role, precinct="PCS01"))
    for method, url in [("GET", "/api/v1/cases/{}"), ("POST", "/api/v1/cases/{}/sign"),
                        ("POST", "/api/v1/cases/{}/contacts"), ("POST", "/api/v1/cases/{}/close")]:
        assert_error(client.open(url.format(theirs.id), method=method, headers=headers, json={}), 404, "not_found")
        assert_error(client.open(url.format(theirs.id + 1), method=method, headers=headers, json={}), 404,
                     "not_found")


def test_sign_then_a_second_sign_is_409(client, make_user, make_case, bearer):
    me = make_user("officer", precinct="PCS01")
    case = make_case(community="无民警社区")
    headers = bearer(me)
    body = client.post(f"/api/v1/cases/{case.id}/sign", headers=headers).get_json()
    assert body["status"] == "signed" and body["assignee"]["username"] == me.username  # taken from the pool
    assert_error(client.post(f"/api/v1/cases/{case.id}/sign", headers=headers), 409, "conflict")


def test_the_center_reads_but_does_not_work_cases(client, make_user, make_case, bearer):
    case = make_case()
    headers = bearer(make_user("center"))
    assert client.get(f"/api/v1/cases/{case.id}", headers=headers).status_code == 200
    assert_error(client.post(f"/api/v1/cases/{case.id}/sign", headers=headers), 403, "forbidden")


def test_a_contact_is_logged_like_the_page_logs_it(client, make_user, make_case, bearer):
    me = make_user("officer", precinct="PCS01")
    case = make_case(tier="medium", assignee=me)
    payload = call_payload(case.version, reached="relative", relative={"relation": "女儿", "phone": "139 0013 9000"},
                           app="registered_now", contacted_at=now().isoformat())
    response = client.post(f"/api/v1/cases/{case.id}/contacts", headers=bearer(me), json=payload)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["contact"]["relative"] == {"relation": "女儿", "phone_masked": "139****9000"}
    assert body["case"]["status"] == "in_progress" and body["case"]["version"] > 1
    assert db.session.scalar(db.select(Contact)).relative_phone == "13900139000"


def test_a_stale_version_is_409_saying_what_changed_and_saves_nothing(client, make_user, make_case, bearer):
    me = make_user("lead", precinct="PCS01")
    case = make_case(tier="medium")
    headers = bearer(me)
    assert client.post(f"/api/v1/cases/{case.id}/sign", headers=headers).status_code == 200
    error = assert_error(client.post(f"/api/v1/cases/{case.id}/contacts", headers=headers,
                                     json=call_payload(1)), 409, "stale")
    assert "任务已被" in error["message"] and "签收" in error["message"]
    assert db.session.scalar(db.select(Contact)) is None


def test_invalid_contact_is_400_with_fields_and_a_missing_version_too(client, make_user, make_case, bearer):
    me = make_user("officer", precinct="PCS01")
    case = make_case(assignee=me)
    headers = bearer(me)
    url = f"/api/v1/cases/{case.id}/contacts"
    error = assert_error(client.post(url, headers=headers, json=call_payload(
        case.version, outcome="dissuaded", amount_dissuaded="-5", method="fax")), 400, "invalid")
    assert {"amount_dissuaded", "method"} <= set(error["fields"])
    assert "version" in assert_error(client.post(url, headers=headers, json={"method": "phone"}), 400,
                                     "invalid")["fields"]
    assert_error(client.post(url, headers=headers, data="not json"), 400, "invalid")
    assert db.session.scalar(db.select(Contact)) is None


def test_close_needs_an_outcome_and_a_visit_for_a_high_case(client, make_user, make_case, bearer):
    me = make_user("officer", precinct="PCS01")
    high, medium = make_case(tier="high", assignee=me), make_case(tier="medium", assignee=me)
    headers = bearer(me)
    assert "outcome" in assert_error(client.post(f"/api/v1/cases/{medium.id}/close", headers=headers,
                                                 json={"version": 1}), 400, "invalid")["fields"]
    refused = assert_error(client.post(f"/api/v1/cases/{high.id}/close", headers=headers, json={
        "outcome": "false_alarm", "reason": "误报", "version": high.version}), 409, "conflict")
    assert "面见" in refused["message"]
    closed = client.post(f"/api/v1/cases/{medium.id}/close", headers=headers,
                         json={"outcome": "false_alarm", "reason": "中心通知误报", "version": medium.version})
    assert closed.status_code == 200 and closed.get_json()["status"] == "closed"
    db.session.expire_all()
    assert db.session.get(type(medium), medium.id).status == CaseStatus.CLOSED
    assert db.session.get(type(high), high.id).status == CaseStatus.NEW


def test_json_errors_for_unknown_api_paths(client):
    assert_error(client.get("/api/v1/nothing-here"), 404, "not_found")
