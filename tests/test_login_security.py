"""Login hardening: lockout, per-IP throttle, session timeouts, initial passwords, the second factor."""
import datetime as dt

import pyotp
import pytest

from dissuasion.auth.models import User
from dissuasion.core.auditlog import AuditEvent
from dissuasion.extensions import db
from tests.conftest import PASSWORD, totp_code

T0 = dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.UTC)
WRONG = "not-the-password-at-all"
LOCKED = "账号已暂时锁定"


def _answers(auth, username: str, passwords: list[str]) -> list[str]:
    out = []
    for password in passwords:
        page = auth.login(username, password).get_data(as_text=True)
        out.append("locked" if LOCKED in page else "wrong" if "用户名或密码错误" in page else "other")
    return out


def test_the_sixth_wrong_password_locks_the_account_for_15_minutes(client, auth, make_user, clock):
    clock(T0)
    user = make_user("officer")
    assert _answers(auth, user.username, [WRONG] * 5 + [WRONG, PASSWORD]) == ["wrong"] * 5 + ["locked", "locked"]
    assert client.get("/cases/").status_code == 302  # even the right password did not get in
    locked = db.session.get(User, user.id)
    assert locked.locked_until == T0 + dt.timedelta(minutes=15)
    clock(T0 + dt.timedelta(minutes=16))
    assert auth.login(user).status_code == 302
    assert client.get("/cases/").status_code == 200
    db.session.expire_all()
    assert db.session.get(User, user.id).failed_logins == 0


def test_an_unknown_name_gets_exactly_the_same_answers(auth, make_user, clock):
    clock(T0)
    make_user("officer")
    assert _answers(auth, "no-such-user", [WRONG] * 6) == ["wrong"] * 5 + ["locked"]


def test_a_success_resets_the_count(auth, make_user, client):
    user = make_user("officer")
    _answers(auth, user.username, [WRONG] * 4)
    auth.login(user)
    auth.logout()
    assert _answers(auth, user.username, [WRONG] * 4 + [PASSWORD]) == ["wrong"] * 4 + ["other"]


def test_the_admin_lifts_a_lockout_with_a_new_password(client, app, auth, make_user):
    user = make_user("officer")
    _answers(auth, user.username, [WRONG] * 6)
    admin = make_user("admin")
    auth.login(admin)
    client.post(f"/admin/users/{user.id}/password", data={"password": "brand-new-initial-pw"})
    db.session.expire_all()
    assert db.session.get(User, user.id).locked_until is None


def test_one_address_trying_many_names_is_throttled_others_are_not(app, make_user, clock):
    clock(T0)
    app.config["LOGIN_IP_MAX_FAILURES"] = 4  # 20 in production; fewer argon2 checks here
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    for n in range(4):
        attacker.post("/login", data={"username": f"guess{n}", "password": WRONG})
    response = attacker.post("/login", data={"username": "guess-more", "password": WRONG})
    assert response.status_code == 429 and "过于频繁" in response.get_data(as_text=True)
    user = make_user("officer")
    colleague = app.test_client()
    colleague.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert colleague.post("/login", data={"username": user.username, "password": PASSWORD}).status_code == 302
    clock(T0 + dt.timedelta(minutes=11))
    assert attacker.post("/login", data={"username": "guess-more", "password": WRONG}).status_code == 200


def test_an_idle_session_expires_after_30_minutes(client, auth, make_user, clock):
    clock(T0)
    auth.login(make_user("officer"))
    clock(T0 + dt.timedelta(minutes=29))
    assert client.get("/cases/").status_code == 200
    clock(T0 + dt.timedelta(minutes=58))  # 29 minutes after the last request: still alive
    assert client.get("/cases/").status_code == 200
    clock(T0 + dt.timedelta(minutes=89))
    response = client.get("/cases/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "登录已超时" in client.get("/login").get_data(as_text=True)
    assert client.get("/cases/").status_code == 302  # the session is gone, not just refused once


def test_a_busy_session_still_ends_after_12_hours(client, auth, make_user, clock):
    clock(T0)
    auth.login(make_user("officer"))
    for minutes in range(20, 12 * 60, 20):
        clock(T0 + dt.timedelta(minutes=minutes))
        assert client.get("/cases/").status_code == 200
    clock(T0 + dt.timedelta(hours=12, minutes=1))
    assert client.get("/cases/").status_code == 302


def test_no_remember_me_cookie_and_the_session_cookie_is_httponly_lax(client, auth, make_user):
    response = auth.login(make_user("officer"))
    cookies = response.headers.getlist("Set-Cookie")
    assert not any(c.startswith("remember_token") for c in cookies)
    session_cookie = next(c for c in cookies if c.startswith("session="))
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie


def test_an_initial_password_must_be_changed_before_any_other_page(client, auth, make_user):
    user = make_user("officer", must_change_password=True)
    auth.login(user)
    for url in ("/cases/", "/", "/cases/board"):
        response = client.get(url)
        assert response.status_code == 302 and response.headers["Location"].endswith("/password")
    new = "a-brand-new-passphrase"
    client.post("/password", data={"current": PASSWORD, "new": new, "confirm": new})
    assert client.get("/cases/").status_code == 200


def test_center_account_enrols_totp_on_first_login(client, make_user):
    user = make_user("center", totp_secret=None)
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.headers["Location"].endswith("/login/totp/setup")
    assert client.get("/cases/county").status_code == 302  # a correct password alone opens nothing
    page = client.get("/login/totp/setup").get_data(as_text=True)
    secret = page.split('<code class="secret">')[1].split("<")[0]
    assert "otpauth://totp/" in page and f"secret={secret}" in page
    assert "验证码不正确" in client.post("/login/totp/setup", data={"code": "000000"}).get_data(as_text=True)
    assert db.session.get(User, user.id).totp_secret is None
    response = client.post("/login/totp/setup", data={"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302
    assert client.get("/cases/county").status_code == 200
    db.session.expire_all()
    assert db.session.get(User, user.id).totp_secret == secret
    assert db.session.scalar(db.select(AuditEvent).filter_by(action="totp_enrol", object_id=str(user.id)))


def test_enrolled_user_needs_the_code_and_wrong_codes_count_toward_lockout(client, make_user):
    user = make_user("admin")
    for _attempt in range(5):
        client.post("/login", data={"username": user.username, "password": PASSWORD})
        page = client.post("/login/totp", data={"code": "123456"}, follow_redirects=True).get_data(as_text=True)
    assert LOCKED in page
    client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert client.post("/login/totp", data={"code": totp_code()}).status_code == 302
    assert client.get("/admin/users").status_code == 302  # locked: the login step refused it


@pytest.mark.parametrize("role", ["officer", "lead"])
def test_officers_and_leads_log_in_without_a_second_factor(client, make_user, role):
    user = make_user(role)
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert "/login/totp" not in response.headers["Location"]


def test_a_form_sent_after_the_session_timed_out_leads_back_to_its_page_after_login(client, auth, make_user, clock):
    clock(T0)
    auth.login(make_user("center"))
    clock(T0 + dt.timedelta(minutes=31))
    response = client.post("/imports/preview", headers={"Referer": "http://localhost/imports/upload"})
    assert response.status_code == 302 and response.headers["Location"] == "/login?next=/imports/upload"
    logged_out = client.post("/imports/preview", headers={"Referer": "http://localhost/imports/upload"})
    assert logged_out.headers["Location"] == "/login?next=/imports/upload"  # (logged out in another tab)
    elsewhere = client.post("/imports/preview", headers={"Referer": "http://evil.example/imports/upload"})
    assert "next=" not in elsewhere.headers["Location"]
    assert client.get("/cases/?status=open").headers["Location"] == "/login?next=/cases/?status%3Dopen"


def test_production_hashes_with_argon2id_at_its_default_cost_and_verifies_test_hashes(app, make_user):
    """The suite's cheap hasher is for tests only: without PASSWORD_HASH_CHEAP a password is hashed with
    argon2-cffi's defaults (64 MiB, 3 passes, 4 lanes), and either hasher verifies the other's hashes."""
    from dissuasion.auth.passwords import hash_password, verify_password

    user = make_user("officer")  # hashed cheaply
    app.config["PASSWORD_HASH_CHEAP"] = False
    try:
        stored = hash_password(PASSWORD)
        assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
        assert verify_password(stored, PASSWORD) and not verify_password(stored, WRONG)
        assert verify_password(user.password_hash, PASSWORD)
        assert not verify_password(None, PASSWORD)  # an unknown user: the dummy hash, never a match
    finally:
        app.config["PASSWORD_HASH_CHEAP"] = True
