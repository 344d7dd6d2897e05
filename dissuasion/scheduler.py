"""The one scheduler process (`flask --app app scheduler`): a table of jobs with stable ids, and the worker
processes (`flask --app app worker`) that run the jobs web requests queue (jobs/: a push committed from the page).

Never started by web workers (STYLE pitfalls: APScheduler runs a job once per process that starts it).
Every job is safe to run twice and in two processes at once (claims.py), so `--run-once` from cron beside
a running scheduler does no harm. Jobs live in `<domain>/tasks.py`, take no arguments and commit per row.

One scheduler is active at a time: a second one, started on another host, stands by until the first dies
(`SchedulerLock`: a PostgreSQL session-level advisory lock held on a connection of its own for the process' life;
on SQLite, one box, a file lock in instance/). The active scheduler also runs queued jobs in a thread of its own,
so `make run` on one box needs nothing else; `flask --app app worker` adds workers on any host (claims with
FOR UPDATE SKIP LOCKED, so any number of them is safe). A standby scheduler runs nothing.
"""
from __future__ import annotations

import fcntl
import importlib
import logging
import signal
import threading
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask
from sqlalchemy import text

from .core.database import advisory_key
from .extensions import db
from .jobs.runner import lower_priority, work_forever, work_one

log = logging.getLogger(__name__)
EVERY_MINUTE = {"trigger": "interval", "minutes": 1}


@dataclass(frozen=True)
class Job:
    """One scheduled job: a stable id (APScheduler's and the logs'), the function, and when it runs."""

    id: str
    func: str
    trigger: dict = field(default_factory=lambda: dict(EVERY_MINUTE))


JOBS: tuple[Job, ...] = (
    Job("cases.overdue_sign", "dissuasion.cases.tasks:notify_overdue_sign"),
    Job("cases.overdue_contact", "dissuasion.cases.tasks:notify_overdue_contact"),
    Job("followups.due", "dissuasion.followups.tasks:notify_due_followups"),
    Job("followups.missed", "dissuasion.followups.tasks:mark_missed_followups"),
    Job("followups.watch_ended", "dissuasion.followups.tasks:close_ended_watches"),
    # A preview nobody committed leaves a (encrypted) file: gone within two hours of its upload.
    Job("imports.abandoned_uploads", "dissuasion.imports.tasks:remove_abandoned_uploads",
        {"trigger": "interval", "minutes": 10}),
    Job("watch.due", "dissuasion.watch.tasks:notify_due_meetings"),
    Job("watch.missed", "dissuasion.watch.tasks:notify_missed_meetings"),
    Job("watch.alarms", "dissuasion.watch.tasks:send_meeting_alarms"),
    Job("watch.ended", "dissuasion.watch.tasks:end_finished_watches"),
    # Stores last week's reports once; safe at any time, so a scheduler that was down catches up on start.
    Job("reports.weekly", "dissuasion.reports.tasks:generate_weekly_reports",
        {"trigger": "cron", "day_of_week": "mon", "hour": 8, "minute": 0, "timezone": "Asia/Shanghai"}),
)


#: What each kind of queued job runs (jobs/runner.py): a function (job, progress) -> result.
JOB_KINDS: dict[str, str] = {
    "imports.commit": "dissuasion.imports.tasks:commit_upload",
}


def _function(job: Job):
    return _resolve(job.func)


def _resolve(path: str):
    module, _sep, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def job_handlers() -> dict:
    return {kind: _resolve(path) for kind, path in JOB_KINDS.items()}


def work_once(app: Flask) -> int | None:
    """Run the next queued job, if any (tests, and `flask worker --once`); its id."""
    with app.app_context():
        try:
            return work_one(job_handlers())
        finally:
            db.session.remove()


def start_workers(app: Flask, count: int = 1, stop: threading.Event | None = None
                  ) -> tuple[threading.Event, list[threading.Thread]]:
    """Threads that claim and run queued jobs until the event is set."""
    stop, handlers = stop or threading.Event(), job_handlers()
    threads = [threading.Thread(target=work_forever, args=(app, handlers, stop), daemon=True, name=f"jobs-{n}")
               for n in range(count)]
    for thread in threads:
        thread.start()
    return stop, threads


#: A standby scheduler tries the lock again this often (seconds).
STANDBY_RETRY = 5.0
#: How often the active scheduler makes sure it still holds the lock (PostgreSQL can end its session: a restart, a
#: fail-over, a network blip, pg_terminate_backend; a scheduler standing by then takes the lock over).
LOCK_CHECK = 10.0
#: PostgreSQL ends the lock's session when it has been silent this long: a scheduler frozen (a paused VM, SIGSTOP)
#: or cut off lets the one standing by take over. The check above speaks every LOCK_CHECK seconds, from a thread
#: of its own, whatever the jobs are doing.
LOCK_SILENCE = "60s"
SCHEDULER_LOCK = "dissuasion.scheduler"


class SchedulerLock:
    """The right to be the active scheduler, held until the process ends (or release()).

    PostgreSQL: pg_try_advisory_lock on a connection of its own (session level: it goes when the connection does,
    so a dead scheduler's lock is free again as soon as PostgreSQL notices the connection gone). SQLite (one box):
    an flock on instance/scheduler.lock, gone with the process.
    """

    def __init__(self, app: Flask):
        self.app, self._conn, self._file = app, None, None

    def try_acquire(self) -> bool:
        with self.app.app_context():
            if db.engine.dialect.name == "postgresql":
                return self._try_postgresql()
            return self._try_file()

    def _try_postgresql(self) -> bool:
        key = advisory_key(SCHEDULER_LOCK)
        if self._conn is None:
            self._conn = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        if self._conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar():
            self._conn.execute(text(f"SET idle_session_timeout = '{LOCK_SILENCE}'"))
            return True
        self._conn.close()
        self._conn = None
        return False

    def _try_file(self) -> bool:
        path = Path(self.app.instance_path) / "scheduler.lock"
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle = path.open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._file = handle
        return True

    def still_held(self) -> bool:
        """Whether this process still holds the lock: on PostgreSQL, its session is alive and holds it."""
        if self._file is not None:
            return True  # an flock lasts as long as the process
        if self._conn is None:
            return False
        try:
            return bool(self._conn.execute(text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted"
            )).scalar())
        except Exception:  # noqa: BLE001  (the session is gone, whatever the driver calls it)
            log.exception("the scheduler lock's connection failed")
            return False

    def release(self) -> None:
        if self._conn is not None:
            self._conn.close()  # the session ends, its advisory lock with it
        if self._file is not None:
            self._file.close()
        self._conn = self._file = None


def wait_for_lock(lock: SchedulerLock, stop: threading.Event, retry: float = STANDBY_RETRY) -> bool:
    """Take the scheduler lock, standing by while another scheduler holds it; False if stopped meanwhile."""
    standing_by = False
    while not stop.is_set():
        if lock.try_acquire():
            if standing_by:
                log.warning("taking over: the active scheduler is gone, this one runs the jobs now")
            else:
                log.info("scheduler lock taken: this is the active scheduler")
            return True
        if not standing_by:
            log.warning("standing by: another scheduler is active; trying again every %.0f s", retry)
            standing_by = True
        stop.wait(retry)
    return False


def watch_lock(lock: SchedulerLock, stopping: threading.Event, lost: threading.Event) -> None:
    """Every LOCK_CHECK seconds, that the lock is still this scheduler's; if not, stop it (`lost` set)."""
    while not stopping.wait(LOCK_CHECK):
        if not lock.still_held():
            log.error("lost the scheduler lock (the database ended its session): stopping, so that the scheduler that "
                      "takes it over is the only one; started again (systemd), this one stands by")
            lost.set()
            stopping.set()


def run_job(app: Flask, job: Job):
    """Run one job in its own application context; a failure is logged and the scheduler goes on."""
    with app.app_context():
        try:
            result = _function(job)()
            # a minute's run that found nothing to do is not news: the log at INFO says only what happened
            log.log(logging.INFO if result else logging.DEBUG, "job %s: %s", job.id, result)
            return result
        except Exception:  # noqa: BLE001  (one job's failure must not stop the others)
            db.session.rollback()
            log.exception("job %s failed", job.id)
            return None
        finally:
            db.session.remove()


def run_once(app: Flask, stop: threading.Event | None = None) -> dict[str, object]:
    """Every job once, in table order (cron and tests; the scheduler as it starts), or until `stop` is set."""
    results = {}
    for job in JOBS:
        if stop is not None and stop.is_set():
            break
        results[job.id] = run_job(app, job)
    return results


def run_forever(app: Flask) -> None:
    """Stand by until this is the active scheduler, then run the table and the queued jobs until Ctrl-C or
    SIGTERM; a job still running is let finish.

    The signal handler only sets an event, and the main thread does the stopping: a SIGTERM that comes at any
    moment (while standing by, just after the lock is taken, during the first run of the table) stops the process,
    where a handler that had to find the scheduler already running let one slip by and the process ran on."""
    from apscheduler.schedulers.background import BackgroundScheduler

    stopping, lock, lost = threading.Event(), SchedulerLock(app), threading.Event()

    def on_signal(signum, _frame):
        log.info("signal %s: stopping the scheduler", signum)
        stopping.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)
    if not wait_for_lock(lock, stopping):
        return
    # Everything this process does is background work (the timed jobs' notifications can come a few seconds
    # later): on a host it shares with web workers, their requests go first. The threads started below inherit it.
    lower_priority(app.config["JOBS_NICE"])

    # APScheduler says "Running job …" and "executed successfully" at INFO every minute for every job: only its
    # warnings (a missed run, a job still running) are worth a line; run_job logs what a job did.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    scheduler = BackgroundScheduler(timezone="UTC", job_defaults={
        "coalesce": True, "max_instances": 1, "misfire_grace_time": 60})
    for job in JOBS:
        scheduler.add_job(run_job, args=(app, job), id=job.id, name=job.id, replace_existing=True, **job.trigger)
    workers, watch = [], None
    try:
        _stop, workers = start_workers(app, stop=stopping)
        watch = threading.Thread(target=watch_lock, args=(lock, stopping, lost), name="scheduler-lock", daemon=True)
        watch.start()
        run_once(app, stopping)  # no need to wait a minute for what is already due
        if not stopping.is_set():
            scheduler.start()
        while not stopping.wait(1.0):
            pass
    finally:
        stopping.set()
        if scheduler.running:
            scheduler.shutdown(wait=True)  # a timed job under way is let finish
        for thread in workers:
            thread.join()  # so is a queued job (its transaction commits or rolls back whole)
        if watch is not None:
            watch.join(timeout=LOCK_CHECK + 5)  # (its check may be under way on the lock's connection)
        lock.release()
    if lost.is_set():
        raise SystemExit(1)  # not a clean stop: the service manager starts it again


def work(app: Flask, threads: int = 1) -> None:
    """A worker process: run queued jobs until Ctrl-C or SIGTERM (any number, on any host)."""
    stop, workers = start_workers(app, threads)

    def on_signal(signum, _frame):
        log.info("signal %s: stopping the worker after its current job", signum)
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)
    while any(thread.is_alive() for thread in workers):
        for thread in workers:
            thread.join(timeout=1)
