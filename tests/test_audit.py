"""The audit trail is append-only in the database itself, whoever connects."""
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from dissuasion.core.auditlog import AuditEvent, record
from dissuasion.extensions import db


@pytest.fixture
def event_id(app) -> int:
    event = record("login", "user", 1)
    db.session.commit()
    return event.id


@pytest.mark.parametrize("statement", [
    "UPDATE audit_events SET success = false WHERE id = :id",
    "UPDATE audit_events SET username = 'someone-else'",
    "DELETE FROM audit_events WHERE id = :id",
    "DELETE FROM audit_events",
])
def test_updating_or_deleting_an_audit_row_fails(event_id, statement):
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(text(statement), {"id": event_id})
    db.session.rollback()
    assert db.session.get(AuditEvent, event_id).action == "login"


def test_the_orm_cannot_change_or_delete_an_event_either(event_id):
    event = db.session.get(AuditEvent, event_id)
    event.success = False
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEvent, event_id))
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.commit()
    db.session.rollback()
    assert db.session.get(AuditEvent, event_id).success is True


def test_postgresql_refuses_truncate_too(event_id):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's")
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(text("TRUNCATE audit_events"))
    db.session.rollback()


def test_new_events_can_still_be_written(event_id):
    record("export", "cases", "", rows=3)
    db.session.commit()
    assert db.session.scalar(db.select(db.func.count()).select_from(AuditEvent)) == 2


def _events(client, **args) -> str:
    return client.get("/admin/audit", query_string=args).get_data(as_text=True)


def test_admin_filters_the_trail_by_user_action_result_and_date(client, auth, make_user, clock):
    import datetime as dt

    clock(dt.datetime(2026, 11, 18, 2, 0, tzinfo=dt.UTC))
    officer = make_user("officer", username="wang")
    auth.login(officer, "wrong-password-xx")
    auth.login(officer)
    auth.logout()
    clock(dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC))
    auth.login(make_user("admin", username="root"))
    page = _events(client)
    assert "登录失败" in page and "wang" in page and "2026-11-18 10:00" in page  # Asia/Shanghai time
    assert "不是有效的选择" not in page and "Not a valid choice" not in page  # a first visit is no mistake
    assert '<option value="login_failed">登录失败</option>' in page and "<td>民警</td>" in page
    only_failures = _events(client, success="no")
    assert '<span title="login_failed">登录失败</span>' in only_failures
    assert '<span title="login">登录</span>' not in only_failures
    assert "<td>wang</td>" not in _events(client, username="root")
    assert "<td>root</td>" not in _events(client, date_to="2026-11-19")
    assert "<td>wang</td>" in _events(client, date_to="2026-11-19")
    assert "<td>wang</td>" not in _events(client, date_from="2026-11-19")
    assert "没有符合条件的记录" in _events(client, action="totp_enrol")


def test_the_export_is_plain_data_and_is_itself_audited(client, auth, make_user):
    from io import BytesIO

    from openpyxl import load_workbook

    client.post("/login", data={"username": '=HYPERLINK("http://x","y")', "password": "whatever-long-enough"})
    admin = make_user("admin")
    auth.login(admin)
    response = client.get("/admin/audit/export", query_string={"success": "no"})
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "时间" and len(rows) == 2
    assert rows[1][6] == '=HYPERLINK("http://x","y")'  # the attempted name, as text
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    export = db.session.scalar(db.select(AuditEvent).filter_by(action="export", object_type="audit_events"))
    assert export.username == admin.username and export.detail["filters"] == {"success": "no"}


@pytest.mark.parametrize("role", ["officer", "lead", "center"])
def test_only_admins_read_the_trail(client, auth, make_user, role):
    auth.login(make_user(role))
    assert client.get("/admin/audit").status_code == 403
    assert client.get("/admin/audit/export").status_code == 403


def test_every_action_the_code_records_has_words_on_the_audit_page():
    import re
    from pathlib import Path

    import dissuasion
    from dissuasion.audit.labels import ACTIONS
    from dissuasion.cases.operations import REVEALABLE

    source = "\n".join(p.read_text() for p in Path(dissuasion.__file__).parent.rglob("*.py"))
    recorded = set(re.findall(r'record\(\s*"([a-z_]+)"', source)) | set(REVEALABLE.values()) | {"logout"}
    assert recorded and recorded <= set(ACTIONS), recorded - set(ACTIONS)


def test_every_detail_the_code_records_has_words_on_the_audit_page():
    import ast
    from dataclasses import fields
    from pathlib import Path

    import dissuasion
    from dissuasion.audit.labels import DETAILS
    from dissuasion.directory.operations import DirectoryResult

    keys = {"bulk"} | {f.name for f in fields(DirectoryResult) if f.name != "notes"}  # passed as **
    for path in Path(dissuasion.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "record":
                keys |= {k.arg for k in node.keywords if k.arg not in (None, "user", "success")}
    assert keys and keys <= set(DETAILS), keys - set(DETAILS)


def test_the_trail_says_an_events_details_in_words(client, auth, make_user):
    from dissuasion.cases.rules import DEFAULT_RULES, ensure_default_rules, update_rule
    from dissuasion.core.enums import Tier

    officer = make_user("officer", username="wang")
    auth.login(officer, "wrong-password-xx")
    admin = make_user("admin", username="root")
    ensure_default_rules()
    values = {**DEFAULT_RULES[Tier.HIGH], "sign_minutes": 45, "followup_days": [3, 7, 14]}
    update_rule(Tier.HIGH, values, by=admin)
    db.session.commit()
    auth.login(admin)
    page = _events(client)
    assert "原因：密码错误" in page and "reason=password" not in page
    assert "签收时限（分钟） 30 → 45" in page and "回访日 3、7 → 3、7、14" in page


def test_an_events_details_read_as_words_in_either_language(app):
    from flask_babel import force_locale

    from dissuasion.audit.labels import detail_text
    with app.test_request_context():
        with force_locale("zh_CN"):
            assert detail_text({"kind": "lecture", "people": 120}) == "类型：讲座/报告会；受教群众（人次）：120"
        with force_locale("en"):
            english = detail_text({"kind": "lecture", "people": 120})
    assert "：" not in english and "；" not in english and "lecture" not in english and "; " in english
