"""Reading cases: the worklist order and the counts the boards show. Every query is scoped first."""
from sqlalchemy import case as sql_case
from sqlalchemy import func, select

from ..auth.models import User
from ..auth.scoping import scope_cases
from ..enums import CaseStatus, Tier
from ..extensions import db
from ..timeutil import now
from .models import Case

TIER_ORDER = sql_case({t.value: t.rank for t in Tier}, value=Case.tier, else_=len(Tier))


def worklist(user: User, page: int = 1, per_page: int = 50, status: CaseStatus | None = None):
    """Open cases this user may work on: overdue first, then by tier, then nearest deadline."""
    at = now()
    stmt = scope_cases(user).where(Case.status.in_(CaseStatus.open_values()) if status is None
                                   else Case.status == status)
    overdue_first = sql_case((Case.due_at < at, 0), else_=1)
    stmt = stmt.order_by(overdue_first, TIER_ORDER, Case.due_at, Case.id)
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def counts_by_status(user: User) -> dict[CaseStatus, int]:
    """How many cases of each status this user can see."""
    stmt = scope_cases(user, select(Case.status, func.count()).select_from(Case)).group_by(Case.status)
    counts = dict(db.session.execute(stmt).all())
    return {s: counts.get(s, 0) for s in CaseStatus}


def overdue_count(user: User) -> int:
    stmt = scope_cases(user, select(func.count()).select_from(Case)).where(
        Case.status.in_(CaseStatus.open_values()), Case.due_at < now())
    return db.session.scalar(stmt) or 0


def unrouted_count(user: User) -> int:
    """Cases waiting in the center's routing queue (precinct unknown)."""
    stmt = scope_cases(user, select(func.count()).select_from(Case)).where(
        Case.precinct_id.is_(None), Case.status.in_(CaseStatus.open_values()))
    return db.session.scalar(stmt) or 0


def per_precinct(user: User) -> list[tuple]:
    """(precinct_id, open, overdue, closed) for the center's board."""
    at = now()
    is_open = Case.status.in_(CaseStatus.open_values())
    stmt = scope_cases(user, select(
        Case.precinct_id,
        func.sum(sql_case((is_open, 1), else_=0)),
        func.sum(sql_case((is_open & (Case.due_at < at), 1), else_=0)),
        func.sum(sql_case((Case.status == CaseStatus.CLOSED, 1), else_=0)),
    ).select_from(Case)).group_by(Case.precinct_id)
    return db.session.execute(stmt).all()
