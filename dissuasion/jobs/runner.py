"""Running jobs: claim one, run its kind's function in one transaction with a heartbeat beside it, record how it
ended. The scheduler process runs `work_forever` in a thread of its own (scheduler.py); `flask --app app worker`
runs it on any other host; tests call `work_one` or `run` directly.

A kind's function takes (job, progress) and returns the result to keep (JSON); it writes through db.session and
never commits: its writes and the job's `done` are committed together, so a worker killed mid-way leaves nothing
half-written, and its job, silent past the lease, is taken again. Raising JobRefused fails the job at once with
that message (a file refused is refused again if retried); any other exception is retried, up to
JOBS_MAX_ATTEMPTS runs.
"""
from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from ..core.database import reading_only
from ..extensions import db
from . import progress as progress_store
from .models import Job
from .operations import claim_next, fail, finish, retry_or_fail, start

log = logging.getLogger(__name__)
Handler = Callable[[Job, Callable[[str, int, int], None]], dict]


class JobRefused(Exception):
    """The job's input is refused (a list that is not one): failed at once, the message says what to fix."""


class _Heartbeat(threading.Thread):
    """Says every few seconds that the worker lives, on the progress channel (not the job's transaction)."""

    def __init__(self, channel: progress_store.Progress, every: float):
        super().__init__(daemon=True, name=f"job-{channel.job_id}-heartbeat")
        self.channel, self.every, self.stopped = channel, every, threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.every):
            try:
                self.channel.beat()
            except Exception:  # noqa: BLE001  (a missed beat is not the job's failure)
                log.warning("job %s: heartbeat not written", self.channel.job_id, exc_info=True)

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=10)


#: Why a run ended, as the job's page and the API say it (jobs.operations.GAVE_UP quotes the last one).
CUT_SHORT = "数据库连接中断或繁忙（%(kind)s）"
BROKE = "程序出错（%(kind)s），详情见导入进程的日志"


def run(job_id: int, handler: Handler) -> str:
    """Run a claimed job to its end; returns its state (done, failed, or queued again)."""
    job = db.session.get(Job, job_id)
    mine = job.attempts  # this run's claim: another worker's later claim raises it
    channel = progress_store.Progress(job_id, mine)
    heartbeat = _Heartbeat(channel, current_app.config["JOBS_HEARTBEAT_SECONDS"])
    heartbeat.start()
    dropped = False
    try:
        result = handler(job, channel)
        heartbeat.stop()
        finish(job, result)
        db.session.flush()  # the job's row is now locked by this run: a claim from here on waits, then finds it done
        if dropped := _claimed_again(job_id, mine):
            db.session.rollback()  # claimed before that: the run that claimed it does the work; this one's goes
        else:
            db.session.commit()
    except JobRefused as exc:
        refusal = str(exc)
        dropped = _ended(heartbeat, job_id, mine, lambda job: fail(job, refusal))
    except Exception as exc:  # noqa: BLE001  (the job is retried or failed; the worker goes on)
        log.exception("job %s: this run failed", job_id)
        cut_short = isinstance(exc, OperationalError)  # (the database gone or busy; anything else is a bug of ours)
        # what the page and the API say: the kind of error, not its text (a database error's text quotes statements
        # and the values in them); the log above has it all
        reason = (CUT_SHORT if cut_short else BROKE) % {"kind": type(exc).__name__}
        dropped = _ended(heartbeat, job_id, mine, lambda job: retry_or_fail(job, reason, cut_short))
    finally:
        heartbeat.stop()
        channel.close()
    job = db.session.get(Job, job_id)
    if job.finished:
        progress_store.forget(job_id)
    if dropped:  # (not "done": what the job is now is the other run's doing)
        log.info("job %s (%s): this run's attempt %s ended with nothing kept; attempt %s has the job (%s)", job_id,
                 job.kind, mine, job.attempts, job.state)
    else:
        log.info("job %s (%s): %s", job_id, job.kind, job.state)
    return job.state


def run_inline(job_id: int, handler: Handler) -> str:
    """Run a queued job at once in this process (JOBS_INLINE: tests), as a worker would after claiming it."""
    job = db.session.get(Job, job_id)
    start(job)
    db.session.commit()
    return run(job_id, handler)


def _ended(heartbeat: _Heartbeat, job_id: int, mine: int, record: Callable[[Job], None]) -> bool:
    """A run that did not finish: nothing it wrote stays, and its outcome is recorded unless another run took the
    job meanwhile (then True: dropped)."""
    db.session.rollback()  # nothing the job wrote stays
    heartbeat.stop()
    dropped = _claimed_again(job_id, mine)
    if not dropped:
        record(db.session.get(Job, job_id))
    db.session.commit()
    return dropped


def _claimed_again(job_id: int, mine: int) -> bool:
    """Whether another worker took the job since this run's claim (this one was silent past its lease: stopped,
    paused, cut off): then the job is the other run's, and this run must neither write its rows nor its outcome."""
    attempts = db.session.scalar(select(Job.attempts).where(Job.id == job_id))  # the row as committed (or ours)
    if attempts != mine:
        log.warning("job %s: taken again by another worker (attempt %s) since this run's attempt %s; this run's "
                    "work is dropped", job_id, attempts, mine)
        return True
    return False


def work_one(handlers: dict[str, Handler]) -> int | None:
    """Claim and run the next job of these kinds; its id, or None when there was none."""
    job = claim_next(handlers)
    db.session.commit()
    if job is None:
        return None
    run(job.id, handlers[job.kind])
    return job.id


def _priority() -> int:
    try:
        return os.getpriority(os.PRIO_PROCESS, 0)  # (Linux: the calling thread's)
    except (AttributeError, OSError):
        return 0


#: The priority this process started at: a lowered thread is set to it plus JOBS_NICE, so a thread lowered twice
#: (a job thread of the scheduler, itself lowered as a whole) is not lowered further.
_STARTED_AT = _priority()


def lower_priority(nice: int) -> None:
    """This thread (Linux schedules threads one by one) gives way to the web workers on a shared host: a big
    commit takes a little longer, the officers' pages do not wait behind it. Threads it starts afterwards inherit
    the lower priority."""
    if nice <= 0:
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, max(os.getpriority(os.PRIO_PROCESS, tid), min(19, _STARTED_AT + nice)))
    except (AttributeError, OSError):  # not Linux, or not allowed: run at the usual priority
        log.info("job worker: priority unchanged")


def aside(work: Callable[[], object]) -> object:
    """work() in a thread of its own at the jobs' lower priority (JOBS_NICE), this thread waiting for its answer or
    its exception: for CPU-heavy work a web request must still answer itself (the import's preview judges a whole
    file), so that on a host whose cores the web workers share, the other workers' requests go first. The thread has
    an application context of its own (its own database session, closed at its end): `work` must return plain
    values, not rows of that session, and only read: its SQLite transactions do not take the write lock, which the
    waiting request may hold. Run here, as before, when JOBS_NICE is 0."""
    app = current_app._get_current_object()
    nice = app.config["JOBS_NICE"]
    if nice <= 0:
        return work()
    outcome: dict = {}

    def run_aside() -> None:
        lower_priority(nice)
        reading_only()
        with app.app_context():
            try:
                outcome["value"] = work()
            except BaseException as exc:  # noqa: BLE001  (raised again in the waiting thread)
                outcome["error"] = exc

    thread = threading.Thread(target=run_aside, name="aside", daemon=True)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def work_forever(app: Flask, handlers: dict[str, Handler], stop: threading.Event, poll: float = 1.0) -> None:
    """Claim and run jobs until `stop` is set; look again every `poll` seconds when there are none."""
    lower_priority(app.config["JOBS_NICE"])
    while not stop.is_set():
        ran = None
        with app.app_context():
            try:
                ran = work_one(handlers)
            except Exception:  # noqa: BLE001  (the database gone for a moment: try again later)
                db.session.rollback()
                log.exception("claiming a job failed")
            finally:
                db.session.remove()
        if ran is None:
            stop.wait(poll)
