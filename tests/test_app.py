"""The application shell: health check, Chinese by default, English on request, error pages."""
import subprocess
import sys
from pathlib import Path

from flask_babel import force_locale

from dissuasion.core.enums import Tier
from tests.conftest import process_env


def test_healthz_reports_database_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_login_page_is_chinese_by_default(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'lang="zh-CN"' in page
    for label in ("用户名", "密码", 'value="登录"'):
        assert label in page


def test_english_can_be_chosen_and_sticks(client):
    client.post("/lang/en", data={"next": "/login"})
    page = client.get("/login").get_data(as_text=True)
    assert 'lang="en"' in page
    assert "Username" in page and "Password" in page and 'value="Log in"' in page
    client.post("/lang/zh_CN")
    assert "用户名" in client.get("/login").get_data(as_text=True)


def test_english_chosen_before_login_stays_after_login_and_logout(client, auth, make_user):
    officer, center = make_user("officer"), make_user("center")  # the center's login has a second step
    client.post("/lang/en", data={"next": "/login"})
    for user in (officer, center):
        auth.login(user)
        home = client.get("/", follow_redirects=True).get_data(as_text=True)
        assert 'lang="en"' in home, user.role
        auth.logout()
        assert 'value="Log in"' in client.get("/login").get_data(as_text=True)


def test_labels_follow_a_language_switched_within_one_request(app):
    """Translations are kept for the request (i18n.RequestDomain), but never across a change of language."""
    with app.test_request_context("/"):
        assert Tier.HIGH.label == "高风险"
        with force_locale("en"):
            assert Tier.HIGH.label == "High risk"
        assert Tier.HIGH.label == "高风险"


def test_unknown_page_gets_chinese_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "页面不存在" in response.get_data(as_text=True)


def test_pages_need_login(client):
    response = client.get("/cases/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_server_error_rolls_back_and_shows_chinese_page(app, client, make_user, auth):
    from dissuasion.auth.models import User
    from dissuasion.extensions import db

    @app.route("/boom")
    def boom():
        db.session.add(User(username="half-written", role="center"))
        db.session.flush()
        raise RuntimeError("boom")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/boom")
    assert response.status_code == 500
    assert "服务器出错" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(User).filter_by(username="half-written")) is None


def test_viewport_meta_for_phones(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in page


def test_english_pages_use_english_punctuation_around_labels_and_counts(client, auth, make_user, make_case):
    officer = make_user("officer")
    case = make_case(assignee=officer)
    client.post("/lang/en")
    auth.login(officer)
    for url in ("/", f"/cases/{case.id}"):
        page = client.get(url, follow_redirects=True).get_data(as_text=True)
        assert 'lang="en"' in page
        assert "：" not in page and "（" not in page, url
    assert "Warning records (1)" in page


def test_the_app_as_served_starts_lean_with_its_collector_on(tmp_path):
    """app.py, which gunicorn's workers, the scheduler and every command load: it does not import the migration
    tooling (Flask-Migrate, Alembic, Mako, Pygments: 0.15 s of each start), it leaves the garbage collector on once
    the app is built, and the app's own objects are set aside (gc.freeze), so a worker's full collections, which
    walked them all (about 120 ms each, a pause in whichever request set one off), walk only what requests made."""
    probe = ("import gc, sys, app; print(sorted({m.split('.')[0] for m in sys.modules} & "
             "{'alembic', 'flask_migrate', 'mako', 'pygments'}), gc.isenabled(), gc.get_freeze_count())")
    started = subprocess.run([sys.executable, "-c", probe], cwd=Path(__file__).resolve().parent.parent,
                             env=process_env(f"sqlite:///{tmp_path / 'served.db'}"), capture_output=True, text=True,
                             timeout=120)
    assert started.returncode == 0, started.stderr
    imported, enabled, frozen = started.stdout.rsplit(maxsplit=2)
    assert imported == "[]" and enabled == "True"
    assert int(frozen) > 100_000
