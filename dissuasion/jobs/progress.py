"""How far a running job is, readable by the web while the job's write transaction is still open.

The job's own transaction cannot carry it (nobody sees it before the commit), so progress and the worker's
heartbeat go another way: on PostgreSQL an UPDATE of the job's row on a connection of its own in autocommit; on
SQLite the import's transaction holds the database's one write lock, so a small SQLite file of its own beside it
(instance/job_progress.db, config JOBS_PROGRESS_FILE). Per-process memory would not do: the web and the worker are
different processes.

Each report carries the run's attempt (the job's `attempts` when it was claimed): a run taken over by another worker
(silent past its lease, then awake again before it notices) writes nothing over the newer run's progress, so the
page does not jump between the two.
"""
from __future__ import annotations

import datetime as dt
import os
import sqlite3
import threading
import time
from pathlib import Path

from flask import current_app
from sqlalchemy import text

from ..core.timeutil import UTC, now
from ..extensions import db

#: A progress report is written at most this often (seconds), unless its stage changes.
EVERY = 0.25


def _sidecar_path() -> str:
    path = current_app.config.get("JOBS_PROGRESS_FILE") or str(Path(current_app.instance_path) / "job_progress.db")
    Path(path).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _sidecar() -> sqlite3.Connection:
    path = _sidecar_path()
    conn = sqlite3.connect(path, timeout=5, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE IF NOT EXISTS progress (job_id INTEGER PRIMARY KEY, stage TEXT, done INTEGER, "
                 "total INTEGER, beat_at REAL, attempt INTEGER NOT NULL DEFAULT 0)")
    if "attempt" not in {row[1] for row in conn.execute("PRAGMA table_info(progress)")}:  # a file from before
        conn.execute("ALTER TABLE progress ADD COLUMN attempt INTEGER NOT NULL DEFAULT 0")
    for name in (path, path + "-wal", path + "-shm"):
        if os.path.exists(name) and os.stat(name).st_mode & 0o777 != 0o600:
            os.chmod(name, 0o600)
    return conn


def _on_postgresql() -> bool:
    return db.engine.dialect.name == "postgresql"


class Progress:
    """progress(stage, done, total), the callback the import pipeline calls; beat() says the worker lives. `attempt`:
    the run's own (the job's attempts when it was claimed); a later run's reports win over this one's."""

    def __init__(self, job_id: int, attempt: int):
        self.job_id, self.attempt = job_id, attempt
        self._lock = threading.Lock()
        self._last = (None, 0.0)
        if _on_postgresql():
            self._conn = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            self._sql = None
        else:
            self._conn, self._sql = None, _sidecar()
            # this run's row from now on (an earlier run's, or a job id a test database reused, is replaced)
            self._sql.execute("INSERT OR REPLACE INTO progress (job_id, stage, done, total, beat_at, attempt) "
                              "VALUES (?, '', 0, 0, ?, ?)", (job_id, now().timestamp(), attempt))

    def __call__(self, stage: str, done: int, total: int) -> None:
        stage_before, at = self._last
        if stage == stage_before and time.monotonic() - at < EVERY and done < total:
            return
        self._last = (stage, time.monotonic())
        self._write(stage, done, total)

    def beat(self) -> None:
        self._write(None, None, None)

    def _write(self, stage, done, total) -> None:
        with self._lock:
            at = now()
            if self._conn is not None:
                mine = {"at": at.replace(tzinfo=None), "id": self.job_id, "attempt": self.attempt}
                if stage is None:
                    self._conn.execute(text("UPDATE jobs SET heartbeat_at = :at WHERE id = :id "
                                            "AND attempts = :attempt"), mine)
                else:
                    self._conn.execute(text("UPDATE jobs SET heartbeat_at = :at, stage = :stage, done = :done, "
                                            "total = :total WHERE id = :id AND attempts = :attempt"),
                                       {**mine, "stage": stage, "done": done, "total": total})
            elif stage is None:
                self._sql.execute("INSERT INTO progress (job_id, stage, done, total, beat_at, attempt) "
                                  "VALUES (?, '', 0, 0, ?, ?) ON CONFLICT (job_id) DO UPDATE SET "
                                  "beat_at = excluded.beat_at WHERE excluded.attempt >= progress.attempt",
                                  (self.job_id, at.timestamp(), self.attempt))
            else:
                self._sql.execute("INSERT INTO progress (job_id, stage, done, total, beat_at, attempt) "
                                  "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (job_id) DO UPDATE SET "
                                  "stage = excluded.stage, done = excluded.done, total = excluded.total, "
                                  "beat_at = excluded.beat_at, attempt = excluded.attempt "
                                  "WHERE excluded.attempt >= progress.attempt",
                                  (self.job_id, stage, done, total, at.timestamp(), self.attempt))

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
            if self._sql is not None:
                self._sql.close()
            self._conn = self._sql = None


def read(job) -> dict:
    """{stage, done, total, beat_at} of a job as last reported (the job's row, or SQLite's progress file)."""
    found = {"stage": job.stage, "done": job.done, "total": job.total, "beat_at": job.heartbeat_at}
    if _on_postgresql():
        return found
    conn = _sidecar()
    try:
        row = conn.execute("SELECT stage, done, total, beat_at FROM progress WHERE job_id = ?", (job.id,)).fetchone()
    finally:
        conn.close()
    if row is not None:
        beat = dt.datetime.fromtimestamp(row[3], UTC)
        if row[0]:
            found.update(stage=row[0], done=row[1], total=row[2])
        if found["beat_at"] is None or beat > found["beat_at"]:
            found["beat_at"] = beat
    return found


def shown(job) -> dict:
    """What the progress page and the API show of a job: its last report while it runs, nothing once it ended."""
    return read(job) if not job.finished else {"stage": "", "done": 0, "total": 0, "beat_at": None}


def forget(job_id: int) -> None:
    """Drop what SQLite's progress file holds for a finished job (PostgreSQL keeps it on the row)."""
    if _on_postgresql():
        return
    conn = _sidecar()
    try:
        conn.execute("DELETE FROM progress WHERE job_id = ?", (job_id,))
    finally:
        conn.close()
