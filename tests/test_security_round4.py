"""Security, fourth round: each finding of this round's attack on main, replayed, is refused."""
import datetime as dt
import io
import json
import re
import zipfile

import pyotp
import pytest
from sqlalchemy import select, text

from dissuasion.auth.models import User
from dissuasion.core.auditlog import AuditEvent
from dissuasion.core.timeutil import UTC
from dissuasion.extensions import db
from tests.conftest import PASSWORD, Auth, totp_code

T0 = dt.datetime(2026, 11, 16, 1, 0, tzinfo=UTC)
PHONE, MASKED = "13912345678", "139****5678"


def _session_cookie(client) -> str:
    return client.get_cookie("session").value


def _session_of(app, cookie: str) -> dict:
    return app.session_interface.get_signing_serializer(app).loads(cookie)


# --- finding 1: the second step obeys the lock, and an old copy of the pending login is worth nothing -------------

def test_an_old_copy_of_the_pending_login_tries_one_code_at_most(app, client, make_user, clock):
    clock(T0)
    user = make_user("admin")
    client.post("/login", data={"username": user.username, "password": PASSWORD})
    pending = _session_cookie(client)
    for _attempt in range(8):  # the same cookie each time, as a script replaying it would send
        client.set_cookie("session", pending)
        client.post("/login/totp", data={"code": "000000"})
    db.session.expire_all()
    assert db.session.get(User, user.id).failed_logins == 1  # the other seven were never checked
    client.set_cookie("session", pending)
    response = client.post("/login/totp", data={"code": totp_code()})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.get("/admin/users").status_code == 302  # not logged in


def test_a_pending_login_of_an_account_locked_since_tries_no_code(client, make_user, clock):
    clock(T0)
    user = make_user("admin")
    client.post("/login", data={"username": user.username, "password": PASSWORD})
    db.session.get(User, user.id).locked_until = T0 + dt.timedelta(minutes=15)  # e.g. by an admin, or elsewhere
    db.session.commit()
    response = client.post("/login/totp", data={"code": totp_code()}, follow_redirects=True)
    assert "账号已暂时锁定" in response.get_data(as_text=True)
    assert client.get("/admin/users").status_code == 302


def test_a_copy_of_the_pending_login_taken_before_a_wrong_code_is_refused(app, client, make_user, clock):
    clock(T0)
    user = make_user("admin")
    client.post("/login", data={"username": user.username, "password": PASSWORD})
    before = _session_cookie(client)
    assert "验证码不正确" in client.post("/login/totp", data={"code": "000000"}).get_data(as_text=True)
    after = _session_cookie(client)
    client.set_cookie("session", before)
    assert client.post("/login/totp", data={"code": totp_code()}).headers["Location"] == "/login"
    fresh = app.test_client()  # the owner, who goes on from the answer they were given, still gets in
    fresh.set_cookie("session", after)
    assert fresh.post("/login/totp", data={"code": totp_code()}).headers["Location"] == "/"


def test_a_throttled_address_tries_no_codes(app, client, make_user, clock):
    clock(T0)
    user = make_user("admin")
    client.post("/login", data={"username": user.username, "password": PASSWORD})
    app.config["LOGIN_IP_MAX_FAILURES"] = 3
    try:
        for n in range(3):  # someone else at the same address guessing other names
            app.test_client().post("/login", data={"username": f"nobody{n}", "password": "x" * 12})
        response = client.post("/login/totp", data={"code": totp_code()}, follow_redirects=True)
    finally:
        app.config.pop("LOGIN_IP_MAX_FAILURES")
    assert "登录尝试过于频繁" in response.get_data(as_text=True)
    assert client.get("/admin/users").status_code == 302


def test_the_secret_being_enrolled_is_not_readable_in_the_cookie(app, client, make_user):
    user = make_user("center", totp_secret=None)
    client.post("/login", data={"username": user.username, "password": PASSWORD})
    page = client.get("/login/totp/setup").get_data(as_text=True)
    secret = page.split('<code class="secret">')[1].split("<")[0]
    assert secret not in json.dumps(_session_of(app, _session_cookie(client)))
    assert client.post("/login/totp/setup", data={"code": pyotp.TOTP(secret).now()}).status_code == 302


def test_the_code_that_turned_on_the_second_factor_does_not_log_in_again(app, client, auth, make_user, clock):
    clock(T0)
    user = make_user("officer")
    auth.login(user)
    page = client.get("/account/totp").get_data(as_text=True)
    secret = page.split('<code class="secret">')[1].split("<")[0]
    assert secret not in json.dumps(_session_of(app, _session_cookie(client)))
    code = totp_code(secret)
    assert client.post("/account/totp", data={"code": code}).status_code == 302
    other = app.test_client()
    other.post("/login", data={"username": user.username, "password": PASSWORD})
    assert "验证码不正确" in other.post("/login/totp", data={"code": code}).get_data(as_text=True)


# --- finding 2: numbers typed into a reason for sending a case back are masked like other notes -----------------

def test_a_number_in_a_return_request_is_masked_on_pages_the_audit_log_and_the_feedback(
        app, client, auth, make_user, make_case, bearer, clock):
    clock(T0)
    case = make_case(precinct="PCS01")
    lead, center, admin = make_user("lead", precinct="PCS01"), make_user("center"), make_user("admin")
    auth.login(lead)
    client.post(f"/cases/{case.id}/request-return", data={"reason": f"此人 {PHONE} 住外县"})
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert MASKED in page and PHONE not in page
    shown = client.post(f"/cases/{case.id}/reveal/notes").get_data(as_text=True)
    assert PHONE in shown  # shown on request, audited as any note's numbers
    auth.logout()
    auth.login(center)
    returns = client.get("/warnings/returns").get_data(as_text=True)
    assert MASKED in returns and PHONE not in returns
    client.post(f"/cases/{case.id}/return", data={"reason": f"户籍在邻县 {PHONE}"})
    feedback = client.get("/api/v1/feedback?from=2026-11-01&to=2026-11-30", headers=bearer(center)).json
    assert [row["return_reason"] for row in feedback["items"]] == [f"户籍在邻县 {MASKED}"]
    auth.logout()
    auth.login(admin)
    audit = client.get("/admin/audit").get_data(as_text=True)
    assert MASKED in audit and PHONE not in audit
    stored = db.session.scalars(select(AuditEvent.detail).where(AuditEvent.action.like("%return%"))).all()
    assert stored and PHONE not in json.dumps(stored, ensure_ascii=False)


# --- finding 4: a workbook of millions of tiny shared strings is refused before they are built --------------------

def test_a_workbook_with_more_shared_strings_than_a_list_needs_is_refused(client, center, monkeypatch):
    import xlsxwriter

    from dissuasion.imports import readers
    from tests.pushfiles import row, table
    monkeypatch.setattr(readers, "MAX_SHARED_STRINGS", 50)
    buffer = io.BytesIO()
    with xlsxwriter.Workbook(buffer) as book:  # text as Excel writes it: in the shared strings
        sheet = book.add_worksheet()
        for number, values in enumerate(table([row(n) for n in range(1, 4)])):
            sheet.write_row(number, 0, [str(v) for v in values])
    data = buffer.getvalue()
    fine = client.post("/imports/preview", data={"file": (io.BytesIO(data), "名单.xlsx")},
                       content_type="multipart/form-data")
    assert fine.status_code == 200 and "确认导入" in fine.get_data(as_text=True)
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        for item in source.infolist():
            body = source.read(item)
            if item.filename == "xl/sharedStrings.xml":
                body = body.replace(b"</sst>", b"<si><t>a</t></si>" * 60 + b"</sst>")
            bomb.writestr(item, body)
    refused = client.post("/imports/preview", data={"file": (io.BytesIO(out.getvalue()), "名单.xlsx")},
                          content_type="multipart/form-data")
    assert refused.status_code == 422 and "条不同的文字，远多于一份名单所需" in refused.get_data(as_text=True)
    # the same part under another spelling of its name, with no relationship leading to it: the reader takes it
    for name in ("xl/SharedStrings.xml", "xl\\sharedStrings.xml"):
        hidden = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(out.getvalue())) as bomb, zipfile.ZipFile(hidden, "w") as renamed:
            for item in bomb.infolist():
                body = bomb.read(item)
                if item.filename == "xl/_rels/workbook.xml.rels":
                    body = re.sub(rb"<Relationship[^>]*sharedStrings[^>]*/>", b"", body)
                renamed.writestr(name if item.filename == "xl/sharedStrings.xml" else item.filename, body)
        refused = client.post("/imports/preview", data={"file": (io.BytesIO(hidden.getvalue()), "名单.xlsx")},
                              content_type="multipart/form-data")
        assert refused.status_code == 422 and "远多于一份名单所需" in refused.get_data(as_text=True), name


# --- finding 5: numbers and dates out of any range are a clear answer, not a server error ----------------------

@pytest.mark.parametrize("path", ["/prevention/?page=99999999999999999999", "/cases/board?page=99999999999999999999",
                                  "/watch/?community=99999999999999999999", "/cases/?page=99999999999999999999",
                                  "/admin/audit?page=-5"])
def test_a_page_or_id_too_big_for_the_database_is_taken_as_not_given(client, auth, make_user, path):
    role = "admin" if path.startswith("/admin") else "lead"
    auth.login(make_user(role, precinct="PCS01") if role == "lead" else make_user(role))
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("path", ["/reports/weekly?week=9999-W52", "/reports/weekly?week=0001-W01",
                                  "/reports/summary?from=9999-12-01&to=9999-12-31",
                                  "/reports/feedback.xlsx?from=0001-01-01&to=9999-12-31",
                                  "/watch/assessment?month=9999-12"])
def test_a_date_outside_any_report_is_an_answer_not_a_server_error(client, auth, make_user, path):
    auth.login(make_user("center"))
    response = client.get(path, follow_redirects=True)
    assert response.status_code in (200, 404), response.status_code  # a week or month that is not: as before
    if response.status_code == 200:
        assert "请填写开始和结束日期" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/api/v1/cases?page=99999999999999999999",
                                  "/api/v1/watch?community_id=99999999999999999999",
                                  "/api/v1/reports/weekly?week=9999-W52",
                                  "/api/v1/feedback?from=0001-01-01&to=9999-12-31"])
def test_the_api_answers_out_of_range_numbers_and_dates_without_a_server_error(client, make_user, bearer, path):
    response = client.get(path, headers=bearer(make_user("center")))
    assert response.status_code in (200, 400) and response.is_json, (response.status_code, response.data[:200])


def test_a_summary_pasted_with_control_characters_still_downloads(client, auth, make_user):
    auth.login(make_user("center"))
    response = client.post("/reports/summary.docx", data={"text": "本周小结\x01\n劝阻\x0b 3 人"})
    assert response.status_code == 200 and response.data[:2] == b"PK"


# --- finding 6: a commit's progress is its own user's ------------------------------------------------------------

def test_another_center_user_cannot_read_a_commit_job(app, client, make_user, bearer, directory):
    from dissuasion.jobs.operations import enqueue
    owner, other = make_user("center"), make_user("center")
    job = enqueue("imports.commit", "x", by=owner, payload={})
    db.session.commit()
    Auth(client).login(other)
    assert client.get(f"/imports/jobs/{job.id}.json").status_code == 404
    assert client.get(f"/api/v1/pushes/jobs/{job.id}", headers=bearer(other)).status_code == 404
    mine = app.test_client()
    Auth(mine).login(owner)
    assert mine.get(f"/imports/jobs/{job.id}.json").status_code == 200
    assert mine.get(f"/api/v1/pushes/jobs/{job.id}", headers=bearer(owner)).status_code == 200



# --- second look: numbers written the way people write them are found too ----------------------------------------

@pytest.mark.parametrize(("written", "shown"), [
    ("电话138-0013-8000", "电话138****8000"), ("电话 138 0013 8000", "电话 138****8000"),
    ("+8613912345678", "139****5678"), ("0086 139 1234 5678", "139****5678"), ("86-13912345678", "139****5678"),
    ("１３７００１３７０００", "137****7000"), ("身份证110105 19491231 002X", "身份证1101**********002X"),
    ("身份证110105-1949-1231-002x", "身份证1101**********002X"),
])
def test_numbers_written_in_groups_from_abroad_or_full_width_are_masked(written, shown):
    from dissuasion.privacy.freetext import has_numbers, mask_numbers
    assert has_numbers(written) and mask_numbers(written) == shown


@pytest.mark.parametrize("text", ["编号YJ2026111800001", "账号 6222021234567890123", "金额 5000 元", "2026-11-18 09:30",
                                  "1380013800"])
def test_other_runs_of_digits_are_left_alone(text):
    from dissuasion.privacy.freetext import has_numbers, mask_numbers
    assert not has_numbers(text) and mask_numbers(text) == text


def test_a_dashed_phone_in_a_return_request_is_stored_encrypted_and_shown_masked(client, auth, make_user, make_case,
                                                                                 clock):
    clock(T0)
    case = make_case(precinct="PCS01")
    auth.login(make_user("lead", precinct="PCS01"))
    client.post(f"/cases/{case.id}/request-return", data={"reason": "户籍外县，本人电话 138-0013-8000"})
    stored = db.session.execute(text("SELECT return_request_reason FROM cases WHERE id = :id"), {"id": case.id})
    assert "138-0013-8000" not in stored.scalar_one()
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "138****8000" in page and "138-0013-8000" not in page


def test_guessing_the_current_password_on_the_password_form_locks_the_account(client, auth, make_user, clock):
    clock(T0)
    user = make_user("officer")
    auth.login(user)
    for _attempt in range(5):
        client.post("/password", data={"current": "guess-number-x", "new": "a-new-pass-2026",
                                       "confirm": "a-new-pass-2026"})
    page = client.post("/password", data={"current": PASSWORD, "new": "a-new-pass-2026",
                                          "confirm": "a-new-pass-2026"}).get_data(as_text=True)
    assert "账号已暂时锁定" in page
    db.session.expire_all()
    assert db.session.get(User, user.id).locked_until is not None
    assert db.session.scalar(select(AuditEvent.id).filter_by(action="account_locked")) is not None


def test_the_new_password_must_differ_from_the_current_one(client, auth, make_user):
    auth.login(make_user("officer"))
    page = client.post("/password", data={"current": PASSWORD, "new": PASSWORD, "confirm": PASSWORD}).get_data(
        as_text=True)
    assert "新密码不能与当前密码相同" in page


# --- second look: ids in paths and forms, and times of year 1 or 9999, are answers, not 500s ------------------------

HUGE = "99999999999999999999"


@pytest.mark.parametrize("path", [f"/cases/{HUGE}", f"/watch/{HUGE}", f"/imports/{HUGE}", f"/imports/jobs/{HUGE}"])
def test_an_id_too_big_for_the_database_in_a_path_is_not_found(client, auth, make_user, path):
    auth.login(make_user("center"))
    assert client.get(path).status_code == 404


def test_an_officer_that_names_nobody_is_refused_not_taken_as_the_pool(client, auth, make_user, make_case):
    lead, officer = make_user("lead", precinct="PCS01"), make_user("officer", precinct="PCS01")
    case = make_case(precinct="PCS01", assignee=officer)
    auth.login(lead)
    for value in (HUGE, "999999", "²"):
        response = client.post(f"/cases/{case.id}/assign", data={"officer": value}, follow_redirects=True)
        assert response.status_code == 200 and "所选民警不存在" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(type(case), case.id).assignee_id == officer.id
    assert client.post("/cases/assign", data={"case_ids": HUGE, "officer": ""}).status_code in (302, 400)


@pytest.mark.parametrize(("path", "field"), [("contact", "contacted_at"), ("followups", "due_at")])
def test_a_time_of_year_one_on_a_case_form_is_refused_with_words(client, auth, make_user, make_case, clock, path,
                                                                 field):
    clock(T0)
    officer = make_user("officer", precinct="PCS01")
    case = make_case(precinct="PCS01", assignee=officer)
    auth.login(officer)
    data = {"method": "phone", "reached": "self", "version": str(case.version), "action": "again",
            field: "0001-01-01T00:00"}
    response = client.post(f"/cases/{case.id}/{path}", data=data)
    assert response.status_code in (200, 302, 400), response.status_code


def test_watch_times_and_days_out_of_range_are_refused(client, auth, make_user, make_case, clock, bearer):
    from dissuasion.watch.models import WatchEntry
    clock(T0)
    lead = make_user("lead", precinct="PCS01")
    case = make_case(precinct="PCS01", assignee=make_user("officer", precinct="PCS01"))
    auth.login(lead)
    client.post(f"/watch/from-case/{case.id}")
    entry = db.session.scalar(select(WatchEntry))
    met = client.post(f"/watch/{entry.id}/meetings", data={"met_at": "0001-01-01T00:00", "met_by": "officer",
                                                             "method": "visit", "observed": "在家"})
    assert met.status_code == 400
    api = client.post(f"/api/v1/watch/{entry.id}/meetings", headers=bearer(lead), json={
        "met_at": "0001-01-01T00:00:00+08:00", "met_by": "officer", "method": "visit", "observed": "在家"})
    assert api.status_code == 400
    from dissuasion.watch.operations import kind_by_code
    late = client.post("/watch/new", data={"name": "某人", "phone": "13900001111", "kind": kind_by_code("returnee").id,
                                           "precinct": lead.precinct_id, "officer": lead.id, "interval_days": 7,
                                           "starts_on": "9999-12-20"})
    assert late.status_code == 400 and "开始日期须在一年前到一个月后之间" in late.get_data(as_text=True)
