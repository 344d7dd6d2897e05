"""Login, roles' home pages, sessions that end, passwords that are hashed and checked."""
import pytest

from dissuasion.auth.models import User
from dissuasion.extensions import db
from tests.conftest import PASSWORD

HOME = {"officer": "/cases/", "lead": "/cases/board", "center": "/cases/county", "admin": "/admin/users"}


@pytest.mark.parametrize("role", ["officer", "lead", "center", "admin"])
def test_each_role_lands_on_its_home_page(client, auth, make_user, role):
    user = make_user(role)
    assert auth.login(user).status_code == 302
    response = client.get("/")
    assert response.headers["Location"].endswith(HOME[role])
    assert client.get(HOME[role]).status_code == 200


def test_unknown_user_and_wrong_password_get_the_same_message(client, auth, make_user):
    user = make_user("officer")
    wrong_password = auth.login(user, "not-the-password").get_data(as_text=True)
    unknown_user = auth.login("nobody-here", PASSWORD).get_data(as_text=True)
    assert "用户名或密码错误" in wrong_password
    assert "用户名或密码错误" in unknown_user
    assert client.get("/").status_code == 302  # still not logged in


def test_password_is_stored_as_argon2id(make_user):
    user = make_user("center")
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_inactive_account_cannot_log_in(client, auth, make_user):
    user = make_user("officer", active=False)
    assert "用户名或密码错误" in auth.login(user).get_data(as_text=True)


def test_logout_ends_every_session_of_the_user(app, make_user):
    user = make_user("officer")
    phone, desk = app.test_client(), app.test_client()
    for c in (phone, desk):
        c.post("/login", data={"username": user.username, "password": PASSWORD})
        assert c.get("/cases/").status_code == 200
    phone.post("/logout")
    assert desk.get("/cases/").status_code == 302  # the other session ended too
    from dissuasion.core.auditlog import AuditEvent
    assert db.session.scalar(db.select(AuditEvent).filter_by(action="logout", object_id=str(user.id)))


def test_password_change_ends_other_sessions(app, make_user):
    user = make_user("lead")
    a, b = app.test_client(), app.test_client()
    for c in (a, b):
        c.post("/login", data={"username": user.username, "password": PASSWORD})
    new = "another-long-passphrase"
    response = a.post("/password", data={"current": PASSWORD, "new": new, "confirm": new})
    assert response.status_code == 302
    assert a.get("/cases/board").status_code == 200
    assert b.get("/cases/board").status_code == 302


@pytest.mark.parametrize("new,message", [("short-pass", "至少需要 12 个字符"), ("LEAD001", "至少需要"),
                                         ("lead001lead001", None)])
def test_new_password_rules(client, auth, make_user, new, message):
    user = make_user("lead", username="lead001lead001")
    auth.login(user)
    response = client.post("/password", data={"current": PASSWORD, "new": new, "confirm": new})
    if message:
        assert message in response.get_data(as_text=True)
    else:
        assert "密码不能与用户名相同" in response.get_data(as_text=True)


def test_initial_password_must_be_changed(client, auth, make_user):
    user = make_user("officer", must_change_password=True)
    response = auth.login(user)
    assert response.headers["Location"].endswith("/password")


@pytest.mark.parametrize("target,expected", [("/admin/users", "/admin/users"), ("//evil.example/x", "/"),
                                             ("https://evil.example/", "/"), ("/\\evil.example", "/")])
def test_login_next_goes_only_to_our_own_paths(client, auth, make_user, target, expected):
    response = auth.login(make_user("admin"), url=f"/login?next={target}")  # carried through the TOTP step
    assert response.headers["Location"] == expected


@pytest.mark.parametrize("role,forbidden", [("officer", "/admin/users"), ("lead", "/cases/county"),
                                            ("center", "/admin/users"), ("admin", "/cases/")])
def test_roles_cannot_open_other_roles_pages(client, auth, make_user, role, forbidden):
    auth.login(make_user(role))
    assert client.get(forbidden).status_code == 403


def test_failed_and_successful_logins_are_audited(client, auth, make_user):
    from dissuasion.core.auditlog import AuditEvent

    user = make_user("center")
    auth.login(user, "wrong-password-123")
    auth.login(user)
    actions = [(e.action, e.success) for e in db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id))]
    assert ("login_failed", False) in actions
    assert ("login", True) in actions
    assert db.session.get(User, user.id).last_login_at is not None
