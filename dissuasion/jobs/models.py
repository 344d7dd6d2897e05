"""The job table: one row per piece of work a web request hands to a worker process."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..core.dbtypes import Json, UTCDateTime
from ..core.timeutil import now
from ..extensions import db

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
#: States in which a job may still change (the page keeps polling; its upload must stay).
OPEN_STATES = (QUEUED, RUNNING)
#: Why a job failed (its result's code): refused (what it was given says what to fix; the same again fails the same
#: way), interrupted (its runs were cut short, workers killed or the database gone: the same again may well
#: succeed), error (every run raised an error of ours: the logs say which; the same again fails the same way).
REFUSED, INTERRUPTED, ERROR = "refused", "interrupted", "error"


class Job(db.Model):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: What to run: a key of scheduler.JOB_KINDS (e.g. imports.commit).
    kind: Mapped[str] = mapped_column(String(40))
    #: queued, running, done or failed.
    state: Mapped[str] = mapped_column(String(16), default=QUEUED, index=True)
    #: What the job works on, as its kind understands it (an upload's token).
    ref: Mapped[str] = mapped_column(String(64), default="", index=True)
    #: Small arguments beside the ref (where a push came from).
    payload: Mapped[dict] = mapped_column(Json, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: Runs started, the current one included: a worker killed mid-way leaves it running with a stale heartbeat,
    #: and another worker takes it again (up to JOBS_MAX_ATTEMPTS).
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: Last sign of life of the worker running it (PostgreSQL; SQLite keeps it in the progress file, jobs/progress.py).
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: Progress: the stage (read, judge, write…) and rows done of total in it.
    stage: Mapped[str] = mapped_column(String(16), default="")
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    #: What the job did (an import's summary, SPEC "Fixed points"), once done; once failed, {"code": why}.
    result: Mapped[dict | None] = mapped_column(Json)
    #: Why it failed, in Chinese, saying what to fix.
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.kind} {self.state}>"

    @property
    def finished(self) -> bool:
        return self.state in (DONE, FAILED)

    @property
    def failed_code(self) -> str:
        """Why it failed: REFUSED, INTERRUPTED or ERROR (a job failed before the code was kept: REFUSED)."""
        return (self.result or {}).get("code", REFUSED)
