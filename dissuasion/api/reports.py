"""The reports' endpoints: GET /api/v1/reports/weekly and GET /api/v1/feedback. Each handler takes the token's user
and the query arguments and returns (dict, status)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import g, request

from ..core.database import writes_on_get
from ..core.enums import Role
from ..core.timeutil import typed_day
from ..reports.operations import feedback_for_api
from ..reports.queries import compute_report, may_read_report, report_target
from ..reports.weeks import WeekError, days_period
from .errors import error
from .routes import bp, respond
from .serialize import feedback_json

if TYPE_CHECKING:
    from ..auth.models import User


@bp.get("/reports/weekly")
@writes_on_get
def get_weekly_report():
    """GET /api/v1/reports/weekly?week=2026-W47&precinct=PCS01."""
    return respond(*weekly_report(g.api_user, request.args))


@bp.get("/feedback")
@writes_on_get
def get_feedback():
    """GET /api/v1/feedback?from=2026-11-16&to=2026-11-22."""
    return respond(*feedback(g.api_user, request.args))


def weekly_report(user: User, args) -> tuple[dict, int]:
    """The weekly report JSON (the same dict as the CLI and the page); center: any precinct or the county
    (no precinct); lead: own precinct; anything else 404."""
    try:
        week, precinct = report_target(args.get("week"), args.get("precinct") or None)
    except WeekError as exc:
        return error("invalid", str(exc), 400, {"week": str(exc)})
    except LookupError:
        precinct = None
        user = None  # an unknown precinct answers exactly like one out of reach
    if user is None or not may_read_report(user, precinct):
        return error("not_found", "没有这个派出所的周报，或无权查看。", 404)
    return compute_report(week, precinct, user=user), 200


def feedback(user: User, args) -> tuple[dict, int]:
    """Feedback to the center: one item per warning pushed between `from` and `to` (Asia/Shanghai days,
    both included), within the user's reach; audited."""
    fields = {}
    dates = {}
    for key in ("from", "to"):
        try:
            dates[key] = typed_day(args.get(key) or "")
        except ValueError:
            fields[key] = "日期格式应为 2026-11-16。"
    if fields:
        return error("invalid", "请给出开始和结束日期。", 400, fields)
    try:
        period = days_period(dates["from"], dates["to"])
    except WeekError as exc:
        return error("invalid", str(exc), 400, {"to": str(exc)})
    if user.role not in (Role.CENTER, Role.LEAD):
        return error("forbidden", "无权导出反馈。", 403)
    items = [feedback_json(row) for row in feedback_for_api(period, user)]
    return {"from": dates["from"].isoformat(), "to": dates["to"].isoformat(), "items": items}, 200
