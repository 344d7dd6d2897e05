"""Security headers, cookie flags, CSRF on every form, no inline script or style in any template."""
import re
from pathlib import Path

import pytest

from dissuasion.core.security import CSP
from tests.conftest import PASSWORD

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def test_every_page_sends_the_security_headers(client):
    response = client.get("/login")
    assert response.headers["Content-Security-Policy"] == CSP
    assert "frame-ancestors 'none'" in CSP and "script-src 'self'" in CSP and "unsafe-inline" not in CSP
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in response.headers  # only under https
    assert client.get("/no-such-page").headers["X-Content-Type-Options"] == "nosniff"


def test_under_https_hsts_is_sent_and_the_session_cookie_is_secure(client, make_user):
    user = make_user("officer")
    response = client.post("/login", data={"username": user.username, "password": PASSWORD},
                           base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    plain = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert all("Secure" not in c for c in plain.headers.getlist("Set-Cookie"))


@pytest.fixture
def csrf_app(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield app
    app.config["WTF_CSRF_ENABLED"] = False


def _post_rules(app) -> list[str]:
    urls = []
    for rule in app.url_map.iter_rules():
        # The JSON API takes no session cookie, only its bearer token, so it is exempt from CSRF (test_api.py).
        if "POST" in rule.methods and not rule.rule.startswith("/api/"):
            urls.append(re.sub(r"<(?:int:)?(\w+)>", lambda m: "1" if "int:" in m.group(0) else "x", rule.rule))
    return urls


def test_every_form_posted_without_its_csrf_token_is_refused(csrf_app, make_user):
    client = csrf_app.test_client()
    user = make_user("officer")
    urls = _post_rules(csrf_app)
    assert "/login" in urls and "/logout" in urls and "/admin/users" in urls
    for url in urls:
        response = client.post(url, data={"username": user.username, "password": PASSWORD})
        if url.startswith(("/login", "/logout", "/password", "/lang")):  # the pages of logging in
            assert response.status_code == 400, url
            assert "刷新页面后重新提交" in response.get_data(as_text=True)
        else:  # nobody is logged in: the login page, nothing done
            assert response.status_code == 302 and response.headers["Location"].startswith("/login"), url
    assert client.get("/cases/").status_code == 302  # the login without a token did not log in


def test_every_form_a_logged_in_user_posts_without_its_token_is_refused(csrf_app, client, auth, make_user):
    csrf_app.config["WTF_CSRF_ENABLED"] = False  # (logging in is beside the point here)
    auth.login(make_user("admin"))
    csrf_app.config["WTF_CSRF_ENABLED"] = True
    assert client.get("/admin/users").status_code == 200
    for url in _post_rules(csrf_app):
        if url.startswith(("/login", "/logout")):
            continue
        response = client.post(url, data={"username": "x"})
        assert response.status_code == 400, url
        assert "刷新页面后重新提交" in response.get_data(as_text=True)


def test_a_form_with_its_token_is_accepted(csrf_app, make_user):
    client = csrf_app.test_client()
    user = make_user("officer")
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"username": user.username, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert client.get("/cases/").status_code == 200


def test_no_template_has_inline_script_or_style():
    """The CSP refuses inline script and style; a template that used them would silently break."""
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), path
        assert not re.search(r"\sstyle=|<style|\son[a-z]+=|javascript:", text), path
