"""The production setup in dissuasion/deploy: behind nginx the app sees the client, and the files agree with the
app (upload limit, environment variables, one scheduler, the gunicorn settings)."""
import re
import runpy
from pathlib import Path

from sqlalchemy import select

from dissuasion import config, create_app
from dissuasion.core.auditlog import AuditEvent
from dissuasion.extensions import db
from tests.conftest import _test_config

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "dissuasion" / "deploy"
NGINX = {"REMOTE_ADDR": "127.0.0.1"}
FORWARDED = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "yujing.example"}


def _failed_login_from(client) -> tuple[str, object]:
    response = client.post("/login", data={"username": "nobody", "password": "wrong-password"}, headers=FORWARDED,
                           environ_base=NGINX)
    db.session.commit()
    event = db.session.scalars(select(AuditEvent).filter_by(action="login_failed").order_by(AuditEvent.id.desc()))
    return event.first().ip, response


def test_behind_nginx_the_client_address_and_https_come_from_the_proxy_headers(app, database_url, monkeypatch):
    monkeypatch.setenv("TRUSTED_PROXIES", "1")
    proxied = create_app(_test_config(database_url))
    ip, response = _failed_login_from(proxied.test_client())
    with proxied.app_context():
        db.engine.dispose()  # its own engine: close its connections now, not when garbage-collected
    assert ip == "203.0.113.9"  # the login limits and the audit trail see the officer's address, not nginx's
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "Secure" in cookie


def test_without_trusted_proxies_forwarded_headers_are_ignored(app, client):
    ip, response = _failed_login_from(client)
    assert ip == "127.0.0.1"  # anyone could send X-Forwarded-For; it counts only behind a proxy we declared
    assert "Strict-Transport-Security" not in response.headers


def _gunicorn_settings(monkeypatch, **env) -> dict:
    for name in ("WEB_CONCURRENCY", "GUNICORN_BIND", "GUNICORN_TIMEOUT", "GUNICORN_MAX_REQUESTS",
                 "GUNICORN_MAX_REQUESTS_JITTER"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))


def test_gunicorn_settings_come_from_the_environment(monkeypatch):
    default = _gunicorn_settings(monkeypatch)
    assert default["bind"] == "127.0.0.1:8000" and default["worker_class"] == "sync" and default["workers"] >= 2
    assert default["preload_app"] is False and default["timeout"] >= 60
    tuned = _gunicorn_settings(monkeypatch, WEB_CONCURRENCY="4", GUNICORN_BIND="unix:/run/yujing/web.sock")
    assert tuned["workers"] == 4 and tuned["bind"] == "unix:/run/yujing/web.sock"


def test_workers_restart_now_and_then_but_not_together(monkeypatch):
    """A worker still restarts after a number of requests (a preview's memory), seldom (a start is ~1.2 s of CPU),
    and with a jitter wide enough that the workers do not all restart in the same seconds (issue 23's load test)."""
    default = _gunicorn_settings(monkeypatch)
    assert 0 < default["max_requests"] and default["max_requests_jitter"] >= default["max_requests"] // 4
    tuned = _gunicorn_settings(monkeypatch, GUNICORN_MAX_REQUESTS="3000")
    assert (tuned["max_requests"], tuned["max_requests_jitter"]) == (3000, 1500)


def test_the_web_never_starts_the_scheduler_and_one_unit_runs_it():
    web = (DEPLOY / "dissuasion-web.service").read_text(encoding="utf-8")
    scheduler = (DEPLOY / "dissuasion-scheduler.service").read_text(encoding="utf-8")
    assert "scheduler" not in (DEPLOY / "gunicorn.conf.py").read_text(encoding="utf-8").split('"""')[2]
    assert re.search(r"^ExecStart=\S+/gunicorn -c dissuasion/deploy/gunicorn\.conf\.py app:app$", web, re.M)
    assert re.search(r"^ExecStart=\S+/flask --app app scheduler$", scheduler, re.M)
    for unit in (web, scheduler):
        for setting in ("User=", "EnvironmentFile=", "Restart=", "WorkingDirectory="):
            assert re.search(rf"^{setting}\S", unit, re.M), setting


def test_nginx_lets_through_what_the_app_accepts_and_passes_the_proxy_headers(app):
    nginx = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    limit_mib = int(re.search(r"client_max_body_size (\d+)m;", nginx).group(1))
    app_mib = app.config["MAX_CONTENT_LENGTH"] / (1024 * 1024)
    assert app_mib < limit_mib <= app_mib + 1  # the app's own page explains a too-large file, not nginx's 413
    for header in ("Host", "X-Forwarded-For", "X-Forwarded-Proto"):
        assert f"proxy_set_header {header} " in nginx
    assert re.search(r"location /static/ \{\s*alias \S+/dissuasion/static/;", nginx)


def _environment_names(path: Path) -> set[str]:
    return set(re.findall(r"environ(?:\.get\(|\[)\"([A-Z_]+)\"", path.read_text(encoding="utf-8")))


def test_the_deploy_notes_name_every_environment_variable_read():
    read = set(config.SECRET_NAMES) | {"PII_KEY_ID"}
    for path in (ROOT / "dissuasion").rglob("*.py"):
        read |= _environment_names(path)
    assert {"DATABASE_URL", "TRUSTED_PROXIES", "WEB_CONCURRENCY"} <= read
    notes = (DEPLOY / "README.md").read_text(encoding="utf-8")
    assert not [name for name in sorted(read) if f"`{name}`" not in notes]
    assert "dissuasion/deploy/README.md" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_readme_says_the_one_step_before_its_flask_lines():
    """A fresh shell after `make run` has no flask on its PATH: the commands block starts by activating the .venv
    `make run` filled (Makefile: FLASK := .venv/bin/flask), in both languages."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("### 常用命令")[1].split("```bash")[1].split("```")[0]
    first = block.strip().splitlines()[0]
    assert first.startswith("source .venv/bin/activate")
    assert "source .venv/bin/activate" in readme.split("### Commands")[1].split("`flask --app app` …")[0]
    assert "FLASK  := $(BIN)/flask --app app" in (ROOT / "Makefile").read_text(encoding="utf-8")
