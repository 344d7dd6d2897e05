"""Connection set-up per database (STYLE pitfalls): SQLite gets WAL, a busy timeout, foreign keys
and BEGIN IMMEDIATE, so concurrent writers wait for each other instead of failing at once; and `serialize`, for
the few writes that must also wait for each other on PostgreSQL."""
import contextlib
import contextvars
import hashlib
import os
import sqlite3

from flask import Flask, request
from sqlalchemy import event, make_url, text
from sqlalchemy.engine import Engine

from ..extensions import db

BUSY_TIMEOUT_MS = 10_000
#: Whether transactions in this context may write. Web requests that only read (GET, HEAD) use a
#: deferred BEGIN, so in WAL mode they never wait behind an import; everything else takes the lock.
_may_write: contextvars.ContextVar[bool] = contextvars.ContextVar("sqlite_may_write", default=True)
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: How long this context's transaction that may write waits for a lock (milliseconds; 0: the usual wait).
#: PostgreSQL: for a row another transaction holds, set for every web request from WEB_LOCK_TIMEOUT_MS (lock_timeout;
#: the usual wait has no limit). A push's write holds the rows of the cases it joins until its commit (seconds for a
#: big one); an officer's change to such a case would hold a web worker all that time. Past this, the request is
#: answered "busy, try again in a moment" (core/errors.py) and the worker is free. Views marked waits_its_turn (the
#: API's push and hand entry) wait up to WEB_TURN_TIMEOUT_MS; jobs, the scheduler and the CLI as long as it takes; a
#: page's hand entry and the undoing of a 退回 wait for the merge lock (serialize) within WEB_LOCK_TIMEOUT_MS.
#: SQLite: for the write lock, set only within writing_briefly (its web requests keep BUSY_TIMEOUT_MS).
_lock_wait: contextvars.ContextVar[int] = contextvars.ContextVar("lock_wait_ms", default=0)
#: PostgreSQL's SQLSTATE for a lock not obtained within lock_timeout.
LOCK_NOT_AVAILABLE = "55P03"


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, connection_record) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Let SQLAlchemy's "begin" event below issue BEGIN itself, instead of pysqlite's deferred BEGIN.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    files = [row[2] for row in cursor.execute("PRAGMA database_list") if row[1] == "main" and row[2]]
    cursor.close()
    for path in files:
        private_sqlite_files(path)


#: The SQLite database and its WAL hold names and addresses in plain text: this process's user only.
PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700


def private_sqlite_files(path: str) -> None:
    """The database file, its WAL and shared-memory file readable and writable by their owner only. SQLite creates
    the file with the umask's mode (0644 under most); its -wal and -shm copy the database file's mode."""
    for name in (path, path + "-wal", path + "-shm", path + "-journal"):
        try:
            if os.stat(name).st_mode & 0o777 != PRIVATE_FILE:
                os.chmod(name, PRIVATE_FILE)
        except FileNotFoundError:
            continue
        except PermissionError:  # another user's file (a read-only copy): not ours to change
            continue


def private_instance(app: Flask) -> None:
    """On every start: the instance folder (keys, the SQLite database, uploads waiting) 0700, and the SQLite file
    with its WAL 0600, whatever an older version or a copy left them as."""
    folder = app.instance_path
    if os.path.isdir(folder) and os.stat(folder).st_mode & 0o777 != PRIVATE_FOLDER:
        with contextlib.suppress(PermissionError):
            os.chmod(folder, PRIVATE_FOLDER)
    url = make_url(app.config.get("SQLALCHEMY_DATABASE_URI", ""))
    if url.drivername.startswith("sqlite") and url.database and url.database != ":memory:":
        private_sqlite_files(url.database)


@event.listens_for(Engine, "begin")
def _on_begin(conn) -> None:
    # SQLite: a deferred transaction that later writes fails at once with "database is locked"; take the
    # write lock up front so the busy timeout applies. PostgreSQL: a web request's bounded wait for row locks.
    if conn.dialect.name == "sqlite":
        if _may_write.get() and (brief := _lock_wait.get()):
            conn.exec_driver_sql(f"PRAGMA busy_timeout={int(brief)}")
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            finally:
                conn.exec_driver_sql(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if _may_write.get() else "BEGIN")
        conn.connection.info[_LOCKED_KEY] = _may_write.get()
    elif (waits := _lock_wait.get()) and _may_write.get():
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = {int(waits)}")


#: In a SQLite connection's pool record: whether its current transaction began with BEGIN IMMEDIATE.
_LOCKED_KEY = "dissuasion.write_locked"


def holds_write_lock() -> bool:
    """Whether the current transaction has held the database's write lock since it began, so that nothing another
    process writes can have come in between its reads: on SQLite, a transaction begun for writing (BEGIN
    IMMEDIATE). False outside a transaction, and on PostgreSQL (where `serialize` is the lock, taken when asked)."""
    if not db.session().in_transaction() or db.session.get_bind().dialect.name != "sqlite":
        return False
    return bool(db.session.connection().connection.info.get(_LOCKED_KEY))


#: PostgreSQL ends a session that sits this long inside a transaction (a worker stopped, paused or cut off with
#: the merge lock and row locks held would otherwise stall every import of the city until its process dies; its
#: job is taken again after its lease). No work of ours waits this long between two statements.
IDLE_IN_TRANSACTION_MS = 120_000
#: TCP keepalives, so a host gone from the network is noticed in about a minute, not the OS's two hours: the client's
#: side here, the server's in SESSION_SETTINGS (a scheduler host cut off must not keep its lock for two hours).
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3}
#: Sent as the connection's startup options (DATABASE_SESSION_SETTINGS, on by default). Behind PgBouncer, which
#: refuses them, set DATABASE_SESSION_SETTINGS = False and give the role the same settings once:
#: ALTER ROLE dissuasion SET idle_in_transaction_session_timeout = '2min'; (and the tcp_* ones likewise).
SESSION_SETTINGS = (f"-c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_MS} -c tcp_keepalives_idle=30 "
                    "-c tcp_keepalives_interval=10 -c tcp_keepalives_count=3 -c tcp_user_timeout=60000")


def is_lock_timeout(error: BaseException) -> bool:
    """Whether a database error is a request's wait for a lock running out (PostgreSQL's lock_not_available)."""
    return getattr(getattr(error, "orig", None), "sqlstate", None) == LOCK_NOT_AVAILABLE


def serialize(name: str) -> None:
    """Wait until no other transaction holds the lock `name`, then hold it until this transaction ends.

    For work that reads, decides and writes many rows and must not interleave with itself: merging warnings
    (two pushes with the same person would both create them). PostgreSQL: a transaction-level advisory lock.
    SQLite needs none: every write transaction starts with BEGIN IMMEDIATE, so writers already take turns.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": advisory_key(name)})


def advisory_key(name: str) -> int:
    """The 64-bit key of PostgreSQL's advisory locks for a lock's name (the same name, the same lock)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def reading_only() -> None:
    """This context's SQLite transactions only read (BEGIN, not BEGIN IMMEDIATE): for a thread that reads beside a
    request that may hold the write lock (jobs.runner.aside), which would otherwise wait for it."""
    _may_write.set(False)


@contextlib.contextmanager
def only_reading():
    """Within it, this context's SQLite transactions only read (BEGIN): a check at a process's start must not wait
    behind an import that holds the write lock. A write inside still takes the lock when it begins its own
    transaction after the with-block's reads ended."""
    token = _may_write.set(False)
    try:
        yield
    finally:
        _may_write.reset(token)


@contextlib.contextmanager
def writing_briefly(wait_ms: int):
    """Within it, this context's transactions write, and wait at most `wait_ms` for the locks they need: SQLite's
    write lock when the transaction begins, PostgreSQL's row locks (lock_timeout). For a write not worth waiting for
    in a request that only reads (marking a notice read on the way to its case, while an import holds the lock):
    past the wait, OperationalError (`is_busy` says so), which the caller takes as "not now". Begin it after the
    request's reading transaction has ended."""
    writes, waits = _may_write.set(True), _lock_wait.set(wait_ms)
    try:
        yield
    finally:
        _may_write.reset(writes)
        _lock_wait.reset(waits)


def is_busy(error: BaseException) -> bool:
    """Whether a database error is a wait for a lock running out: PostgreSQL's lock_not_available, SQLite's
    "database is locked" (its busy timeout)."""
    return is_lock_timeout(error) or "database is locked" in str(getattr(error, "orig", error))


def waits_its_turn(view):
    """Mark a view whose writes wait for other transactions' locks up to WEB_TURN_TIMEOUT_MS (90 s) instead of
    WEB_LOCK_TIMEOUT_MS: the API's push and hand entry, which take their turn behind a push's write, and whose client
    would otherwise have to send them again. Bounded all the same: a worker process frozen mid-write holds its locks
    until PostgreSQL ends its session (120 s), and gunicorn kills a request's worker at its timeout (120 s); past the
    bound the client is told "busy" (503, Retry-After) with nothing saved."""
    view.waits_its_turn = True
    return view


def writes_on_get(view):
    """Mark a GET view that writes (an export that audits itself), so its transaction takes the write lock."""
    view.writes_on_get = True
    return view


def init_app(app: Flask) -> None:
    """The listeners above apply to every engine, Alembic's included; here, the per-request write intent, and on
    PostgreSQL how long a request waits for a row lock (WEB_LOCK_TIMEOUT_MS)."""
    postgresql = app.config.get("SQLALCHEMY_DATABASE_URI", "").startswith("postgresql")

    @app.before_request
    def _declare_write_intent():
        view = app.view_functions.get(request.endpoint)
        may_write = request.method not in READ_ONLY_METHODS or getattr(view, "writes_on_get", False)
        request.environ["dissuasion.write_token"] = _may_write.set(may_write)
        if postgresql:
            turn = getattr(view, "waits_its_turn", False)
            request.environ["dissuasion.wait_token"] = _lock_wait.set(
                app.config["WEB_TURN_TIMEOUT_MS" if turn else "WEB_LOCK_TIMEOUT_MS"])

    @app.teardown_request
    def _reset_write_intent(exc):
        token = request.environ.pop("dissuasion.write_token", None)
        if token is not None:
            _may_write.reset(token)
        token = request.environ.pop("dissuasion.wait_token", None)
        if token is not None:
            _lock_wait.reset(token)

    private_instance(app)
    uri = app.config.get("SQLALCHEMY_DATABASE_URI", "")
    if uri.startswith("sqlite"):
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            **app.config["SQLALCHEMY_ENGINE_OPTIONS"], "connect_args": {"timeout": BUSY_TIMEOUT_MS / 1000}}
    elif uri.startswith("postgresql"):
        options = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
        ours = dict(KEEPALIVES)
        if app.config.get("DATABASE_SESSION_SETTINGS", True):  # PgBouncer refuses `options`: set them on the role
            ours["options"] = SESSION_SETTINGS
        # the deployment's own connect_args (PgBouncer's prepare_threshold=None) are kept, and win
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**options,
                                                   "connect_args": {**ours, **options.get("connect_args", {})}}
