"""Who may do what to a case they can already see (scoping decides the seeing).

The operations check these before acting, and the case page asks them so it offers only the
actions this user may take.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.enums import CaseStatus, Role
from .models import Case

if TYPE_CHECKING:
    from ..auth.models import User


def _leads_its_precinct(user: User, case: Case) -> bool:
    return user.role == Role.LEAD and case.precinct_id is not None and user.precinct_id == case.precinct_id


def may_sign(user: User, case: Case) -> bool:
    """签收: a lead of the precinct, or an officer for their own case or one from the precinct's pool."""
    return case.status == CaseStatus.NEW and may_work(user, case)


def may_assign(user: User, case: Case) -> bool:
    """Assigning and reassigning within the precinct is the lead's."""
    return case.is_open and _leads_its_precinct(user, case)


def may_transfer(user: User, case: Case) -> bool:
    """A lead hands an open case to another precinct; the center moves any precinct's."""
    if not case.is_open or case.precinct_id is None:
        return False
    return user.role == Role.CENTER or _leads_its_precinct(user, case)


def may_route(user: User, case: Case) -> bool:
    """Only the center routes a case waiting in its queue (precinct unknown) to a precinct."""
    return user.role == Role.CENTER and case.precinct_id is None and case.is_open


def may_work(user: User, case: Case) -> bool:
    """Contacts, follow-ups and closing: a lead of the precinct, or an officer for their own or a pool case."""
    if case.precinct_id is None:
        return False
    if _leads_its_precinct(user, case):
        return True
    return (user.role == Role.OFFICER and user.precinct_id == case.precinct_id
            and case.assignee_id in (None, user.id))


def may_approve_close(user: User, case: Case) -> bool:
    """Approving a close without a visit, and reopening a case given up as unreachable, are the lead's."""
    return _leads_its_precinct(user, case)


def allowed_actions(user: User, case: Case) -> dict[str, bool]:
    """What the case page offers this user."""
    work = may_work(user, case)
    return {"sign": may_sign(user, case), "assign": may_assign(user, case),
            "transfer": may_transfer(user, case), "route": may_route(user, case),
            "contact": work and (case.is_open or case.in_watch()), "close": work and case.is_open,
            "approve": may_approve_close(user, case) and case.is_open and not case.visit_made(),
            "reopen": may_approve_close(user, case) and case.status == CaseStatus.UNREACHABLE}
