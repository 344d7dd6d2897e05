"""Configuration: defaults here, then instance/config.py, then the environment.

The secret keys live in instance/config.py, written with random values on first start,
so a fresh clone works without any setup and no secret is ever committed.
"""
import base64
import contextlib
import datetime as dt
import fcntl
import json
import os
import secrets
from pathlib import Path

DEFAULTS = {
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "MAX_CONTENT_LENGTH": 50 * 1024 * 1024,
    "IMPORT_MAX_ROWS": 200_000,
    # The county's name (清河县): a precinct written with a county's name before its own (临河县公安局城东派出所) is
    # routed only when that county is this one. Unset, and with a directory of short names, such a row is routed
    # by the precinct's own name, with a note to check the county (directory/routing.py).
    "COUNTY_NAME": "",
    # PostgreSQL: each connection asks for its timeouts (core/database.SESSION_SETTINGS). Behind PgBouncer, which
    # refuses that, False, and the role is given them instead (docs/SCALING.md).
    "DATABASE_SESSION_SETTINGS": True,
    # PostgreSQL: a web request that would wait longer than this for a row a push is writing is answered "busy, try
    # again in a moment" instead of holding its worker (core/database.py; 0: wait as long as it takes).
    "WEB_LOCK_TIMEOUT_MS": 5000,
    # PostgreSQL: the API's push and hand entry take their turn behind a push's write, but not past this: well within
    # gunicorn's timeout (120 s), which would kill the worker, and PostgreSQL's idle-in-transaction limit (120 s).
    "WEB_TURN_TIMEOUT_MS": 90_000,
    "IMPORT_MAX_UNCOMPRESSED": 500 * 1024 * 1024,
    # 2: a big file's rows are judged by this process and a forked child together (imports/pipeline.judge); 1: here.
    "IMPORT_JUDGE_PROCESSES": 1,
    # A push through the API of more rows than this (JSON) or a bigger body (a file) is committed as a job: 202 and
    # a status URL (a client may ask for it on any push with `Prefer: respond-async`).
    "IMPORT_ASYNC_ROWS": 5000,
    "IMPORT_ASYNC_BYTES": 1024 * 1024,
    # The preview's judgement is used by its commit within this many seconds; after that the file is judged again.
    "IMPORT_ANALYSIS_MAX_AGE": 30 * 60,
    # Jobs (dissuasion/jobs): a running job whose worker is silent this long is taken again, up to this many runs.
    "JOBS_LEASE_SECONDS": 60,
    "JOBS_HEARTBEAT_SECONDS": 10,
    "JOBS_MAX_ATTEMPTS": 3,
    # A job worker thread's nice increment, and the preview's judging thread's (jobs.runner.aside): web requests on
    # the same host go first (0: off).
    "JOBS_NICE": 10,
    # Tests: a job queued by a request runs at once inside it (no worker process).
    "JOBS_INLINE": False,
    # SQLite only: where running jobs write their progress (default instance/job_progress.db).
    "JOBS_PROGRESS_FILE": None,
    "BABEL_DEFAULT_LOCALE": "zh_CN",
    "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
    "LANGUAGES": ("zh_CN", "en"),
    "DISPLAY_TIMEZONE": "Asia/Shanghai",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    # The cookie's own end; the server enforces the 30-minute idle and 12-hour limits (auth/session.py).
    "PERMANENT_SESSION_LIFETIME": dt.timedelta(hours=12),
    "WTF_CSRF_TIME_LIMIT": None,
    "PER_PAGE": 50,
    # Cases the center routes from its queue with one press (about a second per thousand): more take another press.
    "ROUTE_AT_ONCE": 2000,
}

SECRET_NAMES = ("SECRET_KEY", "PII_INDEX_KEY")


def new_pii_key() -> str:
    """A random 256-bit AES key, base64 as PII_KEYS holds it."""
    return base64.b64encode(secrets.token_bytes(32)).decode()


def pii_key_lines(key_id: str, first: bool) -> str:
    """instance/config.py lines that add an encryption key and make it the current one.

    Later keys are appended as `PII_KEYS = {**PII_KEYS, ...}`, so old keys stay and can still decrypt.
    """
    keys = f"{{{key_id!r}: {new_pii_key()!r}}}" if first else f"{{**PII_KEYS, {key_id!r}: {new_pii_key()!r}}}"
    return (f"# Encryption keys of ID and phone numbers: losing one makes the numbers it encrypted unreadable.\n"
            f"PII_KEYS = {keys}\nPII_KEY_ID = {key_id!r}\n")


def ensure_instance_config(instance_path: str) -> Path:
    """Write instance/config.py with random secrets the first time the app starts.

    An existing file (an install from before encryption) gets the encryption key appended, never overwritten.
    Several processes start at once (gunicorn workers, the scheduler), so the check and the write happen under
    an exclusive lock: without it two workers could each write their own key, encrypt with it, and all but the
    last writer's numbers would be unreadable.
    """
    path = Path(instance_path) / "config.py"
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # keys and the SQLite database: the owner's only
    with _exclusive(path.with_name(".config.lock")):
        if not path.exists():
            lines = ["# Written on first start. Keep it secret; never commit it.\n"]
            lines += [f"{name} = {secrets.token_hex(32)!r}\n" for name in SECRET_NAMES]
            partial = path.with_name(path.name + ".partial")
            partial.write_text("".join(lines) + pii_key_lines("k1", first=True), encoding="utf-8")
            partial.chmod(0o600)
            partial.replace(path)
        elif not any(line.startswith("PII_KEYS") for line in path.read_text(encoding="utf-8").splitlines()):
            with path.open("a", encoding="utf-8") as f:
                f.write("\n" + pii_key_lines("k1", first=True))
    return path


@contextlib.contextmanager
def _exclusive(lock_path: Path):
    """An advisory lock on lock_path across processes (released when the file closes, even on a crash)."""
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def database_url(instance_path: str) -> str:
    """DATABASE_URL from the environment, normalised to the psycopg 3 driver; else SQLite in instance/."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return "sqlite:///" + str(Path(instance_path) / "dissuasion.db")
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def load(app, test_config=None) -> None:
    """Fill app.config in order: defaults, instance/config.py, environment, test overrides."""
    app.config.update(DEFAULTS)
    if test_config is None:
        app.config.from_pyfile(str(ensure_instance_config(app.instance_path)))
        for name in (*SECRET_NAMES, "PII_KEY_ID"):
            if os.environ.get(name):
                app.config[name] = os.environ[name]
        if os.environ.get("PII_KEYS"):  # JSON: {"k1": "<base64 of 32 bytes>", ...}
            app.config["PII_KEYS"] = json.loads(os.environ["PII_KEYS"])
        app.config["SQLALCHEMY_DATABASE_URI"] = database_url(app.instance_path)
    else:
        app.config.update(test_config)
    if os.environ.get("DATABASE_SESSION_SETTINGS", "").lower() in ("0", "false", "no"):
        app.config["DATABASE_SESSION_SETTINGS"] = False
    if os.environ.get("COUNTY_NAME", "").strip():
        app.config["COUNTY_NAME"] = os.environ["COUNTY_NAME"].strip()
    if os.environ.get("SESSION_COOKIE_SECURE", "").lower() in ("1", "true", "yes"):
        app.config["SESSION_COOKIE_SECURE"] = True
    if os.environ.get("WEB_LOCK_TIMEOUT_MS", "").isdigit():
        app.config["WEB_LOCK_TIMEOUT_MS"] = int(os.environ["WEB_LOCK_TIMEOUT_MS"])
    if os.environ.get("WEB_TURN_TIMEOUT_MS", "").isdigit():
        app.config["WEB_TURN_TIMEOUT_MS"] = int(os.environ["WEB_TURN_TIMEOUT_MS"])
    if os.environ.get("TRUSTED_PROXIES", "").isdigit():  # how many reverse proxies stand in front (nginx: 1)
        app.config["TRUSTED_PROXIES"] = int(os.environ["TRUSTED_PROXIES"])
