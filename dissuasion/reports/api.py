"""The reports' JSON API: GET /api/v1/reports/weekly and GET /api/v1/feedback.

TO FOLD IN AT MERGE: issue 5 builds the shared API blueprint (dissuasion/api/) with bearer-token auth. Until then
this module carries its own small blueprint `reports_api` and `_token_user`; at merge, register the two handler
functions (`weekly_report`, `feedback`) on the shared blueprint and delete `reports_api` and `_token_user`.
The handlers take a user and the query arguments and return (dict, status), so they do not depend on either.
"""
from __future__ import annotations

import datetime as dt
import hashlib

from flask import Blueprint, jsonify, request
from sqlalchemy import select

from ..auth.models import ApiToken, User
from ..database import writes_on_get
from ..enums import Role
from ..extensions import csrf, db
from ..timeutil import now
from .operations import feedback_items
from .queries import compute_report, may_read_report, report_target
from .weeks import WeekError, days_period


def error(code: str, message: str, status: int, fields: dict | None = None) -> tuple[dict, int]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}, status


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


# --- Temporary: own blueprint and bearer-token check, until the shared API blueprint (issue 5) is merged. ---

reports_api = Blueprint("reports_api", __name__, url_prefix="/api/v1")
csrf.exempt(reports_api)


def _token_user() -> User | None:
    """The active user of a valid, unrevoked bearer token, or None."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    digest = hashlib.sha256(header[7:].strip().encode()).hexdigest()
    token = db.session.scalar(select(ApiToken).filter_by(token_hash=digest, revoked=False))
    if token is None or not token.user.active:
        return None
    token.last_used_at = now()
    return token.user


def _respond(handler):
    user = _token_user()
    body, status = error("unauthorized", "需要有效的 API 令牌（Authorization: Bearer …）。", 401) if user is None \
        else handler(user, request.args)
    db.session.commit()
    return jsonify(body), status


@reports_api.route("/reports/weekly")
@writes_on_get
def api_weekly_report():
    """GET /api/v1/reports/weekly?week=2026-W47&precinct=PCS01."""
    return _respond(weekly_report)


@reports_api.route("/feedback")
@writes_on_get
def api_feedback():
    """GET /api/v1/feedback?from=2026-11-16&to=2026-11-22."""
    return _respond(feedback)
