"""The home redirect by role and the health check."""
from flask import Blueprint, jsonify, redirect, url_for
from flask_login import current_user, login_required
from sqlalchemy import text

from ..extensions import db
from .enums import Role

bp = Blueprint("main", __name__)

HOME_BY_ROLE = {
    Role.OFFICER: "cases.worklist",
    Role.LEAD: "cases.precinct_board",
    Role.CENTER: "cases.center_board",
    Role.ADMIN: "users.index",
}


@bp.route("/")
@login_required
def home():
    """Each role starts on its own page."""
    return redirect(url_for(HOME_BY_ROLE[current_user.role]))


@bp.route("/healthz")
def healthz():
    """For the load balancer and monitoring: 200 when the database answers, 503 when it does not."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001  (any database failure means unhealthy)
        db.session.rollback()
        return jsonify(status="error", database=type(exc).__name__), 503
    return jsonify(status="ok", database="ok")
