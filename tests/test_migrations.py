"""Migrations: one head, and the schema `db upgrade` builds is exactly the models (SQLite and PostgreSQL)."""
import os
import sqlite3
import subprocess
import sys
import uuid
from contextlib import closing
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from dissuasion import create_app
from dissuasion.extensions import bind_migrations, db
from tests.conftest import PII_KEYS, process_env

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def test_there_is_exactly_one_head():
    config = Config(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"several Alembic heads: {heads}; merge them (flask db merge heads)"


@pytest.fixture
def fresh_database_url(tmp_path, database_url):
    """An empty database of the same kind as the suite's: a new SQLite file, or a new PostgreSQL database."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
        return
    name = f"{url.database}_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _migrating_app(url: str):
    """The app on `url`, with Flask-Migrate bound as `flask db` binds it (create_app leaves it out)."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x", "PII_INDEX_KEY": "y",
                      "PII_KEYS": PII_KEYS, "PII_KEY_ID": "k1"})
    bind_migrations(app)
    return app


def _differences(app) -> list:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


AUDIT_TRIGGERS = {"sqlite": {"audit_events_no_update", "audit_events_no_delete"},
                  "postgresql": {"audit_events_no_change", "audit_events_no_truncate"}}


def _audit_triggers() -> set[str]:
    """The guards that make audit_events append-only (compare_metadata does not see triggers)."""
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            query = "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_events'::regclass AND NOT tgisinternal"
        else:
            query = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_events'"
        return set(conn.execute(text(query)).scalars())


def test_upgrade_builds_exactly_the_models_and_downgrade_undoes_it(fresh_database_url):
    app = _migrating_app(fresh_database_url)
    with app.app_context():
        upgrade(directory=str(MIGRATIONS))
        assert _differences(app) == []
        assert _audit_triggers() == AUDIT_TRIGGERS[db.engine.dialect.name]
        downgrade(directory=str(MIGRATIONS), revision="base")
        with db.engine.connect() as conn:
            tables = set(db.inspect(conn).get_table_names()) - {"alembic_version"}
        assert tables == set()
        db.engine.dispose()


def test_upgrading_encrypts_the_totp_secrets_already_stored_and_downgrading_restores_them(fresh_database_url):
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    app = _migrating_app(fresh_database_url)
    stored = text("SELECT totp_secret FROM users WHERE username = 'c1'")
    with app.app_context():
        upgrade(directory=str(MIGRATIONS), revision="c3a9e5d17f20")  # the secret was plain text until then
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO users (username, display_name, role, active, must_change_password, session_version, "
                "failed_logins, totp_secret, created_at) VALUES ('c1', '', 'center', true, false, 1, 0, :s, "
                "'2026-11-01 00:00:00')"), {"s": secret})
        upgrade(directory=str(MIGRATIONS))
        with db.engine.connect() as conn:
            encrypted = conn.execute(stored).scalar()
        from dissuasion.auth.models import User
        assert encrypted.startswith("v1:k1:") and secret not in encrypted
        assert db.session.scalar(db.select(User.totp_secret).filter_by(username="c1")) == secret
        db.session.remove()
        downgrade(directory=str(MIGRATIONS), revision="c3a9e5d17f20")
        with db.engine.connect() as conn:
            assert conn.execute(stored).scalar() == secret
        downgrade(directory=str(MIGRATIONS), revision="base")
        db.engine.dispose()


@pytest.mark.skipif(os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"), reason="SQLite only")
def test_sqlite_connections_use_wal_foreign_keys_and_busy_timeout(app):
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_upgrading_fills_the_first_attempt_and_the_first_reach_from_the_contacts(fresh_database_url):
    app = _migrating_app(fresh_database_url)
    stamp = "'2026-11-16 01:00:00'"
    with app.app_context():
        upgrade(directory=str(MIGRATIONS), revision="f3b8d2a6c1e9")  # first_contact_at: any attempt
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO persons (id, match_key, name, sex, id_valid, phone_valid, registered_address, "
                f"current_address, away_from_home, created_at, updated_at) VALUES (1, 'k', '张三', '', false, false, "
                f"'', '', false, {stamp}, {stamp})"))
            for case_id in (1, 2, 3):
                conn.execute(text(
                    "INSERT INTO cases (id, person_id, status, tier, method, away_from_home, is_repeat, flags, "
                    "sign_deadline, contact_deadline, failed_attempts, created_at, updated_at, version, "
                    f"first_contact_at) VALUES ({case_id}, 1, 'in_progress', 'extra_high', 'visit', false, false, "
                    f"'[]', {stamp}, {stamp}, 0, {stamp}, {stamp}, 1, "
                    f"{'NULL' if case_id == 3 else chr(39) + '2026-11-16 01:20:00' + chr(39)})"))
            contacts = [(1, "none", "01:20"), (1, "none", "01:50"),  # case 1: two calls nobody answered
                        (2, "none", "01:20"), (2, "relative", "02:40"), (2, "self", "03:00")]
            for case_id, reached, when in contacts:
                conn.execute(text(
                    "INSERT INTO contacts (case_id, method, reached, relative_relation, contacted_at, note, "
                    f"created_at) VALUES ({case_id}, 'phone', '{reached}', '', '2026-11-16 {when}:00', '', {stamp})"))
        upgrade(directory=str(MIGRATIONS))
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT id, first_attempt_at, first_reached_at FROM cases ORDER BY id")).all()
        found = {i: (str(a)[11:16] if a else None, str(r)[11:16] if r else None) for i, a, r in rows}
        assert found == {1: ("01:20", None), 2: ("01:20", "02:40"), 3: (None, None)}
        downgrade(directory=str(MIGRATIONS), revision="f3b8d2a6c1e9")
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM cases WHERE first_contact_at IS NOT NULL")).scalar() == 2
        downgrade(directory=str(MIGRATIONS), revision="base")
        db.engine.dispose()


def test_flask_db_upgrade_builds_the_schema(tmp_path):
    """`flask --app app db upgrade` (make run, the deploy guide) builds the schema from the migrations, with
    Flask-Migrate's own options and help, although the app binds Flask-Migrate only when a `db` command is asked
    for (tests/test_app.py: the served app starts without it)."""
    database = tmp_path / "fresh.db"
    env = process_env(f"sqlite:///{database}")
    root = Path(__file__).resolve().parent.parent
    flask = str(Path(sys.executable).parent / "flask")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([flask, "--app", "app", *args], cwd=root, env=env, capture_output=True, text=True,
                              timeout=120)

    helped = run("db", "--help")
    assert helped.returncode == 0 and "upgrade" in helped.stdout
    assert run("db", "-d", str(tmp_path / "no-such-folder"), "upgrade").returncode != 0  # -d is Flask-Migrate's own
    done = run("db", "-d", str(MIGRATIONS), "upgrade")
    assert done.returncode == 0, done.stderr
    with closing(sqlite3.connect(database)) as con:
        head = con.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        assert {"cases", "warnings", "jobs"} <= {name for (name,) in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
    config = Config(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    assert [head] == ScriptDirectory.from_config(config).get_heads()
    assert run("db", "current").stdout.strip().endswith(f"{head} (head)")
    checked = run("db", "check")  # the models against the schema, with the comparison settings bind_migrations gives
    assert checked.returncode == 0, checked.stdout + checked.stderr
