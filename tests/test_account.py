"""Every user's own account: 修改密码 and 动态验证码 in the menu; any user may turn TOTP on, with a QR code drawn
on the server and the secret to type; admin and center accounts stay obliged."""
import re

import pytest

from dissuasion.auth.models import User
from dissuasion.core.auditlog import AuditEvent
from dissuasion.extensions import db
from tests.conftest import PASSWORD, totp_code


@pytest.mark.parametrize("role", ["officer", "lead", "center", "admin"])
def test_every_users_menu_links_to_the_password_and_the_second_factor(client, auth, make_user, role):
    auth.login(make_user(role))
    page = client.get("/password").get_data(as_text=True)
    menu = page.split('class="usermenu"')[1].split("</details>")[0]
    assert 'href="/password">修改密码</a>' in menu and 'href="/account/totp">动态验证码</a>' in menu


def _secret(page: str) -> str:
    return re.search(r'<code class="secret">([A-Z2-7]+)</code>', page).group(1)


def test_an_officer_turns_totp_on_with_a_qr_code_and_needs_it_at_the_next_login(client, auth, make_user):
    officer = make_user("officer")
    auth.login(officer)
    page = client.get("/account/totp").get_data(as_text=True)
    secret = _secret(page)
    qr = page.split('<figure class="qr"')[1].split("</figure>")[0]
    assert "<svg" in qr and "<path" in qr and "http" not in qr.replace("http://www.w3.org", "")  # drawn here
    assert client.get("/account/totp").get_data(as_text=True).count(secret) >= 1  # the same secret on reload
    wrong = client.post("/account/totp", data={"code": "000000"}).get_data(as_text=True)
    assert "验证码不正确" in wrong and db.session.get(User, officer.id).totp_secret is None
    response = client.post("/account/totp", data={"code": totp_code(secret)}, follow_redirects=True)
    assert "已开启动态验证码" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, officer.id).totp_secret == secret
    assert db.session.scalar(db.select(AuditEvent).filter_by(action="totp_enrol", object_id=str(officer.id)))
    auth.logout()
    response = client.post("/login", data={"username": officer.username, "password": PASSWORD})
    assert response.headers["Location"].endswith("/login/totp")  # the password alone no longer opens it


def test_center_stays_obliged_and_first_login_shows_the_qr_code(client, auth, make_user):
    center = make_user("center", totp_secret=None)
    client.post("/login", data={"username": center.username, "password": PASSWORD})
    page = client.get("/login/totp/setup").get_data(as_text=True)
    assert "<svg" in page.split('<figure class="qr"')[1] and _secret(page)
    assert client.get("/account/totp").status_code == 302  # nothing else opens before the code


def test_a_wrong_current_password_and_a_short_new_one_are_both_said(client, auth, make_user):
    auth.login(make_user("lead"))
    page = client.post("/password", data={"current": "not-it-at-all", "new": "abc12", "confirm": "abc12"}
                       ).get_data(as_text=True)
    assert "当前密码不正确" in page and "至少" in page
