"""Putting a job in the table, claiming it, and recording how it ended. Nothing here commits: the web request
that queues a job commits it, and the runner (jobs/runner.py) commits each step of a job's life."""
from __future__ import annotations

import datetime as dt

from flask import current_app
from sqlalchemy import select, update

from ..core.timeutil import now
from ..extensions import db
from . import progress
from .models import DONE, ERROR, FAILED, INTERRUPTED, QUEUED, REFUSED, RUNNING, Job

#: The reason a job given up after too many runs carries (each run was killed or failed without a refusal).
GAVE_UP = ("任务已尝试 %(n)d 次仍未完成（最后一次：%(last)s）。已写入的内容全部撤回，没有任何改动；"
           "请重新提交，或联系管理员查看日志。")


def enqueue(kind: str, ref: str = "", by=None, payload: dict | None = None) -> Job:
    """A new queued job; flushed so it has its id (the caller commits)."""
    job = Job(kind=kind, ref=ref, created_by_id=by.id if by else None, payload=payload or {}, state=QUEUED)
    db.session.add(job)
    db.session.flush()
    return job


def lease() -> dt.timedelta:
    """How long a running job's worker may stay silent before another worker takes the job again."""
    return dt.timedelta(seconds=current_app.config["JOBS_LEASE_SECONDS"])


def last_sign(job: Job, seen: dict | None = None) -> dt.datetime | None:
    """When the worker running a job last said it lives: its progress' heartbeat (`seen`: progress.read(job), if
    the caller has it already), else the run's start."""
    return (seen if seen is not None else progress.read(job))["beat_at"] or job.started_at


def stale(job: Job, at: dt.datetime, seen: dict | None = None) -> bool:
    """Whether a running job's worker has been silent past the lease at `at` (its job is taken again)."""
    beat = last_sign(job, seen)
    return beat is None or beat < at - lease()


def claim_next(kinds) -> Job | None:
    """Take the oldest queued job of these kinds, or a running one whose worker has gone silent: it is marked
    running with one more attempt. PostgreSQL: FOR UPDATE SKIP LOCKED, so workers on many hosts never take one
    job twice; SQLite: BEGIN IMMEDIATE already serialises writers, and the UPDATE is conditional on the state read.
    The caller commits at once."""
    at = now()
    candidates = (select(Job).where(Job.kind.in_(list(kinds)), Job.state.in_((QUEUED, RUNNING)))
                  .order_by(Job.id).with_for_update(skip_locked=True).execution_options(populate_existing=True))
    for job in db.session.scalars(candidates.limit(50)):
        if job.state == RUNNING and not stale(job, at):
            continue
        if job.attempts >= current_app.config["JOBS_MAX_ATTEMPTS"]:
            give_up(job, job.error or "进程中断")
            continue
        taken = db.session.execute(
            update(Job).where(Job.id == job.id, Job.state == job.state, Job.attempts == job.attempts)
            .values(state=RUNNING, attempts=Job.attempts + 1, started_at=at, heartbeat_at=at, stage="", done=0,
                    total=0).execution_options(synchronize_session=False))
        if taken.rowcount == 1:
            db.session.refresh(job)
            return job
    return None


def start(job: Job) -> None:
    """Running, one more attempt (a claim does the same in one conditional UPDATE)."""
    at = now()
    job.state, job.attempts, job.started_at, job.heartbeat_at = RUNNING, job.attempts + 1, at, at


def finish(job: Job, result: dict) -> None:
    """Done: its result kept for the page and the API (in the job's own transaction, with what it wrote)."""
    job.state, job.result, job.error, job.finished_at = DONE, result, "", now()


def fail(job: Job, reason: str, code: str = REFUSED) -> None:
    """Failed for good, with the reason the page shows (a refused file: not retried) and its code in the result."""
    job.state, job.error, job.result, job.finished_at = FAILED, reason, {"code": code}, now()


def give_up(job: Job, last: str, code: str = INTERRUPTED) -> None:
    fail(job, GAVE_UP % {"n": job.attempts, "last": last}, code)


def retry_or_fail(job: Job, reason: str, cut_short: bool = True) -> None:
    """A run that broke (not a refusal): queued again while attempts remain, else failed with the reason; the last
    run `cut_short` (its database connection lost, a lock not had) or an error of ours (ERROR)."""
    if job.attempts >= current_app.config["JOBS_MAX_ATTEMPTS"]:
        give_up(job, reason, INTERRUPTED if cut_short else ERROR)
    else:
        job.state, job.error = QUEUED, reason


def job_of(kind: str, ref: str) -> Job | None:
    """The latest job of a kind on this ref (a commit pressed twice finds the first one)."""
    return db.session.scalar(select(Job).filter_by(kind=kind, ref=ref).order_by(Job.id.desc()).limit(1))


def open_refs(kind: str):
    """The refs of jobs of this kind not finished yet (their uploads must stay)."""
    return select(Job.ref).where(Job.kind == kind, Job.state.not_in((DONE, FAILED)))
