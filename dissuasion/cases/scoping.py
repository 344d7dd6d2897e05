"""Which cases a user may see: the accounts' visibility rule (auth.scoping) applied to Case. Every case query
goes through here."""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import abort
from sqlalchemy import Select, select

from ..auth.scoping import scope
from ..core.signals import cases_visible
from ..extensions import db
from .models import Case

if TYPE_CHECKING:
    from ..auth.models import User


def scope_cases(user: User, stmt: Select | None = None) -> Select:
    """Restrict a query on Case to the user's reach: an officer their own cases and their precinct's pool, a lead
    their precinct, the center every case, an admin none."""
    return scope(user, select(Case) if stmt is None else stmt, Case.precinct_id, Case.assignee_id)


def case_or_404(user: User, case_id: int) -> Case:
    """The case if this user may see it; otherwise 404, so a guessed id reveals nothing."""
    case = db.session.scalar(scope_cases(user).where(Case.id == case_id))
    if case is None:
        abort(404)
    return case


@cases_visible.connect
def visible_case_ids(user: User, case_ids: set[int]) -> set[int]:
    """Which of these cases the user may still open (a notification links only those)."""
    if not case_ids:
        return set()
    return set(db.session.scalars(scope_cases(user, select(Case.id)).where(Case.id.in_(case_ids))))
