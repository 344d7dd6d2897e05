"""Reads for reports: the weekly report dict (the one source of the CLI, the API, the page and the .xlsx),
the archive of stored reports, and the feedback rows for the center."""
from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, select
from sqlalchemy.orm import aliased

from ..auth.models import User
from ..cases.models import Case, EarlyWarning
from ..cases.scoping import scope_cases
from ..contacts.models import Contact
from ..core.enums import CaseStatus, Method, Outcome, Reached, Role, WarningSource
from ..core.timeutil import local, now
from ..directory.models import Precinct
from ..extensions import db
from ..privacy.freetext import mask_numbers
from .metrics import Scope, compute_metrics, outcome_of_case
from .models import WeeklyReport
from .prevention import prevention_section
from .weeks import Period, last_complete_week, previous_week, week_period


def compute_report(week: str, precinct: Precinct | None = None, user: User | None = None,
                   at: dt.datetime | None = None) -> dict:
    """The weekly report of one precinct (None: the county), with the week before beside it.

    `user` bounds the counts to what that user may see (scope_cases); CLI and scheduler pass None.
    overdue_now is counted at `at` (default: now) for the week itself and left null for the week before.
    """
    scope = Scope(precinct.id if precinct else None, user)
    metrics = compute_metrics(week_period(week), scope, at or now())
    previous = compute_metrics(week_period(previous_week(week)), scope, None)
    return {
        "week": week,
        "precinct": precinct.code if precinct else None,
        "metrics": metrics,
        "previous": previous,
        "prevention": prevention_section(week_period(week), week_period(previous_week(week)), precinct, user,
                                         (metrics["app_registrations"], previous["app_registrations"])),
    }


def precinct_by_code(code: str | None) -> Precinct | None:
    return db.session.scalar(select(Precinct).filter_by(code=code)) if code else None


def report_target(week: str | None, code: str | None) -> tuple[str, Precinct | None]:
    """The week asked for (default: the last complete one) and the precinct (no code: the county); WeekError for
    a malformed week, LookupError for a code not in the directory. Access is checked by may_read_report."""
    week = week or last_complete_week()
    week_period(week)
    precinct = precinct_by_code(code)
    if code and precinct is None:
        raise LookupError(f"派出所代码 {code} 不在目录中。")
    return week, precinct


def reportable_precincts(user: User) -> list[Precinct]:
    """The precincts whose report this user may read: center every one, a lead their own."""
    if user.role == Role.CENTER:
        return list(db.session.scalars(select(Precinct).order_by(Precinct.code)))
    if user.role == Role.LEAD and user.precinct is not None:
        return [user.precinct]
    return []


def may_read_report(user: User, precinct: Precinct | None) -> bool:
    """Center: the county and every precinct; lead: their own precinct only."""
    if user.role == Role.CENTER:
        return True
    return user.role == Role.LEAD and precinct is not None and precinct.id == user.precinct_id


def archive(user: User, limit: int = 200) -> list[WeeklyReport]:
    """Stored reports this user may read, newest week first."""
    stmt = select(WeeklyReport).order_by(WeeklyReport.week.desc(), WeeklyReport.generated_at.desc()).limit(limit)
    if user.role != Role.CENTER:
        stmt = stmt.where(WeeklyReport.precinct_id == user.precinct_id, WeeklyReport.precinct_id.is_not(None))
    return list(db.session.scalars(stmt))


# --- Feedback to the center (SPEC "Feedback to the center") -------------------------------------------------

FEEDBACK_KEYS = ("warning_id", "source", "status", "precinct", "assignee", "signed_at", "first_contact_at", "method",
                 "reached", "outcome", "amount_dissuaded", "amount_defrauded", "closed_at", "return_reason")
FEEDBACK_HEADER = ("预警编号", "来源", "状态", "派出所", "责任民警", "签收时间", "首次联系时间", "联系方式", "联系对象",
                   "处置结果", "劝阻金额(元)", "受骗金额(元)", "办结时间", "退回原因")
#: The status of a warning sent back (退回): it has no case, so no case status.
RETURNED = "returned"
TIME_FIELDS = ("signed_at", "first_contact_at", "closed_at")


def _deciding_contact(column):
    """The contact that answers 'how and whom': the first that reached someone, else the first attempt."""
    failed = case((Contact.reached == Reached.NONE, 1), else_=0)
    return (select(column).where(Contact.case_id == Case.id).order_by(failed, Contact.contacted_at, Contact.id)
            .limit(1).scalar_subquery())


def feedback_rows(period: Period, user: User | None = None) -> list[dict]:
    """One row per warning whose pushed_at (the center's own push time, so the center finds its rows by the
    dates it sent them; a hand entry's reported_at) falls in the period, with its source, its case's status and
    result; a warning sent back (退回) has the status `returned` and its reason, and only the center, who sees every
    precinct, gets those rows. Times are aware UTC, amounts Decimal."""
    assignee = aliased(User)
    stmt = (select(EarlyWarning.warning_no, EarlyWarning.source, Case.status, EarlyWarning.return_reason,
                   EarlyWarning.returned_at, Precinct.code, Precinct.name, assignee.display_name, assignee.username,
                   Case.signed_at, Case.first_attempt_at, _deciding_contact(Contact.method),
                   _deciding_contact(Contact.reached), outcome_of_case(), Case.amount_dissuaded,
                   Case.amount_defrauded, Case.closed_at)
            .outerjoin(Case, Case.id == EarlyWarning.case_id)
            .outerjoin(Precinct, Precinct.id == Case.precinct_id).outerjoin(assignee, assignee.id == Case.assignee_id)
            .where(EarlyWarning.pushed_at >= period.start, EarlyWarning.pushed_at < period.end)
            .order_by(EarlyWarning.pushed_at, EarlyWarning.id))
    if user is not None:
        stmt = scope_cases(user, stmt)  # a precinct's reader: its cases' rows; the center: every row
    rows = []
    for (no, source, status, return_reason, returned_at, code, name, display, username, signed, first, method,
         reached, outcome, dissuaded, defrauded, closed) in db.session.execute(stmt):
        if returned_at is None and status is None:
            continue  # no case and not sent back: cannot happen, but a row without either says nothing
        rows.append({"warning_id": no, "source": WarningSource(source),
                     "status": RETURNED if returned_at is not None else CaseStatus(status),
                     "return_reason": mask_numbers(return_reason) or None,
                     "precinct": code, "precinct_name": name or "", "assignee": display or username,
                     "signed_at": signed, "first_contact_at": first, "method": method and Method(method),
                     "reached": reached and Reached(reached), "outcome": outcome and Outcome(outcome),
                     "amount_dissuaded": dissuaded if outcome and Outcome(outcome).owns("amount_dissuaded") else None,
                     "amount_defrauded": defrauded if outcome and Outcome(outcome).owns("amount_defrauded") else None,
                     "closed_at": closed})
    return rows


def feedback_sheet_row(row: dict) -> list:
    """A feedback row for the .xlsx: labels in Chinese, times as Asia/Shanghai wall-clock times."""
    cells = []
    for key in FEEDBACK_KEYS:
        value = row[key]
        if key == "precinct":
            value = row["precinct_name"] or value
        elif key in TIME_FIELDS:
            value = local(value)
        elif key == "status" and value == RETURNED:
            value = str(_l("已退回"))
        elif key == "source":
            value = str(_l("推送")) if value.pushed else value.label
        elif value is not None and hasattr(value, "label"):
            value = value.label
        cells.append(value)
    return cells
