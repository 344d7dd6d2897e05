"""The one scheduler process (`flask --app app scheduler`): a table of jobs with stable ids.

Never started by web workers (STYLE pitfalls: APScheduler runs a job once per process that starts it).
Every job is safe to run twice and in two processes at once (claims.py), so `--run-once` from cron beside
a running scheduler does no harm. Jobs live in `<domain>/tasks.py`, take no arguments and commit per row.
"""
from __future__ import annotations

import importlib
import logging
import signal
from dataclasses import dataclass, field

from flask import Flask

from .extensions import db

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


def _function(job: Job):
    module, _sep, name = job.func.partition(":")
    return getattr(importlib.import_module(module), name)


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


def run_once(app: Flask) -> dict[str, object]:
    """Every job once, in table order (cron and tests)."""
    return {job.id: run_job(app, job) for job in JOBS}


def run_forever(app: Flask) -> None:
    """Run the table until Ctrl-C or SIGTERM; a job still running is let finish."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    # APScheduler says "Running job …" and "executed successfully" at INFO every minute for every job: only its
    # warnings (a missed run, a job still running) are worth a line; run_job logs what a job did.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    scheduler = BlockingScheduler(timezone="UTC", job_defaults={
        "coalesce": True, "max_instances": 1, "misfire_grace_time": 60})
    for job in JOBS:
        scheduler.add_job(run_job, args=(app, job), id=job.id, name=job.id, replace_existing=True, **job.trigger)

    def stop(signum, _frame):
        log.info("signal %s: stopping the scheduler", signum)
        if scheduler.running:
            scheduler.shutdown(wait=True)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stop)
    run_once(app)  # no need to wait a minute for what is already due
    scheduler.start()
