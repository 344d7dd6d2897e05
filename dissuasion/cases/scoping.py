"""Which cases a user may see: the accounts' visibility rule (auth.scoping) applied to Case. Every case query
goes through here."""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import abort
from flask_babel import gettext as _
from sqlalchemy import Select, select

from ..auth.scoping import scope
from ..core.enums import EventKind, Role
from ..core.errors import Conflict
from ..core.filters import fmt_time
from ..core.signals import cases_visible
from ..extensions import db
from .models import Case, CaseEvent

if TYPE_CHECKING:
    from ..auth.models import User


def scope_cases(user: User, stmt: Select | None = None) -> Select:
    """Restrict a query on Case to the user's reach: an officer their own cases and their precinct's pool, a lead
    their precinct, the center every case, an admin none."""
    return scope(user, select(Case) if stmt is None else stmt, Case.precinct_id, Case.assignee_id)


def case_or_404(user: User, case_id: int, *options) -> Case:
    """The case if this user may see it; otherwise 404, so a guessed id reveals nothing, except to an officer of its
    precinct when a colleague has just taken it from the pool: 409, saying who took it and when. `options`: loader
    options for what the caller shows (the person, …), loaded in the same query."""
    case = db.session.scalar(scope_cases(user).where(Case.id == case_id).options(*options))
    if case is None:
        not_visible(user, case_id)
    return case


def not_visible(user: User, case_id: int):
    """What a case this user may not see answers: 409 when a colleague has just taken it from the pool, else 404."""
    taken_from_pool(user, case_id)
    abort(404)


def taken_from_pool(user: User, case_id: int) -> None:
    """Raise Conflict (409) when this officer's precinct's case is now held by another officer who signed it for or
    was assigned it: the officer saw it in the pool a moment ago, and 404 would say it never existed."""
    if user.role != Role.OFFICER or user.precinct_id is None:
        return
    case = db.session.get(Case, case_id)
    if case is None or case.precinct_id != user.precinct_id or case.assignee_id in (None, user.id):
        return
    taken = db.session.scalar(select(CaseEvent).where(
        CaseEvent.case_id == case.id, CaseEvent.kind.in_((EventKind.SIGNED, EventKind.ASSIGNED)))
        .order_by(CaseEvent.at.desc(), CaseEvent.id.desc()).limit(1))
    if taken is None:  # assigned when it came in: never in this officer's pool
        return
    holder = case.assignee.label
    message = _("这件任务已由 %(who)s 于 %(at)s 领取，不在所内待分配任务中了。", who=holder, at=fmt_time(taken.at))
    raise Conflict(message, fields={"taken_by": holder, "taken_at": taken.at.isoformat()}, back="cases.worklist")


@cases_visible.connect
def visible_case_ids(user: User, case_ids: set[int]) -> set[int]:
    """Which of these cases the user may still open (a notification links only those)."""
    if not case_ids:
        return set()
    return set(db.session.scalars(scope_cases(user, select(Case.id)).where(Case.id.in_(case_ids))))
