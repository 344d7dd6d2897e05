"""Writes for reports: storing a report as an immutable snapshot, and the audited exports. Never commits."""
from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..core.auditlog import record
from ..core.exports import write_docx, write_xlsx
from ..core.timeutil import now
from ..directory.models import Precinct
from ..extensions import db
from .models import WeeklyReport
from .queries import FEEDBACK_HEADER, compute_report, feedback_rows, feedback_sheet_row
from .tables import precinct_sheet, report_sheets
from .weeks import Period

log = logging.getLogger(__name__)


def scheduled_key(week: str, precinct: Precinct | None) -> str:
    return f"{week}:{precinct.id if precinct else 'county'}"


def store_report(week: str, precinct: Precinct | None, by=None, scheduled: bool = False) -> WeeklyReport | None:
    """Compute a week's report and keep it as a snapshot with its generation time.

    On demand (scheduled=False) every call stores a new snapshot. The scheduler's Monday report is stored once
    per week and scope: a second run, even in another process at the same moment, finds the unique key taken
    and stores nothing (returns None).
    """
    key = scheduled_key(week, precinct) if scheduled else None
    if key and db.session.scalar(select(WeeklyReport.id).filter_by(scheduled_key=key)) is not None:
        return None
    report = WeeklyReport(week=week, precinct_id=precinct.id if precinct else None, generated_at=now(),
                          generated_by_id=by.id if by else None, data=compute_report(week, precinct),
                          scheduled_key=key)
    try:
        with db.session.begin_nested():
            db.session.add(report)
    except IntegrityError:
        log.info("weekly report %s already stored by another run", key)
        return None
    record("report_generated", "weekly_report", report.id, user=by, week=week,
           precinct=precinct.code if precinct else None, scheduled=scheduled)
    log.info("weekly report %s %s stored (id %s)", week, precinct.code if precinct else "county", report.id)
    return report


def export_report(report: dict, by=None, user=None) -> bytes:
    """A report dict as .xlsx (formula-safe); the county's has a sheet per precinct after its own, each that
    precinct's report within `user`'s reach. The export is audited."""
    record("export", "weekly_report", report["precinct"] or "county", user=by, week=report["week"])
    db.session.flush()
    sheets = report_sheets(report)
    if report["precinct"] is None:
        for precinct in db.session.scalars(select(Precinct).order_by(Precinct.code)):
            sheets.append(precinct_sheet(compute_report(report["week"], precinct, user=user), precinct))
    return write_xlsx(sheets)


def export_feedback(period: Period, by=None) -> tuple[bytes, int]:
    """Feedback to the center for a period as .xlsx, within the user's reach; audited. Returns (file, rows)."""
    rows = feedback_rows(period, by)
    record("export", "feedback", "", user=by, period=period.label, rows=len(rows))
    db.session.flush()
    return write_xlsx([("反馈", list(FEEDBACK_HEADER), [feedback_sheet_row(r) for r in rows])]), len(rows)


def feedback_for_api(period: Period, by) -> list[dict]:
    """Feedback to the center for a period, the rows the API sends (api.serialize makes them JSON), within the
    user's reach; audited."""
    rows = feedback_rows(period, by)
    record("export", "feedback", "", user=by, period=period.label, rows=len(rows), via="api")
    db.session.flush()
    return rows


def export_summary(text: str, figures: dict, fmt: str = "docx", by=None) -> bytes:
    """The 工作总结 (as drafted, or as the user edited it) as .docx or UTF-8 text; audited with its period."""
    record("export", "work_summary", figures["precinct"] or "county", user=by, format=fmt,
           period=f"{figures['current']['from']}..{figures['current']['to']}")
    db.session.flush()
    return write_docx(text) if fmt == "docx" else text.encode("utf-8")
