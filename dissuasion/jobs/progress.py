"""How far a running job is, readable by the web while the job's write transaction is still open.

The job's own transaction cannot carry it (nobody sees it before the commit), so progress and the worker's
heartbeat go another way: on PostgreSQL an UPDATE of the job's row on a connection of its own in autocommit; on
SQLite the import's transaction holds the database's one write lock, so a small SQLite file of its own beside it
(instance/job_progress.db, config JOBS_PROGRESS_FILE). Per-process memory would not do: the web and the worker are
different processes.
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
                 "total INTEGER, beat_at REAL)")
    for name in (path, path + "-wal", path + "-shm"):
        if os.path.exists(name) and os.stat(name).st_mode & 0o777 != 0o600:
            os.chmod(name, 0o600)
    return conn


def _on_postgresql() -> bool:
    return db.engine.dialect.name == "postgresql"


class Progress:
    """progress(stage, done, total), the callback the import pipeline calls; beat() says the worker lives."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        self._lock = threading.Lock()
        self._last = (None, 0.0)
        if _on_postgresql():
            self._conn = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            self._sql = None
        else:
            self._conn, self._sql = None, _sidecar()
            self._sql.execute("DELETE FROM progress WHERE job_id = ?", (job_id,))  # a job id a test database reused

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
                if stage is None:
                    self._conn.execute(text("UPDATE jobs SET heartbeat_at = :at WHERE id = :id"),
                                       {"at": at.replace(tzinfo=None), "id": self.job_id})
                else:
                    self._conn.execute(text("UPDATE jobs SET heartbeat_at = :at, stage = :stage, done = :done, "
                                            "total = :total WHERE id = :id"),
                                       {"at": at.replace(tzinfo=None), "stage": stage, "done": done, "total": total,
                                        "id": self.job_id})
            elif stage is None:
                self._sql.execute("INSERT INTO progress (job_id, stage, done, total, beat_at) VALUES (?, '', 0, 0, ?) "
                                  "ON CONFLICT (job_id) DO UPDATE SET beat_at = excluded.beat_at",
                                  (self.job_id, at.timestamp()))
            else:
                self._sql.execute("INSERT OR REPLACE INTO progress (job_id, stage, done, total, beat_at) "
                                  "VALUES (?, ?, ?, ?, ?)", (self.job_id, stage, done, total, at.timestamp()))

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
