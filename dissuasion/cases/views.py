"""Worklists, boards and the case page. Thin: load through the scoping function, render."""
from flask import Blueprint, render_template, request
from flask_login import current_user

from ..auth.decorators import roles_required
from ..auth.scoping import case_or_404
from ..directory.models import Precinct
from ..enums import CaseStatus, Role
from ..extensions import db
from . import queries

bp = Blueprint("cases", __name__, url_prefix="/cases")
CASE_ROLES = (Role.OFFICER, Role.LEAD, Role.CENTER)


@bp.route("/")
@roles_required(Role.OFFICER, Role.LEAD, Role.CENTER)
def worklist():
    """The officer's home: who to reach first."""
    page = request.args.get("page", 1, type=int)
    status = request.args.get("status")
    status = CaseStatus(status) if status in CaseStatus._value2member_map_ else None
    pagination = queries.worklist(current_user, page=page, status=status)
    return render_template("cases/worklist.html", pagination=pagination, status=status,
                           overdue=queries.overdue_count(current_user))


@bp.route("/board")
@roles_required(Role.LEAD)
def precinct_board():
    """The lead's home: the precinct's cases by status and the overdue count."""
    return render_template("cases/precinct_board.html", counts=queries.counts_by_status(current_user),
                           overdue=queries.overdue_count(current_user),
                           pagination=queries.worklist(current_user, per_page=20))


@bp.route("/county")
@roles_required(Role.CENTER)
def center_board():
    """The center's home: every precinct's open, overdue and closed counts, and the routing queue."""
    precincts = {p.id: p for p in db.session.scalars(db.select(Precinct).order_by(Precinct.code))}
    rows = {pid: (open_, overdue, closed) for pid, open_, overdue, closed in queries.per_precinct(current_user)}
    return render_template("cases/center_board.html", precincts=precincts, rows=rows,
                           unrouted=queries.unrouted_count(current_user))


@bp.route("/<int:case_id>")
@roles_required(*CASE_ROLES)
def detail(case_id: int):
    """Everything about one case: the person (masked), warnings, flags, timeline."""
    case = case_or_404(current_user, case_id)
    return render_template("cases/detail.html", case=case)
