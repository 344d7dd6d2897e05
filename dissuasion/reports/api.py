"""The reports' JSON handlers, routed by the shared API blueprint (api/reports.py): GET /api/v1/reports/weekly
and GET /api/v1/feedback. They take the token's user and the query arguments and return (dict, status)."""
from __future__ import annotations

import datetime as dt

from ..api.errors import error
from ..auth.models import User
from ..enums import Role
from .operations import feedback_items
from .queries import compute_report, may_read_report, report_target
from .weeks import WeekError, days_period


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
            dates[key] = dt.date.fromisoformat(args.get(key) or "")
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
    items = feedback_items(period, user)
    return {"from": dates["from"].isoformat(), "to": dates["to"].isoformat(), "items": items}, 200
