"""Reading cases: the worklist order, the boards, the routing queue and search. Every query is scoped first."""
import re
from dataclasses import dataclass

from sqlalchemy import case as sql_case
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..auth.models import User
from ..core.enums import CaseStatus, Method, Tier
from ..core.text import clean_text
from ..core.timeutil import now
from ..extensions import db
from ..privacy.pii import blind_index, normalize_id, normalize_phone, phone_valid
from .models import Case, EarlyWarning, Person
from .scoping import scope_cases

TIER_ORDER = sql_case({t.value: t.rank for t in Tier}, value=Case.tier, else_=len(Tier))
#: A full ID number as typed in the search box (old 15-digit numbers too); anything shorter is not one.
_ID_LIKE = re.compile(r"^\d{14}(\d{3})?[\dX]$")
BOARD_ROWS = 100


@dataclass
class WorklistFilter:
    """What the worklist's filter bar asks for; None means any."""

    status: CaseStatus | None = None
    tier: Tier | None = None
    method: Method | None = None
    overdue: bool = False
    #: Only the precinct's pool (unassigned cases).
    pool: bool = False
    #: Only cases held by this user (the API's assignee=me).
    assignee_id: int | None = None


def _open():
    return Case.status.in_(CaseStatus.open_values())


def _with_people(stmt):
    """Rows show the person and the holder: one extra query each for the page, not one per row.

    Not a join: SQLite would join every candidate row before sorting and keeping the first 50.
    """
    return stmt.options(selectinload(Case.person), selectinload(Case.assignee))


def worklist(user: User, page: int = 1, per_page: int = 50, filters: WorklistFilter | None = None):
    """Cases this user may work on (open ones unless a status is asked for): overdue first, then tier, deadline.

    Two steps: the page's ids, sorted and counted from the worklist indexes alone, then those 50 rows.
    """
    f = filters or WorklistFilter()
    at = now()
    stmt = scope_cases(user, select(Case.id)).where(_open() if f.status is None else Case.status == f.status)
    if f.tier is not None:
        stmt = stmt.where(Case.tier == f.tier)
    if f.method is not None:
        stmt = stmt.where(Case.method == f.method)
    if f.overdue:
        stmt = stmt.where(Case.due_at < at)
    if f.pool:
        stmt = stmt.where(Case.assignee_id.is_(None))
    if f.assignee_id is not None:
        stmt = stmt.where(Case.assignee_id == f.assignee_id)
    overdue_first = sql_case((Case.due_at < at, 0), else_=1)
    pagination = db.paginate(stmt.order_by(overdue_first, TIER_ORDER, Case.due_at, Case.id),
                             page=page, per_page=per_page, error_out=False)
    ids = list(pagination.items)
    rows = {c.id: c for c in db.session.scalars(_with_people(select(Case).where(Case.id.in_(ids))))}
    pagination.items = [rows[i] for i in ids]
    return pagination


def counts_by_status(user: User) -> dict[CaseStatus, int]:
    """How many cases of each status this user can see."""
    stmt = scope_cases(user, select(Case.status, func.count()).select_from(Case)).group_by(Case.status)
    counts = dict(db.session.execute(stmt).all())
    return {s: counts.get(s, 0) for s in CaseStatus}


def overdue_count(user: User) -> int:
    stmt = scope_cases(user, select(func.count()).select_from(Case)).where(_open(), Case.due_at < now())
    return db.session.scalar(stmt) or 0


def unassigned(user: User, limit: int = BOARD_ROWS) -> list[Case]:
    """Open cases in the precinct's pool, most urgent first (the lead's board)."""
    stmt = scope_cases(user).where(_open(), Case.precinct_id.is_not(None), Case.assignee_id.is_(None))
    return list(db.session.scalars(_with_people(stmt.order_by(TIER_ORDER, Case.due_at, Case.id)).limit(limit)))


def overdue(user: User, limit: int = BOARD_ROWS) -> list[Case]:
    """Open cases past their deadline, longest overdue first, with who holds them."""
    stmt = scope_cases(user).where(_open(), Case.due_at < now())
    return list(db.session.scalars(_with_people(stmt.order_by(Case.due_at, Case.id)).limit(limit)))


def overdue_by_holder(user: User) -> list[tuple[User | None, int]]:
    """(holder, overdue cases) for the lead: who is behind; None is the pool."""
    stmt = scope_cases(user, select(Case.assignee_id, func.count()).select_from(Case)).where(
        _open(), Case.due_at < now()).group_by(Case.assignee_id).order_by(func.count().desc())
    rows = db.session.execute(stmt).all()
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_([r[0] for r in rows if r[0]])))}
    return [(users.get(holder), n) for holder, n in rows]


def unrouted_count(user: User) -> int:
    """Cases waiting in the center's routing queue (precinct unknown)."""
    stmt = scope_cases(user, select(func.count()).select_from(Case)).where(Case.precinct_id.is_(None), _open())
    return db.session.scalar(stmt) or 0


def unrouted(user: User, limit: int = BOARD_ROWS) -> list[Case]:
    """The routing queue, most urgent first (特高危 before 低风险, then the earliest deadline), with the warnings that
    say where the center thought the person was."""
    stmt = scope_cases(user).where(Case.precinct_id.is_(None), _open()).order_by(TIER_ORDER, Case.due_at, Case.id)
    return list(db.session.scalars(stmt.options(selectinload(Case.person), selectinload(Case.warnings)).limit(limit)))


def _newest_warnings(user: User):
    """(case_id, wid): each case of the routing queue and its newest warning, whose place the center wrote last."""
    return scope_cases(user, select(EarlyWarning.case_id.label("case_id"), func.max(EarlyWarning.id).label("wid"))
                       .select_from(Case).join(EarlyWarning, EarlyWarning.case_id == Case.id)).where(
        Case.precinct_id.is_(None), _open()).group_by(EarlyWarning.case_id).subquery()


def unrouted_groups(user: User, limit: int | None = 20) -> list[tuple[str, int]]:
    """(precinct as the center wrote it in a case's newest warning, cases of the routing queue), largest first: a
    misspelt or new precinct fills the queue with hundreds of cases that one choice routes."""
    newest, cases = _newest_warnings(user), func.count()
    stmt = select(EarlyWarning.precinct_text, cases).join(newest, EarlyWarning.id == newest.c.wid).group_by(
        EarlyWarning.precinct_text).order_by(cases.desc(), EarlyWarning.precinct_text).limit(limit)
    return [(text or "", n) for text, n in db.session.execute(stmt).all()]


def unrouted_group(user: User, precinct_text: str, limit: int) -> tuple[list[Case], int]:
    """The first `limit` cases of the routing queue whose newest warning names this precinct text (oldest first,
    with their warnings and person loaded), and how many there are in all."""
    newest = _newest_warnings(user)
    in_group = select(newest.c.case_id).join(EarlyWarning, EarlyWarning.id == newest.c.wid).where(
        func.coalesce(EarlyWarning.precinct_text, "") == precinct_text)
    stmt = scope_cases(user).where(Case.precinct_id.is_(None), _open(), Case.id.in_(in_group))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    cases = db.session.scalars(stmt.order_by(Case.id).limit(limit).options(
        selectinload(Case.warnings), selectinload(Case.person)))
    return list(cases), total


def per_precinct(user: User) -> list[tuple]:
    """(precinct_id, open, overdue, closed) for the center's board."""
    at = now()
    stmt = scope_cases(user, select(
        Case.precinct_id,
        func.sum(sql_case((_open(), 1), else_=0)),
        func.sum(sql_case((_open() & (Case.due_at < at), 1), else_=0)),
        func.sum(sql_case((Case.status == CaseStatus.CLOSED, 1), else_=0)),
    ).select_from(Case)).group_by(Case.precinct_id)
    return db.session.execute(stmt).all()


def search_kind(text: str) -> tuple[str, str]:
    """What the search box holds: ('id', number), ('phone', number) or ('name', text)."""
    text = clean_text(text)
    if _ID_LIKE.match(number := normalize_id(text)):
        return "id", number
    if phone_valid(number := normalize_phone(text)):
        return "phone", number
    return "name", text


def search(user: User, text: str, limit: int = 50) -> tuple[str, list[Case]]:
    """Cases of people matching a name (part of it), a full phone number or a full ID number, within reach."""
    kind, value = search_kind(text)
    if kind == "name" and not value:
        return kind, []
    condition = {"id": lambda: Person.id_index == blind_index("id", value),
                 "phone": lambda: Person.phone_index == blind_index("phone", value),
                 "name": lambda: Person.name.contains(value, autoescape=True)}[kind]()
    stmt = scope_cases(user).join(Case.person).where(condition).order_by(Case.created_at.desc(), Case.id.desc())
    return kind, list(db.session.scalars(_with_people(stmt).limit(limit)))
