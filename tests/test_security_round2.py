"""Security, second round (issue 22): each finding of the attack on main, replayed, is refused.

Findings 1 (tokens), 3 (numbers in free text), 4 (uploads on disk), 5 (TOTP twice), 6 (the throttle that locked out
a precinct), 7 (file modes), 8 (CLI accounts' first password). Finding 2 (memory) is tests/test_upload_bounds.py.
"""
import datetime as dt
import io
import os
import stat
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import Text, select, type_coerce

from dissuasion import create_app
from dissuasion.api.tokens import create_api_token
from dissuasion.auth.models import ApiToken, User
from dissuasion.auth.operations import UserError, set_password
from dissuasion.cases.dispatch import transfer
from dissuasion.cases.models import CaseEvent, EarlyWarning
from dissuasion.contacts.models import Contact
from dissuasion.core.auditlog import AuditEvent
from dissuasion.core.timeutil import local, now
from dissuasion.extensions import db
from dissuasion.imports import uploads
from dissuasion.imports.models import PendingUpload
from dissuasion.imports.pipeline import import_file
from dissuasion.privacy.freetext import mask_numbers, numbers_of
from tests import pushfiles as pf
from tests.conftest import PASSWORD, TOTP_SECRET, _test_config, totp_code

T0 = dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC)
WRONG = "not-the-password-at-all"
ID = pf.id_number(7)  # a valid check digit
MOBILE = "13912345678"


def _audit(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).filter_by(action=action).order_by(AuditEvent.id)))


def _raw(column, row_id: int) -> str:
    """What the database holds, not decrypted."""
    table = column.class_.__table__
    return db.session.scalar(select(type_coerce(table.c[column.key], Text)).where(table.c.id == row_id))


# --- 1. API tokens: expiry, revocation, ending with the account, a new address audited --------------------------

def _get(client, token: str, ip: str = "10.0.0.1"):
    return client.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"},
                      environ_base={"REMOTE_ADDR": ip})


def test_a_token_expires_after_90_days_by_default(client, make_user, clock):
    clock(T0)
    user = make_user("center", precinct=None)
    token = create_api_token(user, "push")
    db.session.commit()
    row = db.session.scalar(select(ApiToken))
    assert row.expires_at == T0 + dt.timedelta(days=90)
    clock(T0 + dt.timedelta(days=89))
    assert _get(client, token).status_code == 200
    clock(T0 + dt.timedelta(days=90, seconds=1))
    assert _get(client, token).status_code == 401


def test_a_token_can_be_given_a_shorter_life_but_not_an_endless_one(app, make_user):
    user = make_user("center", precinct=None)
    create_api_token(user, "short", days=7)
    with pytest.raises(UserError, match="1 到 366 天"):
        create_api_token(user, "forever", days=10_000)


def test_its_owner_revokes_a_token_on_their_own_page(client, auth, make_user):
    user = make_user("officer")
    other = make_user("officer")
    token = create_api_token(user, "我的脚本")
    theirs = create_api_token(other, "别人的")
    db.session.commit()
    mine_id = db.session.scalar(select(ApiToken.id).filter_by(name="我的脚本"))
    their_id = db.session.scalar(select(ApiToken.id).filter_by(name="别人的"))
    auth.login(user)
    page = client.get("/account/tokens").get_data(as_text=True)
    assert "我的脚本" in page and "别人的" not in page and "从未使用" in page
    assert "接口令牌" in client.get("/cases/").get_data(as_text=True)  # the header links the page
    refused = client.post(f"/account/tokens/{their_id}/revoke", follow_redirects=True)  # not mine: not found
    assert "没有这个令牌" in refused.get_data(as_text=True)
    assert client.post(f"/account/tokens/{mine_id}/revoke").status_code == 302
    assert _get(client, token).status_code == 401 and _get(client, theirs).status_code == 200
    assert "已吊销" in client.get("/account/tokens").get_data(as_text=True)
    [event] = _audit("api_token_revoke")
    assert event.object_id == str(mine_id) and event.user_id == user.id


def test_the_admin_sees_and_revokes_a_users_tokens_on_the_users_page(client, auth, make_user, clock):
    clock(T0)
    user = make_user("center", precinct=None, username="push-system")
    token = create_api_token(user, "中心推送")
    db.session.commit()
    _get(client, token, ip="192.0.2.8")
    admin = make_user("admin")
    auth.login(admin)
    page = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    token_id = db.session.scalar(select(ApiToken.id))
    assert "中心推送" in page and "192.0.2.8" in page and "有效期至" in page and "上次使用" in page
    assert client.post(f"/admin/users/{user.id}/tokens/{token_id}/revoke").status_code == 302
    assert _get(client, token).status_code == 401


@pytest.mark.parametrize("how", ["admin_resets_password", "admin_disables", "cli_disables"])
def test_a_users_tokens_end_when_an_admin_resets_their_password_or_stops_the_account(
        client, auth, make_user, runner, how):
    user = make_user("officer")
    token = create_api_token(user, "t")
    db.session.commit()
    assert _get(client, token).status_code == 200
    if how == "cli_disables":
        assert runner.invoke(args=["users", "disable", user.username]).exit_code == 0
    else:
        auth.login(make_user("admin"))
        if how == "admin_resets_password":
            client.post(f"/admin/users/{user.id}/password", data={"password": "a-brand-new-initial-pw"})
        else:
            client.post(f"/admin/users/{user.id}", data={"role": "officer", "precinct": "PCS01", "display_name": ""})
    db.session.expire_all()
    assert db.session.scalar(select(ApiToken.revoked))
    if how != "admin_disables":
        enable = runner.invoke(args=["users", "enable", user.username]) if how == "cli_disables" else None
        assert enable is None or enable.exit_code == 0
    assert _get(client, token).status_code == 401  # even with the account back in use


def test_the_user_changing_their_own_password_keeps_their_tokens(app, make_user):
    user = make_user("officer")
    create_api_token(user, "t")
    set_password(user, "my-own-new-password", by=user)
    assert db.session.scalar(select(ApiToken.revoked)) is False


def test_api_token_list_and_revoke_on_the_command_line(runner, make_user):
    user = make_user("center", precinct=None, username="pusher")
    token = create_api_token(user, "中心推送")
    create_api_token(user, "备用")
    db.session.commit()
    listed = runner.invoke(args=["api-token", "list"])
    assert listed.exit_code == 0 and "中心推送" in listed.output and "从未使用" in listed.output
    assert "有效" in listed.output and "到期" in listed.output
    token_id = db.session.scalar(select(ApiToken.id).filter_by(name="中心推送"))
    done = runner.invoke(args=["api-token", "revoke", str(token_id)])
    assert done.exit_code == 0 and "已吊销" in done.output
    assert "已吊销" in runner.invoke(args=["api-token", "list", "pusher"]).output
    assert runner.invoke(args=["api-token", "revoke", "--user", "pusher"]).output.startswith("已吊销 pusher 的 1 个")
    from dissuasion.api.tokens import token_user
    assert token_user(f"Bearer {token}") is None


def test_a_token_used_from_a_new_address_is_audited_once_per_change(client, make_user):
    user = make_user("center", precinct=None)
    token = create_api_token(user, "push")
    db.session.commit()
    for ip in ("10.0.0.1", "10.0.0.1", "203.0.113.50", "203.0.113.50"):
        assert _get(client, token, ip=ip).status_code == 200
    events = _audit("api_token_new_address")
    assert [e.detail["ip"] for e in events] == ["10.0.0.1", "203.0.113.50"]
    assert events[1].detail["previous_ip"] == "10.0.0.1"
    row = db.session.scalar(select(ApiToken))
    assert row.last_used_ip == "203.0.113.50" and row.last_used_at is not None


def test_a_service_account_for_the_pushing_system_cannot_log_in_and_holds_the_token(runner, client):
    result = runner.invoke(args=["users", "create", "push-system", "--role", "center", "--service"])
    assert result.exit_code == 0 and "服务账号" in result.output
    account = db.session.scalar(select(User).filter_by(username="push-system"))
    assert account.password_hash is None
    made = runner.invoke(args=["api-token", "create", "push-system", "--days", "30"])
    assert made.exit_code == 0
    assert client.post("/login", data={"username": "push-system", "password": "anything-at-all"}).status_code == 200
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    assert "--service" in readme and "api-token revoke" in readme


# --- 3. Numbers typed into free text ------------------------------------------------------------------------------

def test_numbers_in_text_are_found_by_their_check_digit_and_shape():
    text = f"女儿电话{MOBILE}，身份证{ID}；预警编号 2026111600001234，错号 339901198501010070"
    assert numbers_of(text) == [MOBILE, ID]
    masked = mask_numbers(text)
    assert MOBILE not in masked and ID not in masked and "139****5678" in masked and ID[:4] + "*" * 10 in masked
    assert "2026111600001234" in masked and "339901198501010070" in masked  # not a phone, not a valid ID


def test_a_number_in_a_contact_note_is_stored_encrypted_shown_masked_and_revealed_with_an_audit(
        client, auth, make_user, make_case, database_file_bytes, clock):
    clock(T0)
    me = make_user("officer")
    case = make_case(assignee=me, tier="medium")
    clock(T0 + dt.timedelta(minutes=20))
    auth.login(me)
    client.post(f"/cases/{case.id}/contact", data={
        "method": "phone", "reached": "relative", "contacted_at": local(now()).strftime("%Y-%m-%dT%H:%M"),
        "version": str(case.version), "action": "again", "relative_relation": "女儿",
        "note": f"本人手机停机，女儿说可打{MOBILE}，身份证{ID}"})
    contact = db.session.scalar(select(Contact))
    assert contact is not None and MOBILE in contact.note  # the officer's words, whole, for whoever may reveal them
    assert _raw(Contact.note, contact.id).startswith("v1:")
    assert MOBILE.encode() not in database_file_bytes() and ID.encode() not in database_file_bytes()
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert MOBILE not in page and ID not in page and "139****5678" in page and "显示记录中的完整号码" in page
    shown = client.post(f"/cases/{case.id}/reveal/notes").get_data(as_text=True)
    assert MOBILE in shown and ID in shown
    [event] = _audit("reveal_notes")
    assert (event.object_id, event.user_id, event.detail["count"]) == (str(case.id), me.id, 2)
    assert MOBILE not in str(event.detail)
    api = client.get(f"/api/v1/cases/{case.id}", headers={"Authorization": "Bearer " + create_api_token(me, "t")})
    db.session.commit()
    assert MOBILE not in api.get_data(as_text=True)


def test_a_transfer_reason_with_a_number_is_masked_on_the_timeline_and_encrypted(app, make_user, make_case,
                                                                                  make_precinct):
    lead = make_user("lead")
    case = make_case()
    west = make_precinct("PCS02", communities=("西街社区",))
    new = transfer(case, west, None, f"此人已搬到城西，电话{MOBILE}", lead)
    db.session.commit()
    for c in (case, new):
        event = db.session.scalar(select(CaseEvent).where(CaseEvent.case_id == c.id, CaseEvent.message != "")
                                  .order_by(CaseEvent.id.desc()))
        assert MOBILE in event.message and _raw(CaseEvent.message, event.id).startswith("v1:")
        assert MOBILE not in mask_numbers(event.text) and MOBILE not in str(event.data)  # the stored sentence too


def test_the_imports_second_number_is_kept_whole_encrypted_and_masked_one_mechanism(directory, database_file_bytes):
    headers = ["联系电话"] + pf.STANDARD
    lines = [headers, [MOBILE] + [pf.row(1).get(h, "") for h in pf.STANDARD]]
    out = io.StringIO()
    import csv
    csv.writer(out).writerows(lines)
    import_file("two.csv", out.getvalue().encode("utf-8-sig"))
    db.session.commit()
    warning = db.session.scalar(select(EarlyWarning))
    assert f"联系电话另有：{MOBILE}" in warning.notes and _raw(EarlyWarning.notes, warning.id).startswith("v1:")
    assert MOBILE.encode() not in database_file_bytes()
    assert "联系电话另有：139****5678" in mask_numbers(warning.notes)


def test_existing_notes_with_a_number_are_encrypted_by_the_migration(app, make_case):
    import importlib

    import sqlalchemy as sa
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    from dissuasion.core.enums import Method, Reached
    case = make_case()
    contact = Contact(case=case, method=Method.PHONE, reached=Reached.SELF, contacted_at=now(), note="x")
    db.session.add(contact)
    db.session.commit()
    plain = sa.table("contacts", sa.column("id", sa.Integer), sa.column("note", sa.Text))
    for note, contact_id in ((f"旧记录：女儿 {MOBILE}", contact.id),):
        db.session.execute(plain.update().where(plain.c.id == contact_id).values(note=note))
    db.session.commit()
    assert _raw(Contact.note, contact.id) == f"旧记录：女儿 {MOBILE}"  # as main stored it
    migration = importlib.import_module("migrations.versions.a22c5e7d9b10_security_second_round")
    with Operations.context(MigrationContext.configure(db.session.connection())):
        migration.encrypt_existing()
    db.session.commit()
    db.session.expire_all()
    assert _raw(Contact.note, contact.id).startswith("v1:")
    assert db.session.get(Contact, contact.id).note == f"旧记录：女儿 {MOBILE}"


# --- 4. Uploads waiting for a commit ------------------------------------------------------------------------------

def test_an_upload_waits_encrypted_in_the_database_and_nothing_lands_in_the_instance_folder(
        client, auth, make_user, app, tmp_path, directory, database_file_bytes):
    app.instance_path = str(tmp_path / "instance")
    auth.login(make_user("center", precinct=None))
    data = pf.csv_bytes([pf.row(1, 手机号=MOBILE, 身份证号=ID)])
    page = client.post("/imports/preview", data={"file": (io.BytesIO(data), "名单.csv")},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert "预览" in page or "导入" in page
    assert not (tmp_path / "instance").exists()  # no web host keeps anything of it: the commit may land elsewhere
    kept = db.session.scalar(select(PendingUpload))
    assert kept.data and kept.analysis  # the file and the preview's judgement of it, sealed
    for sealed in (kept.data, kept.analysis):
        assert MOBILE.encode() not in sealed and ID.encode() not in sealed and "测试1".encode() not in sealed
    assert MOBILE.encode() not in database_file_bytes() and "测试1".encode() not in database_file_bytes()
    token = page.split('name="token" type="hidden" value="')[1].split('"')[0]
    assert client.post("/imports/commit", data={"token": token}).status_code == 302  # and it still commits
    assert db.session.scalar(select(PendingUpload)) is None  # gone with the commit


def test_an_abandoned_preview_is_removed_within_two_hours_by_the_scheduler(app, make_user, clock):
    from dissuasion import scheduler
    from dissuasion.imports.tasks import remove_abandoned_uploads

    user = make_user("center", precinct=None)
    clock(now())
    upload = uploads.save_upload("a.csv", b"data", user)
    db.session.commit()
    assert uploads.load_upload(upload.token, user).data == b"data"
    clock(now() + dt.timedelta(hours=2, seconds=1))
    assert remove_abandoned_uploads() == 1 and uploads.load_upload(upload.token, user) is None
    job = next(j for j in scheduler.JOBS if j.id == "imports.abandoned_uploads")
    assert job.trigger["minutes"] <= 120 - 2 * 60 + 10  # runs every 10 minutes at most


# --- 5. A TOTP code is good once ----------------------------------------------------------------------------------

def test_the_same_totp_code_does_not_log_in_twice(app, make_user, clock):
    clock(T0)
    user = make_user("center", precinct=None)
    code = totp_code()
    first, second = app.test_client(), app.test_client()
    for browser in (first, second):
        assert browser.post("/login", data={"username": user.username, "password": PASSWORD}).status_code == 302
    assert first.post("/login/totp", data={"code": code}).status_code == 302
    replay = second.post("/login/totp", data={"code": code})
    assert replay.status_code == 200 and "验证码不正确" in replay.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).totp_last_step == pyotp.TOTP(TOTP_SECRET).timecode(T0)
    # an earlier step's code, still within the window, is no good either once a later one was used
    earlier = pyotp.TOTP(TOTP_SECRET).at(T0 - dt.timedelta(seconds=30))
    assert second.post("/login/totp", data={"code": earlier}).status_code == 200
    # the next step's code works
    clock(T0 + dt.timedelta(seconds=30))
    assert second.post("/login/totp", data={"code": totp_code()}).status_code == 302


# --- 6. The throttle that locked out a precinct -------------------------------------------------------------------

def test_twenty_mistakes_at_one_station_do_not_stop_its_other_officers(app, make_user, clock):
    clock(T0)
    officers = [make_user("officer") for _ in range(6)]
    station = app.test_client()
    station.environ_base["REMOTE_ADDR"] = "198.51.100.20"  # the precinct's NAT
    for n in range(20):  # the finding: 20 failed logins from one address
        station.post("/login", data={"username": officers[n % 5].username, "password": WRONG})
    colleague = app.test_client()
    colleague.environ_base["REMOTE_ADDR"] = "198.51.100.20"
    assert colleague.post("/login", data={"username": officers[5].username, "password": PASSWORD}).status_code == 302


def test_one_name_guessed_from_one_address_is_held_back_there_only(app, make_user, clock):
    clock(T0)
    app.config["LOGIN_IP_USER_MAX_FAILURES"] = 3
    user = make_user("officer")
    guesser = app.test_client()
    guesser.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    for _ in range(3):
        guesser.post("/login", data={"username": "someone-else", "password": WRONG})
    refused = guesser.post("/login", data={"username": "someone-else", "password": WRONG})
    assert refused.status_code == 429
    assert guesser.post("/login", data={"username": user.username, "password": PASSWORD}).status_code == 302


def test_the_per_address_cap_is_much_higher_and_an_admin_clears_it(app, client, auth, make_user, clock):
    clock(T0)
    from dissuasion.auth import login as policy
    assert policy.IP_MAX_FAILURES >= 10 * policy.IP_USER_MAX_FAILURES
    app.config["LOGIN_IP_MAX_FAILURES"] = 4  # fewer argon2 checks here
    user = make_user("officer")
    station = app.test_client()
    station.environ_base["REMOTE_ADDR"] = "198.51.100.30"
    for n in range(4):
        station.post("/login", data={"username": f"typo{n}", "password": WRONG})
    assert station.post("/login", data={"username": user.username, "password": PASSWORD}).status_code == 429
    auth.login(make_user("admin"))
    page = client.get("/admin/users").get_data(as_text=True)
    assert "198.51.100.30" in page and "解除限制" in page
    assert client.post("/admin/users/throttle/clear", data={"ip": "198.51.100.30"}).status_code == 302
    assert "登录受限的地址" not in client.get("/admin/users").get_data(as_text=True)
    assert station.post("/login", data={"username": user.username, "password": PASSWORD}).status_code == 302
    [event] = _audit("login_throttle_clear")
    assert event.object_id == "198.51.100.30"


def test_an_admin_unlocks_a_locked_account_without_a_new_password(app, client, auth, make_user, clock):
    clock(T0)
    user = make_user("officer")
    other = app.test_client()
    for _ in range(5):
        other.post("/login", data={"username": user.username, "password": WRONG})
    db.session.expire_all()
    assert db.session.get(User, user.id).locked_until is not None
    auth.login(make_user("admin"))
    assert "解除锁定" in client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    client.post(f"/admin/users/{user.id}/unlock")
    assert other.post("/login", data={"username": user.username, "password": PASSWORD}).status_code == 302


# --- 7. File modes ------------------------------------------------------------------------------------------------

def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_sqlite_file_and_its_wal_are_0600_on_creation_and_the_instance_folder_0700_on_start(tmp_path):
    old = os.umask(0o022)
    try:
        database = tmp_path / "fresh.db"
        instance = tmp_path / "instance"
        instance.mkdir(mode=0o755)
        os.chmod(instance, 0o755)
        app = create_app({**_test_config(f"sqlite:///{database}")})
        app.instance_path = str(instance)
        with app.app_context():
            db.create_all()
            db.session.execute(db.text("SELECT 1"))
            db.session.commit()
            assert _mode(database) == 0o600
            assert _mode(str(database) + "-wal") == 0o600
            db.engine.dispose()
        from dissuasion.core.database import private_instance
        private_instance(app)
        assert _mode(instance) == 0o700
        os.chmod(database, 0o644)  # as an older version, or a copy, left it
        create_app({**_test_config(f"sqlite:///{database}")})
        assert _mode(database) == 0o600
    finally:
        os.umask(old)


def test_a_first_start_makes_the_instance_folder_0700(tmp_path):
    from dissuasion.config import ensure_instance_config
    old = os.umask(0o022)
    try:
        ensure_instance_config(str(tmp_path / "instance"))
    finally:
        os.umask(old)
    assert _mode(tmp_path / "instance") == 0o700 and _mode(tmp_path / "instance" / "config.py") == 0o600


# --- 8. CLI accounts change their first password ------------------------------------------------------------------

@pytest.mark.parametrize("flags,must_change", [([], True), (["--no-change"], False)])
def test_an_account_made_on_the_command_line_must_change_its_password_unless_no_change(
        runner, client, flags, must_change):
    result = runner.invoke(args=["users", "create", "zhao", "--role", "center", "--password-stdin", *flags],
                           input="a-long-enough-password\n")
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).filter_by(username="zhao"))
    assert user.must_change_password is must_change
