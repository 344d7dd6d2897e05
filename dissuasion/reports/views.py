"""The weekly report page, its archive and exports, and the feedback export (center: county and every precinct;
lead: own precinct)."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..core.database import writes_on_get
from ..core.decorators import roles_required
from ..core.enums import FraudType, Outcome, Role, Tier
from ..core.exports import export_allowed
from ..core.timeutil import now, typed_day
from ..extensions import db
from .metrics import Scope, outcomes_by_precinct
from .models import WeeklyReport
from .operations import export_feedback, export_report, store_report
from .prevention import prevention_rows
from .queries import archive, compute_report, may_read_report, report_target, reportable_precincts
from .tables import FRAUD_HEADER, chart_has_data, first_contact_rows, fraud_rows, metric_rows
from .weeks import WeekError, days_period, recent_weeks, week_of, week_period

bp = Blueprint("reports", __name__, url_prefix="/reports")
READERS = (Role.CENTER, Role.LEAD)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _week_and_precinct(source) -> tuple[str, object]:
    """The week (default: the current week to date, the week before beside it: on a busy Monday last week's
    figures are all zeros) and precinct (default: county for center, own for a lead) asked for; 404 for a malformed
    week or a precinct out of the user's reach."""
    code = source.get("precinct") or (None if current_user.role == Role.CENTER else current_user.precinct.code)
    try:
        week, precinct = report_target(source.get("week") or week_of(now()), code)
    except (WeekError, LookupError):
        abort(404)
    if not may_read_report(current_user, precinct):
        abort(404)
    return week, precinct


def _render(report: dict, precinct, snapshot: WeeklyReport | None = None):
    scope = Scope(precinct.id if precinct else None, current_user._get_current_object())
    names = {p.id: p.name for p in reportable_precincts(current_user)}
    by_precinct = [{"name": names.get(r["precinct_id"], _("未分派")), "outcomes": r["outcomes"]}
                   for r in outcomes_by_precinct(week_period(report["week"]), scope)]
    weeks = [week_of(now()), *recent_weeks(12)]
    return render_template("reports/weekly.html", report=report, precinct=precinct, snapshot=snapshot,
                           rows=metric_rows(report), fraud_header=FRAUD_HEADER, fraud_rows=fraud_rows(report),
                           chart={"report": report, "outcomes_by_precinct": by_precinct}, chart_labels=_chart_labels(),
                           has_data=chart_has_data(report, by_precinct), first_contact=first_contact_rows(report),
                           weeks=weeks if report["week"] in weeks else [report["week"], *weeks],
                           precincts=reportable_precincts(current_user), week_days=_days(report["week"]),
                           to_date=report["week"] == week_of(now()) and snapshot is None, computed_at=now(),
                           partial=snapshot is not None and snapshot.generated_at < week_period(report["week"]).end,
                           **_prevention(report))


def _prevention(report: dict) -> dict:
    """The 宣传防范 block's rows (reports/_prevention.html)."""
    return {"prevention_rows": prevention_rows(report)}


def _chart_labels() -> dict:
    """The charts' words, in the page's language; lists of [key, label], so the order survives JSON."""
    return {"outcomes": [[o.value, o.label] for o in Outcome], "tiers": [[t.value, t.label] for t in Tier],
            "fraud_types": {f.value: f.label for f in FraudType}, "this_week": _("本周"), "last_week": _("上周"),
            "warnings": _("预警数")}


def _days(week: str) -> tuple[str, str]:
    """The week's Monday and Sunday (ISO dates), the feedback form's defaults."""
    monday = dt.datetime.strptime(week + "-1", "%G-W%V-%u").date()
    return monday.isoformat(), (monday + dt.timedelta(days=6)).isoformat()


@bp.route("/weekly")
@roles_required(*READERS)
def weekly():
    """A week's report computed now, with the week before, charts, and the export and archive actions."""
    week, precinct = _week_and_precinct(request.args)
    return _render(compute_report(week, precinct, user=current_user), precinct)


@bp.route("/weekly.xlsx")
@roles_required(*READERS)
@writes_on_get
def weekly_export():
    """The report of the page as .xlsx (the same numbers), audited."""
    week, precinct = _week_and_precinct(request.args)
    data = export_report(compute_report(week, precinct, user=current_user), by=current_user, user=current_user)
    db.session.commit()
    name = f"weekly-{week}-{precinct.code if precinct else 'county'}.xlsx"
    return Response(data, mimetype=XLSX, headers={"Content-Disposition": f"attachment; filename={name}"})


@bp.route("/weekly/generate", methods=["POST"])
@roles_required(*READERS)
def generate():
    """Generate a week's report on demand and keep it in the archive."""
    week, precinct = _week_and_precinct(request.form)
    report = store_report(week, precinct, by=current_user)
    db.session.commit()
    flash(_("已生成并存档 %(week)s 的周报。", week=week), "success")
    return redirect(url_for("reports.snapshot", report_id=report.id))


@bp.route("/archive")
@roles_required(*READERS)
def archive_list():
    """Stored reports: the Monday ones and those generated on demand, newest week first."""
    return render_template("reports/archive.html", reports=archive(current_user))


@bp.route("/archive/<int:report_id>")
@roles_required(*READERS)
def snapshot(report_id: int):
    """A stored report exactly as it was generated."""
    stored = db.session.get(WeeklyReport, report_id)
    if stored is None or not may_read_report(current_user, stored.precinct):
        abort(404)
    return _render(stored.data, stored.precinct, snapshot=stored)


@bp.route("/feedback.xlsx")
@roles_required(*READERS)
@writes_on_get
def feedback_export():
    """Feedback to the center for a period (Asia/Shanghai days, both included) as .xlsx, audited."""
    try:
        period = days_period(typed_day(request.args.get("from", "")), typed_day(request.args.get("to", "")))
    except (ValueError, WeekError):
        flash(_("请填写开始和结束日期（结束不早于开始）。"), "error")
        return redirect(url_for("reports.weekly"))
    data, rows = export_feedback(period, by=current_user)
    if not export_allowed(current_user, rows):
        abort(403)
    db.session.commit()
    name = f"feedback-{request.args['from']}-{request.args['to']}.xlsx"
    return Response(data, mimetype=XLSX, headers={"Content-Disposition": f"attachment; filename={name}"})


from . import summary_views  # noqa: E402,F401  (the 工作总结 pages join this blueprint)
