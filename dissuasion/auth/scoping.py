"""The one place that decides which cases a user may see. Every case query goes through here."""
from flask import abort
from sqlalchemy import Select, false, or_, select

from ..cases.models import Case
from ..enums import Role
from ..extensions import db
from .models import User


def scope_cases(user: User, stmt: Select | None = None) -> Select:
    """Restrict a query on Case to the user's reach (SPEC "Who uses it").

    officer: cases assigned to them and their precinct's unassigned pool; lead: their precinct;
    center: every case; admin: none (admins manage the system, not case content).
    """
    stmt = select(Case) if stmt is None else stmt
    if user.role == Role.CENTER:
        return stmt
    if user.role == Role.LEAD and user.precinct_id is not None:
        return stmt.where(Case.precinct_id == user.precinct_id)
    if user.role == Role.OFFICER and user.precinct_id is not None:
        return stmt.where(Case.precinct_id == user.precinct_id,
                          or_(Case.assignee_id == user.id, Case.assignee_id.is_(None)))
    return stmt.where(false())


def case_or_404(user: User, case_id: int) -> Case:
    """The case if this user may see it; otherwise 404, so a guessed id reveals nothing."""
    case = db.session.scalar(scope_cases(user).where(Case.id == case_id))
    if case is None:
        abort(404)
    return case


def can_see_cases(user: User) -> bool:
    return user.role != Role.ADMIN
