"""Any number of web hosts (issue 23 item 3): a preview taken by one host is committed through another, the job run
by a worker of either; no host keeps anything of it. One scheduler is active: a second stands by until the first
is gone. The issue asks this of PostgreSQL; the same holds of one SQLite file, so both runs of the suite check it."""
import io
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from dissuasion import create_app, scheduler
from dissuasion.cases.models import EarlyWarning
from dissuasion.extensions import db
from dissuasion.imports.models import PendingUpload, Push
from dissuasion.jobs.models import Job
from tests import pushfiles as pf
from tests.conftest import Auth, FreshContextClient, _test_config, process_env


@pytest.fixture
def two_hosts(app, database_url, tmp_path):
    """Two app instances, each with its own instance folder, on the one database; only workers run jobs."""
    other = create_app({**_test_config(database_url), "JOBS_INLINE": False})
    other.test_client_class = FreshContextClient
    app.config["JOBS_INLINE"] = False
    app.instance_path, other.instance_path = str(tmp_path / "host-a"), str(tmp_path / "host-b")
    yield app, other
    with other.app_context():
        db.engine.dispose()


def test_a_preview_on_one_host_is_committed_through_the_other(two_hosts, make_user, make_precinct, tmp_path):
    host_a, host_b = two_hosts
    make_precinct("PCS01", name="城东派出所", communities=("东门社区",))
    user = make_user("center")
    browser_a, browser_b = host_a.test_client(), host_b.test_client()
    Auth(browser_a).login(user)
    browser_b.set_cookie("session", browser_a.get_cookie("session").value, domain="localhost")  # the balancer
    page = browser_a.post("/imports/preview", data={"file": (io.BytesIO(pf.csv_bytes([pf.row(1), pf.row(2)])),
                                                             "名单.csv")}, content_type="multipart/form-data")
    token = page.get_data(as_text=True).split('name="token" type="hidden" value="')[1].split('"')[0]

    committed = browser_b.post("/imports/commit", data={"token": token})
    assert "/imports/jobs/" in committed.headers["Location"]
    db.session.commit()
    assert scheduler.work_once(host_a) is not None  # a worker beside host A runs what host B queued
    assert browser_b.get(committed.headers["Location"]).headers["Location"].endswith(
        f"/imports/{db.session.scalar(select(Push.id))}")
    assert db.session.scalar(select(func.count(Push.id))) == 1
    assert db.session.scalar(select(func.count(EarlyWarning.id))) == 2
    assert db.session.scalar(select(func.count(PendingUpload.id))) == 0
    assert db.session.scalar(select(Job.state)) == "done"
    assert not any((tmp_path / host).exists() and any((tmp_path / host).rglob("*")) for host in ("host-a", "host-b"))


def test_a_second_scheduler_stands_by_while_the_first_lives_and_takes_over_when_it_is_gone(app, tmp_path, caplog,
                                                                                          monkeypatch):
    app.instance_path = str(tmp_path / "instance")  # SQLite's lock file; PostgreSQL's lock is in the database
    first, second = scheduler.SchedulerLock(app), scheduler.SchedulerLock(app)
    assert first.try_acquire()
    took, stop = threading.Event(), threading.Event()

    def stand_by():
        if scheduler.wait_for_lock(second, stop, retry=0.05):
            took.set()

    # (alembic's fileConfig, run by the migration tests, disables the loggers that existed before it)
    monkeypatch.setattr(logging.getLogger("dissuasion.scheduler"), "disabled", False)
    caplog.set_level(logging.INFO, logger="dissuasion.scheduler")
    waiting = threading.Thread(target=stand_by)
    waiting.start()
    try:
        assert not took.wait(0.5)  # the first lives: the second stays idle
        assert "standing by" in caplog.text
        first.release()  # the first scheduler's process ends (its connection, or its file, closes)
        assert took.wait(10)
        assert "taking over" in caplog.text
        assert not scheduler.SchedulerLock(app).try_acquire()  # now the second holds it
    finally:
        stop.set()
        waiting.join(timeout=10)
        first.release()
        second.release()


def test_a_standby_scheduler_process_takes_over_when_the_active_one_is_killed(app, database_url, tmp_path):
    """Two real `flask --app app scheduler` processes on PostgreSQL: the active one runs at the jobs' lower priority;
    the second logs that it stands by; SIGKILL the first (no clean exit: its connection just drops) and the second
    takes over."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the advisory lock of PostgreSQL (on SQLite, one box, the lock is a file: tested above)")
    root = Path(__file__).resolve().parent.parent
    env = process_env(database_url, PYTHONUNBUFFERED="1")
    flask = str(Path(sys.executable).parent / "flask")
    logs = {name: tmp_path / f"{name}.log" for name in ("first", "second")}

    def start(name):
        with logs[name].open("w") as out:  # the child keeps its own copy of the file
            return subprocess.Popen([flask, "--app", "app", "scheduler"], cwd=root, env=env, stdout=out,
                                    stderr=subprocess.STDOUT)

    def wait_for(name, text, seconds=60):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if text in logs[name].read_text(errors="replace"):
                return True
            time.sleep(0.2)
        return False

    db.session.commit()
    first = start("first")
    second = None
    try:
        assert wait_for("first", "this is the active scheduler"), logs["first"].read_text()
        # the active scheduler's work is background work: at the jobs' lower priority, the web's requests first
        assert os.getpriority(os.PRIO_PROCESS, first.pid) == min(19, os.getpriority(os.PRIO_PROCESS, 0)
                                                                 + app.config["JOBS_NICE"])
        second = start("second")
        assert wait_for("second", "standing by"), logs["second"].read_text()
        first.kill()
        first.wait(timeout=10)
        assert wait_for("second", "taking over", 30), logs["second"].read_text()
        second.terminate()  # at once, as it takes over: systemd's stop must still stop it
        assert second.wait(timeout=30) == 0, logs["second"].read_text()
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(timeout=10)


def test_a_sigterm_just_after_the_lock_is_taken_stops_the_scheduler(app, tmp_path, monkeypatch):
    """The signal comes between taking the lock and starting the timed jobs (the PostgreSQL run of CI once sent it
    there, and the scheduler ran on): the process still stops, and runs nothing first."""
    app.instance_path = str(tmp_path / "instance")
    taken = scheduler.wait_for_lock
    ran = []

    def take_then_signal(lock, stop, retry=scheduler.STANDBY_RETRY):
        got = taken(lock, stop, retry)
        signal.raise_signal(signal.SIGTERM)  # the handler runs here, before run_forever goes on
        return got

    monkeypatch.setattr(scheduler, "wait_for_lock", take_then_signal)
    monkeypatch.setattr(scheduler, "run_job", lambda app, job: ran.append(job.id))
    monkeypatch.setattr(scheduler, "lower_priority", lambda nice: None)  # (this test process' thread keeps its own)
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    guard = threading.Timer(20, signal.raise_signal, args=(signal.SIGINT,))  # were it to run on: stop it anyway
    guard.start()
    began = time.monotonic()
    try:
        scheduler.run_forever(app)
    finally:
        guard.cancel()
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    assert time.monotonic() - began < 10
    assert ran == []
    again = scheduler.SchedulerLock(app)
    assert again.try_acquire()  # and it let the lock go
    again.release()


def test_the_active_scheduler_knows_when_the_database_ended_its_lock(app, tmp_path):
    """A PostgreSQL restart, a fail-over or pg_terminate_backend ends the lock's session: the scheduler that held it
    must see that (and stop: run_forever), or it would run beside the one taking over."""
    app.instance_path = str(tmp_path / "instance")
    lock = scheduler.SchedulerLock(app)
    assert lock.try_acquire()
    try:
        with app.app_context():
            assert lock.still_held()
            if db.engine.dialect.name != "postgresql":
                return  # SQLite's flock lasts as long as the process
            pid = lock._conn.execute(text("SELECT pg_backend_pid()")).scalar()
            with db.engine.connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            assert not lock.still_held()
            taker = scheduler.SchedulerLock(app)
            assert taker.try_acquire()  # the one standing by takes it
            taker.release()
    finally:
        lock.release()


def test_a_worker_cut_off_with_its_transaction_open_is_ended_by_postgresql(app):
    """A worker paused (or cut off) in the middle of a commit holds the merge lock: PostgreSQL ends its session
    after a while instead of letting it stall every import of the city."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("PostgreSQL's session settings")
        with db.engine.connect() as conn:
            assert conn.execute(text("SHOW idle_in_transaction_session_timeout")).scalar() == "2min"
            assert conn.execute(text("SHOW tcp_keepalives_idle")).scalar() in ("30", "30s")  # the server's side


def test_a_run_whose_job_another_worker_took_meanwhile_keeps_nothing(app, caplog, monkeypatch):
    """This worker went silent past its lease (paused, cut off), another took the job: when this one comes back,
    neither its rows nor its outcome are written over the other run's."""
    from dissuasion.jobs import operations, runner
    from dissuasion.jobs.models import Job
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("on SQLite a claim waits for the running job's write lock: it cannot happen")
        job = operations.enqueue("test.sleepy")
        operations.start(job)
        db.session.commit()

        def handler(job, _channel):
            db.session.add(Push(file_name="stale.csv", sha256="1" * 64))
            db.session.flush()
            with db.engine.connect() as other:  # meanwhile another worker claimed it again
                other.execute(text("UPDATE jobs SET attempts = attempts + 1 WHERE id = :id"), {"id": job.id})
                other.commit()
            return {"status": "committed"}

        # (alembic's fileConfig, run by the migration tests, disables the loggers that existed before it)
        monkeypatch.setattr(runner.log, "disabled", False)
        caplog.set_level(logging.INFO, logger=runner.__name__)
        runner.run(job.id, handler)
        db.session.expire_all()
        taken = db.session.get(Job, job.id)
        assert (taken.state, taken.attempts, taken.result) == ("running", 2, None)
        assert db.session.scalar(select(func.count(Push.id))) == 0
        # (review: the log then said "job N: done" or "running" as if this run had finished it)
        assert "attempt 1 ended with nothing kept; attempt 2 has the job" in caplog.text


def test_a_deployments_own_connect_args_are_kept_and_pgbouncer_hosts_can_leave_the_session_settings_out():
    from dissuasion import create_app
    base = {"TESTING": True, "SECRET_KEY": "x", "PII_INDEX_KEY": "y",
            "PII_KEYS": {"k1": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}, "PII_KEY_ID": "k1",
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none",
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "connect_args": {"prepare_threshold": None}}}
    direct = create_app(base).config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]
    assert direct["prepare_threshold"] is None and "idle_in_transaction_session_timeout" in direct["options"]
    bounced = create_app({**base, "DATABASE_SESSION_SETTINGS": False}).config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert "options" not in bounced["connect_args"] and bounced["connect_args"]["prepare_threshold"] is None
