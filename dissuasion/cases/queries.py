"""Reading cases: the worklist order, the boards, the routing queue and search. Every query is scoped first."""
import re
from dataclasses import dataclass

from sqlalchemy import case as sql_case
from sqlalchemy import exists, func, literal, select, union_all
from sqlalchemy.orm import joinedload, selectinload

from ..auth.models import User
from ..auth.scoping import scope
from ..core.enums import CaseStatus, FollowUpKind, FollowUpStatus, Method, Tier, WarningSource
from ..core.text import clean_text
from ..core.timeutil import end_of_today, now
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
    #: The lead's board and the county queue: one community, and warnings from one source.
    community_id: int | None = None
    source: WarningSource | None = None
    #: The county queue: only the routing queue (precinct unknown).
    unrouted: bool = False


def _followup_model():
    """The follow-up model, reached through the relationship cases.models declares (followups/ sits above cases/
    and owns the rules; the worklist only reads its rows). Resolved when asked: the mappers are complete by then."""
    return Case.followups.property.mapper.class_

def _watch_model():
    """The watch-list entry, reached through Person.watch_entries (watch/ sits above cases/; the worklist only
    reads the meetings due, as it reads the follow-ups)."""
    return Person.watch_entries.property.mapper.class_


#: Follow-ups that are tasks of their own on 我的任务 and the lead's board (retries and escalations move the case's
#: own deadline instead).
TASK_KINDS = (FollowUpKind.REVISIT, FollowUpKind.MANUAL)


@dataclass
class Task:
    """One row of 我的任务 or the lead's board: a case, a 回访 due today or overdue (followup set), or a watch
    meeting due today or overdue (watch set: a watch-list entry; case is then its case, if any)."""

    case: Case | None
    followup: object = None
    watch: object = None


def _where(stmt, f: WorklistFilter, at, followups: bool = False):
    """The filter bar's conditions on a query of cases (or of follow-ups joined to their cases)."""
    FollowUp = _followup_model()  # noqa: N806
    if not followups:
        stmt = stmt.where(_open() if f.status is None else Case.status == f.status)
    if f.tier is not None:
        stmt = stmt.where(Case.tier == f.tier)
    if f.method is not None:
        stmt = stmt.where((FollowUp.method if followups else Case.method) == f.method)
    if f.overdue:
        stmt = stmt.where((FollowUp.due_at if followups else Case.due_at) < at)
    if f.pool:
        stmt = stmt.where(Case.assignee_id.is_(None))
    if f.assignee_id is not None:
        stmt = stmt.where(Case.assignee_id == f.assignee_id)
    if f.community_id is not None:
        stmt = stmt.where(Case.community_id == f.community_id)
    if f.source is not None:
        stmt = stmt.where(exists().where(EarlyWarning.case_id == Case.id, EarlyWarning.source == f.source))
    if f.unrouted:
        stmt = stmt.where(Case.precinct_id.is_(None))
    return stmt


def matching_ids(user: User, f: WorklistFilter) -> list[int]:
    """Every case the filter shows this user ("all N matching" on the boards)."""
    return list(db.session.scalars(_where(scope_cases(user, select(Case.id)), f, now()).order_by(Case.id)))


def _watch_rows(user: User, f: WorklistFilter, at):
    """Watch meetings due today or overdue, as worklist rows; None when the filter asks for what a meeting has not
    (a case status, tier, method, source, the pool or the routing queue)."""
    if (f.status is not None or f.unrouted or f.tier is not None or f.method is not None or f.pool
            or f.source is not None):
        return None
    Entry = _watch_model()  # noqa: N806
    stmt = scope(user, select(literal(0).label("cid"), literal(0).label("fid"), Entry.id.label("wid"),
                              Case.tier.label("tier"), Entry.next_due_at.label("due"))
                 .select_from(Entry).outerjoin(Case, Case.id == Entry.case_id), Entry.precinct_id, Entry.officer_id)
    # a meeting is due by the end of its last day (midnight): due today when that midnight ends today
    stmt = stmt.where(Entry.status == "active", Entry.next_due_at <= end_of_today(at))
    if f.overdue:
        stmt = stmt.where(Entry.next_due_at < at)
    if f.assignee_id is not None:
        stmt = stmt.where(Entry.officer_id == f.assignee_id)
    if f.community_id is not None:
        stmt = stmt.where(Entry.community_id == f.community_id)
    return stmt


def tasks(user: User, page: int = 1, per_page: int = 50, filters: WorklistFilter | None = None,
          with_overdue: bool = False):
    """The worklist as tasks: the cases (as worklist) and, as rows of their own, the 回访 due today or overdue on
    cases within reach and the watch meetings due today or overdue, sorted together: overdue first, then tier (a
    meeting takes its case's, or comes after the tiers), then the nearest deadline. The pagination's total counts
    every row; `cases_total` on it counts the cases alone; with `with_overdue`, `overdue` is overdue_count(user),
    counted in the same query as the totals."""
    f = filters or WorklistFilter()
    at = now()
    FollowUp = _followup_model()  # noqa: N806
    Entry = _watch_model()  # noqa: N806
    case_rows = _where(scope_cases(user, select(Case.id.label("cid"), literal(0).label("fid"),
                                                literal(0).label("wid"), Case.tier.label("tier"),
                                                Case.due_at.label("due"))), f, at)
    extra = []  # the 回访 and the meetings due: few (indexes find them), so most pages need no union at all
    if f.status is None and not f.unrouted:  # a status asked for means cases of that status, not tasks
        followup_rows = scope_cases(user, select(Case.id.label("cid"), FollowUp.id.label("fid"),
                                                 literal(0).label("wid"), Case.tier.label("tier"),
                                                 FollowUp.due_at.label("due"))
                                    .select_from(FollowUp).join(Case, Case.id == FollowUp.case_id)).where(
            FollowUp.status == FollowUpStatus.PENDING, FollowUp.kind.in_(TASK_KINDS),
            FollowUp.due_at < end_of_today(at))
        extra.append(_where(followup_rows, f, at, followups=True))
    watch_rows = _watch_rows(user, f, at)
    if watch_rows is not None:
        extra.append(watch_rows)
    # every count in one round trip: the cases, each kind of extra row, and the overdue figure of the page's header
    counts = [select(func.count()).select_from(part.subquery()).scalar_subquery() for part in (case_rows, *extra)]
    if with_overdue:
        counts.append(_overdue_count_stmt(user).scalar_subquery())
    figures = [n or 0 for n in db.session.execute(select(*counts)).one()]
    cases_total, due = figures[0], sum(figures[1:1 + len(extra)])
    if due:
        rows = union_all(case_rows, *extra).subquery()
        rank = sql_case({t.value: t.rank for t in Tier}, value=rows.c.tier, else_=len(Tier))
        ordered = select(rows.c.cid, rows.c.fid, rows.c.wid).order_by(
            sql_case((rows.c.due < at, 0), else_=1), rank, rows.c.due, rows.c.cid, rows.c.fid, rows.c.wid)
    else:  # the cases alone, sorted as the worklist always was (from its indexes)
        ordered = case_rows.with_only_columns(Case.id, literal(0).label("fid"), literal(0).label("wid")).order_by(
            sql_case((Case.due_at < at, 0), else_=1), TIER_ORDER, Case.due_at, Case.id)
    result = Page(max(page, 1), per_page, cases_total + due, cases_total, overdue=figures[-1] if with_overdue else None)
    triples = list(db.session.execute(ordered.limit(per_page).offset((result.page - 1) * per_page)))
    entries = {e.id: e for e in db.session.scalars(select(Entry).where(
        Entry.id.in_({wid for _c, _f, wid in triples if wid})).options(
        selectinload(Entry.person), selectinload(Entry.case), selectinload(Entry.kind)))} \
        if any(wid for _c, _f, wid in triples) else {}
    cases = {c.id: c for c in db.session.scalars(_people_joined(select(Case).where(
        Case.id.in_({cid for cid, _f, _w in triples if cid}))))}
    followups = {x.id: x for x in db.session.scalars(select(FollowUp).where(
        FollowUp.id.in_({fid for _c, fid, _w in triples if fid})))} if any(fid for _c, fid, _w in triples) else {}
    result.items = [Task(entries[wid].case, watch=entries[wid]) if wid else Task(cases[cid], followups.get(fid))
                    for cid, fid, wid in triples]
    return result


@dataclass
class Page:
    """One page of tasks with the totals the boards show."""

    page: int
    per_page: int
    #: Rows in all (cases and due 回访).
    total: int
    #: Cases alone (what "all N matching" selects).
    cases_total: int
    items: list = None
    #: Open cases within reach past their deadline (tasks(with_overdue=True)), whatever the filter.
    overdue: int | None = None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _open():
    return Case.status.in_(CaseStatus.open_values())


def _with_people(stmt):
    """Rows show the person and the holder: one extra query each for the page, not one per row.

    Not a join: SQLite would join every candidate row before sorting and keeping the first 50.
    """
    return stmt.options(selectinload(Case.person), selectinload(Case.assignee))


def _people_joined(stmt):
    """Rows fetched by id show the person and the holder: joined in the same query (the ids are already chosen, so
    nothing is joined before a sort; see _with_people)."""
    return stmt.options(joinedload(Case.person), joinedload(Case.assignee))


def worklist(user: User, page: int = 1, per_page: int = 50, filters: WorklistFilter | None = None,
             options: tuple = ()):
    """Cases this user may work on (open ones unless a status is asked for): overdue first, then tier, deadline.

    Two steps: the page's ids, sorted and counted from the worklist indexes alone, then those 50 rows (with the
    loader `options` a caller needs besides the person and the holder).
    """
    pagination = worklist_ids(user, page, per_page, filters)
    ids = list(pagination.items)
    rows = {c.id: c for c in db.session.scalars(_people_joined(select(Case).where(Case.id.in_(ids))).options(
        *options))}
    pagination.items = [rows[i] for i in ids]
    return pagination


def worklist_ids(user: User, page: int, per_page: int, filters: WorklistFilter | None):
    """The page of the worklist's case ids, in its order, and the total: from the worklist indexes alone."""
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
    return db.paginate(stmt.order_by(overdue_first, TIER_ORDER, Case.due_at, Case.id),
                       page=page, per_page=per_page, error_out=False)


def counts_by_status(user: User) -> dict[CaseStatus, int]:
    """How many cases of each status this user can see."""
    stmt = scope_cases(user, select(Case.status, func.count()).select_from(Case)).group_by(Case.status)
    counts = dict(db.session.execute(stmt).all())
    return {s: counts.get(s, 0) for s in CaseStatus}


def _overdue_count_stmt(user: User):
    return scope_cases(user, select(func.count()).select_from(Case)).where(_open(), Case.due_at < now())


def overdue_count(user: User) -> int:
    return db.session.scalar(_overdue_count_stmt(user)) or 0


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
