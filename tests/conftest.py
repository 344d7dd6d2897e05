"""Fixtures: the app on a throw-away database, clients, and factories that return model objects.

The database is SQLite in a temporary folder, or PostgreSQL when TEST_DATABASE_URL is set
(CI runs the suite both ways). The schema is built once per session; every test starts empty.
"""
import datetime as dt
import json
import os
from pathlib import Path

import pyotp
import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, make_url, text

from dissuasion import create_app
from dissuasion.auth.login import TOTP_ROLES
from dissuasion.auth.models import User
from dissuasion.auth.operations import create_user
from dissuasion.cases.operations import WarningInput, register_warning
from dissuasion.cases.rules import ensure_default_rules
from dissuasion.core import timeutil
from dissuasion.core.auditlog import SQLITE_TRIGGERS
from dissuasion.core.enums import Role, Tier
from dissuasion.core.timeutil import now
from dissuasion.directory.models import Community, Precinct
from dissuasion.extensions import db
from dissuasion.watch.operations import ensure_default_kinds

PASSWORD = "correct-horse-battery"
#: The authenticator secret factory-made admin and center users are enrolled with (they must use TOTP).
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
#: Two encryption keys, the second current, so tests see values written with an older key too.
PII_KEYS = {"k1": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "k2": "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA="}


@pytest.fixture(scope="session")
def database_url(tmp_path_factory, worker_id) -> str:
    """SQLite in a temporary folder (one per xdist worker), or TEST_DATABASE_URL; with several workers
    (`make test` runs `pytest -n auto`), each worker gets a database of its own beside it, made and dropped here."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        yield "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.db")
        return
    url = url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url
    if worker_id == "master":
        yield url
        return
    own = make_url(url).set(database=f"{make_url(url).database}_{worker_id}")
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{own.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{own.database}"'))
    yield own.render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{own.database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def _schema(database_url):
    app = create_app(_test_config(database_url))
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.engine.dispose()
    yield
    with app.app_context():
        db.drop_all()
        db.engine.dispose()


def _test_config(database_url: str) -> dict:
    folder = Path(database_url.removeprefix("sqlite:///")).parent if database_url.startswith("sqlite") else None
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "PII_INDEX_KEY": "test-index-key",
        "PII_KEYS": dict(PII_KEYS),
        "PII_KEY_ID": "k2",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": "localhost",
        # argon2id at its cheapest: hundreds of test accounts would otherwise cost 0.2 s each (auth/passwords.py)
        "PASSWORD_HASH_CHEAP": True,
        # a commit queued by a request runs at once inside it (tests/test_import_jobs.py runs real workers)
        "JOBS_INLINE": True,
        "JOBS_PROGRESS_FILE": str(folder / "job_progress.db") if folder else None,
    }


def process_env(database_url: str, **more: str) -> dict[str, str]:
    """The environment of a `flask --app app …` process a test starts: this database, and the secret and keys of
    the suite's own apps (_test_config), so that each reads what the other wrote."""
    config = _test_config(database_url)
    return {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": config["SECRET_KEY"],
            "PII_INDEX_KEY": config["PII_INDEX_KEY"], "PII_KEYS": json.dumps(config["PII_KEYS"]),
            "PII_KEY_ID": config["PII_KEY_ID"], **more}


class FreshContextClient(FlaskClient):
    """Each request in its own app context, as in production: its own g, its own database session.

    The test's own context (for calling operations directly) sees the request's writes afterwards.
    """

    def open(self, *args, **kwargs):
        db.session.commit()  # end the test's own transaction, as another process would have
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def app(database_url, _schema):
    app = create_app(_test_config(database_url))
    app.test_client_class = FreshContextClient
    with app.app_context():
        ensure_default_rules()
        ensure_default_kinds()
        db.session.commit()
        yield app
        db.session.remove()
        _empty_all_tables()
        db.engine.dispose()


def _empty_all_tables() -> None:
    """Empty every table. The audit table refuses deletes, so its guard is lifted inside this one transaction only
    (DDL is transactional on both databases: if anything fails, the guard comes back with the rollback)."""
    tables = db.metadata.sorted_tables
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_truncate"))
            conn.execute(text("TRUNCATE " + ", ".join(t.name for t in tables) + " RESTART IDENTITY CASCADE"))
            conn.execute(text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_truncate"))
        else:
            conn.execute(text("DROP TRIGGER audit_events_no_delete"))
            for table in reversed(tables):
                conn.execute(table.delete())
            conn.execute(text(SQLITE_TRIGGERS["audit_events_no_delete"]))


@pytest.fixture
def database_file_bytes(app):
    """database_file_bytes() -> every byte of the SQLite database file and its WAL, as written now (a test
    that looks for numbers that must never be stored in plain text). Skips on PostgreSQL."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("reads the SQLite file")

    def read() -> bytes:
        raw = db.engine.raw_connection()  # outside any transaction, so the checkpoint can run
        try:
            raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
        path = db.engine.url.database
        return b"".join(Path(p).read_bytes() for p in (path, path + "-wal") if os.path.exists(p))
    return read


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_precinct(app):
    """make_precinct("PCS01", communities=("东门社区",)) -> Precinct."""
    def make(code: str = "PCS01", name: str | None = None, communities=("东门社区", "西门社区")) -> Precinct:
        precinct = db.session.scalar(db.select(Precinct).filter_by(code=code))
        if precinct is None:
            precinct = Precinct(code=code, name=name or f"{code}派出所")
            db.session.add(precinct)
        for community in communities:
            if community not in {c.name for c in precinct.communities}:
                precinct.communities.append(Community(name=community))
        db.session.commit()
        return precinct
    return make


@pytest.fixture
def directory(make_precinct):
    """The directory most import tests route to: 城东派出所 (PCS01) with 东门社区. A test file that needs more
    precincts or communities defines its own."""
    return make_precinct("PCS01", name="城东派出所", communities=("东门社区",))


@pytest.fixture
def make_user(app, make_precinct):
    """make_user("officer", precinct="PCS01") -> User with password PASSWORD."""
    counter = iter(range(1, 10_000))

    def make(role: str = "officer", precinct: str | None = "PCS01", username: str | None = None, **kwargs):
        role = Role(role)
        p = make_precinct(precinct) if precinct and role in (Role.LEAD, Role.OFFICER) else None
        totp_secret = kwargs.pop("totp_secret", TOTP_SECRET if role in TOTP_ROLES else None)
        user = create_user(username or f"{role.value}{next(counter):03d}", role, PASSWORD, precinct=p, **kwargs)
        user.totp_secret = totp_secret
        db.session.commit()
        return user
    return make


@pytest.fixture
def center(auth, make_user, directory):
    """Center staff, logged in, with the directory (a test file may define its own)."""
    user = make_user("center")
    auth.login(user)
    return user


@pytest.fixture
def make_case(app, make_precinct):
    """make_case(tier="high", precinct="PCS01", assignee=user) -> Case, made through register_warning."""
    counter = iter(range(1, 100_000))

    def make(tier: str = "high", precinct: str | None = "PCS01", community: str = "东门社区", assignee=None,
             name: str = "张三", id_number: str = "", phone: str | None = None, away_from_home: bool = False,
             **kwargs):
        n = next(counter)
        p = make_precinct(precinct, communities=(community,)) if precinct else None
        c = next((c for c in p.communities if c.name == community), None) if p else None
        item = WarningInput(warning_no=kwargs.pop("warning_no", f"T{n:07d}"), tier=Tier(tier), pushed_at=now(),
                            name=name, id_number=id_number, id_valid=bool(id_number), phone=phone or f"1380000{n:04d}",
                            phone_valid=True, precinct=p, community=c, away_from_home=away_from_home,
                            registered_address="清河县某镇某村1号", **kwargs)
        result = register_warning(item)
        if assignee is not None:
            result.case.assignee = assignee
        db.session.commit()
        return result.case
    return make


def totp_code(secret: str = TOTP_SECRET) -> str:
    """The code an authenticator app shows now (on the app's clock, which tests may freeze)."""
    return pyotp.TOTP(secret).at(now())


def unused_totp_code(secret: str, last_step: int | None) -> str:
    """The code of the first step this account has not used yet (now, or the next 30 s, which the window allows):
    a code logs in once, and tests log the same account in more than once within 30 s."""
    totp = pyotp.TOTP(secret)
    step = max(totp.timecode(now()), (last_step or 0) + 1)
    return totp.generate_otp(step)


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, user_or_name, password: str = PASSWORD, url: str = "/login"):
        """Log in; for an account with a second factor, also give the current code, as its owner would."""
        username = getattr(user_or_name, "username", user_or_name)
        response = self.client.post(url, data={"username": username, "password": password})
        if response.status_code == 302 and response.headers["Location"].endswith("/login/totp"):
            secret, last = db.session.execute(db.select(User.totp_secret, User.totp_last_step)
                                              .filter_by(username=username)).one()
            response = self.client.post("/login/totp", data={"code": unused_totp_code(secret, last)})
        return response

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client):
    return Auth(client)


@pytest.fixture
def bearer(app):
    """bearer(user) -> request headers with a new API token acting as that user."""
    from dissuasion.api.tokens import create_api_token

    def make(user) -> dict:
        token = create_api_token(user, "test")
        db.session.commit()
        return {"Authorization": f"Bearer {token}"}
    return make


@pytest.fixture
def clock():
    """clock(at) freezes the app's one clock at an aware time; it restarts after the test."""
    def set_clock(at: dt.datetime) -> dt.datetime:
        timeutil.freeze(at)
        return at
    yield set_clock
    timeutil.freeze(None)
