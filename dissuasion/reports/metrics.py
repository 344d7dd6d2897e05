"""Every metric of the weekly report (SPEC "The weekly report"), each defined once, as SQL aggregates.

Each function takes the week (a Period: Monday 00:00 to the next Monday 00:00, Asia/Shanghai, held as UTC)
and a Scope (the precinct, or the county, and the user whose reach bounds it), and says in its docstring what
counts and which time decides the week. Percentages are numbers with one decimal, or None when the denominator
is 0; amounts are Decimal yuan summed as whole fen in the database (SQLite keeps Numeric as REAL).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Float, Select, and_, case, exists, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from ..cases.models import Case, CaseEvent, EarlyWarning
from ..cases.scoping import scope_cases
from ..contacts.models import Contact
from ..core.enums import (
    AppStatus,
    CaseStatus,
    EventKind,
    FollowUpStatus,
    FraudType,
    Method,
    Outcome,
    Reached,
    Role,
    Tier,
    WarningSource,
)
from ..core.timeutil import now
from ..extensions import db
from ..followups.models import FollowUp
from .weeks import Period


@dataclass(frozen=True)
class Scope:
    """Whose cases a report counts: one precinct (None: the county), within a user's reach when a user asks."""

    precinct_id: int | None = None
    user: object | None = None

    def cases(self, stmt: Select) -> Select:
        """Restrict a statement that has Case in its FROM: the user's reach (scope_cases), then the precinct."""
        if self.user is not None:
            stmt = scope_cases(self.user, stmt)
        return stmt if self.precinct_id is None else stmt.where(Case.precinct_id == self.precinct_id)


class minutes_between(FunctionElement):
    """Minutes from the first time column to the second, on SQLite and PostgreSQL."""

    type = Float()
    inherit_cache = True


@compiles(minutes_between)
def _minutes_sqlite(element, compiler, **kw):
    a, b = (compiler.process(c, **kw) for c in element.clauses)
    return f"((julianday({b}) - julianday({a})) * 1440.0)"


@compiles(minutes_between, "postgresql")
def _minutes_postgresql(element, compiler, **kw):
    a, b = (compiler.process(c, **kw) for c in element.clauses)
    return f"(EXTRACT(EPOCH FROM ({b} - {a})) / 60.0)"


def pct(part: int, whole: int) -> float | None:
    """part of whole in percent with one decimal (87.5), or None when there is nothing to divide by."""
    if not whole:
        return None
    return float((Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP))


def fen_sum(column):
    """SUM of a money column as whole fen, exact on every database (a REAL sum of yuan would drift)."""
    return func.coalesce(func.sum(func.round(column * 100)), 0)


def yuan(fen) -> Decimal:
    """Whole fen from fen_sum as yuan with two decimals (Decimal all the way: SQLite gives the sum as a float of
    whole fen, PostgreSQL as a Decimal)."""
    return (Decimal(str(fen or 0)).quantize(Decimal(1), ROUND_HALF_UP) / 100).quantize(Decimal("0.01"))


def _in(column, period: Period):
    return and_(column >= period.start, column < period.end)


#: The report's sources: 推送 (a file or the push API, one figure) and each hand-entry source (SPEC "The weekly
#: report"); hand entries from before the source was asked count as 其他.
REPORT_SOURCES = ("push", *(s.value for s in WarningSource.hand_entry()))
_SOURCE_KEY = {WarningSource.PUSH: "push", WarningSource.API: "push", WarningSource.MANUAL: WarningSource.OTHER.value}


def _source_counts() -> list:
    """One conditional count per report source (SPEC: warnings by source), summed in the same scan as the total."""
    keys: dict[str, list] = {key: [] for key in REPORT_SOURCES}
    for source in WarningSource:
        keys[_SOURCE_KEY.get(source, source.value)].append(source)
    return [func.coalesce(func.sum(case((EarlyWarning.source.in_(sources), 1), else_=0)), 0)
            for sources in keys.values()]


def warnings_and_persons(period: Period, scope: Scope) -> dict:
    """warnings_received: warnings whose pushed_at (the center's push time; a hand entry's reported_at) falls in
    the week, in the precinct's cases; persons: the distinct persons among them. A file imported late still counts
    in the week it was pushed. warnings_by_source: the same warnings by where they came from (push, bank,
    hotline_96110, police_110, relative, walk_in, other), adding up to warnings_received; 退回 warnings have no case,
    so they are in none of these but in warnings_returned."""
    stmt = scope.cases(select(func.count(EarlyWarning.id), func.count(func.distinct(EarlyWarning.person_id)),
                              *_source_counts())
                       .join(Case, Case.id == EarlyWarning.case_id).where(_in(EarlyWarning.pushed_at, period)))
    warnings, persons, *by_source = db.session.execute(stmt).one()
    return {"warnings_received": warnings, "persons": persons,
            "warnings_by_source": {key: int(n) for key, n in zip(REPORT_SOURCES, by_source, strict=True)}}


def warnings_returned(period: Period, scope: Scope) -> int:
    """退回: warnings of the week (pushed_at) the center marked 非本辖区 (as they stand when the report is made; an
    undone 退回 no longer counts). They belong to no precinct, so only the county report counts them, and only for
    a reader who sees the whole county."""
    if scope.precinct_id is not None or (scope.user is not None and scope.user.role != Role.CENTER):
        return 0
    return db.session.scalar(select(func.count(EarlyWarning.id)).where(
        EarlyWarning.returned_at.is_not(None), _in(EarlyWarning.pushed_at, period))) or 0


def repeat_warnings(period: Period, scope: Scope) -> int:
    """Cases reopened by a new warning less than 30 days after closing (重复预警): the 'reopened' events whose
    time falls in the week. (A reopened case keeps its first created_at, so cases_new does not count it.)"""
    stmt = scope.cases(select(func.count(CaseEvent.id)).join(Case, Case.id == CaseEvent.case_id)
                       .where(CaseEvent.kind == EventKind.REOPENED, _in(CaseEvent.at, period)))
    return db.session.scalar(stmt)


def timeliness_by_tier(period: Period, scope: Scope) -> dict:
    """Over the cases created in the week (created_at; a case received by transfer is new in its new precinct),
    by the case's tier: cases_new (all tiers); signed_within_limit_pct = signed_at ≤ sign_deadline;
    first_attempt_within_limit_pct = first_attempt_at ≤ contact_deadline (a call made, answered or not) and
    first_reach_within_limit_pct = first_reached_at ≤ contact_deadline (the person or a relative reached: what meets
    the deadline), each over the tier's new cases whose outcome is known when the report is made: done, or past the
    limit (a case still inside its limit and not yet signed, tried or reached counts neither way; one past it counts
    as not within); median_minutes_to_first_reach from created_at, over the tier's new cases reached."""
    at = now()
    # a case transferred or closed before it was signed for (or contacted) left this precinct's hands: past its limit
    # it counts neither way, where it used to count as late
    left = or_(Case.status == CaseStatus.TRANSFERRED, Case.closed_at.isnot(None))

    def within(done, deadline):
        return (func.sum(case((done <= deadline, 1), else_=0)),
                func.sum(case((or_(done.isnot(None), and_(deadline <= at, ~left)), 1), else_=0)))

    columns = [*within(Case.signed_at, Case.sign_deadline), *within(Case.first_attempt_at, Case.contact_deadline),
               *within(Case.first_reached_at, Case.contact_deadline)]
    stmt = scope.cases(select(Case.tier, func.count(Case.id), *columns)
                       .where(_in(Case.created_at, period)).group_by(Case.tier))
    rows = {Tier(t): (n, *(v or 0 for v in values)) for t, n, *values in db.session.execute(stmt)}
    medians = median_minutes_to_first_reach(period, scope)
    zero = (0,) * 7

    def share(i):
        return {t.value: pct(rows.get(t, zero)[i], rows.get(t, zero)[i + 1]) for t in Tier}

    return {
        "cases_new": sum(r[0] for r in rows.values()),
        "signed_within_limit_pct": share(1),
        "first_attempt_within_limit_pct": share(3),
        "first_reach_within_limit_pct": share(5),
        "median_minutes_to_first_reach": {t.value: medians.get(t) for t in Tier},
    }


def median_minutes_to_first_reach(period: Period, scope: Scope) -> dict[Tier, float]:
    """Median minutes from created_at to first_reached_at of the week's new cases (created_at), per tier; the
    middle value, or the mean of the two middle values, picked by row number in the database."""
    minutes = minutes_between(Case.created_at, Case.first_reached_at)
    minutes = case((minutes < 0, 0), else_=minutes)  # reached before the case was made (a call on the push): at once
    ranked = scope.cases(select(Case.tier.label("tier"), minutes.label("m"),
                                func.row_number().over(partition_by=Case.tier, order_by=minutes).label("rn"),
                                func.count().over(partition_by=Case.tier).label("n"))
                         .where(_in(Case.created_at, period), Case.first_reached_at.is_not(None))).subquery()
    middle = or_(ranked.c.rn == (ranked.c.n + 1) // 2, ranked.c.rn == (ranked.c.n + 2) // 2)
    stmt = select(ranked.c.tier, func.avg(ranked.c.m)).where(middle).group_by(ranked.c.tier)
    return {Tier(t): round(float(m), 1) for t, m in db.session.execute(stmt)}


def contacts_by_method(period: Period, scope: Scope) -> dict:
    """Contact attempts (every attempt, reached or not) whose contacted_at falls in the week, by method."""
    stmt = scope.cases(select(Contact.method, func.count(Contact.id)).join(Case, Case.id == Contact.case_id)
                       .where(_in(Contact.contacted_at, period)).group_by(Contact.method))
    counts = {Method(m): n for m, n in db.session.execute(stmt)}
    return {m.value: counts.get(m, 0) for m in Method}


def visited_high_pct(period: Period, scope: Scope) -> float | None:
    """预警见人率: of the 特高危 and 高 cases created in the week (created_at), the share that have a visit contact
    (面见) that reached the person themself, at any time up to when the report is computed."""
    seen = exists().where(Contact.case_id == Case.id, Contact.method == Method.VISIT, Contact.reached == Reached.SELF)
    stmt = scope.cases(select(func.count(Case.id), func.sum(case((seen, 1), else_=0)))
                       .where(_in(Case.created_at, period), Case.tier.in_([t for t in Tier if t.needs_visit])))
    total, visited = db.session.execute(stmt).one()
    return pct(visited or 0, total)


def outcome_of_case():
    """A closed case's outcome; a case given up as unreachable without an outcome counts as unreachable."""
    return func.coalesce(Case.outcome, case((Case.status == CaseStatus.UNREACHABLE, Outcome.UNREACHABLE.value)))


def outcomes_and_amounts(period: Period, scope: Scope) -> dict:
    """Over the cases whose closed_at falls in the week: outcomes (count per outcome), amount_dissuaded and
    amount_defrauded (劝阻金额, 受骗金额: sums of the amounts of the cases closed 及时劝阻, resp. 已被骗), and
    defrauded_after_warning_pct (预警后被骗率: cases closed as defrauded over all cases closed in the week, whatever
    their outcome)."""
    outcome = outcome_of_case()
    stmt = scope.cases(select(outcome, func.count(Case.id), fen_sum(Case.amount_dissuaded),
                              fen_sum(Case.amount_defrauded))
                       .where(_in(Case.closed_at, period)).group_by(outcome))
    rows = db.session.execute(stmt).all()
    counts = {Outcome(o): n for o, n, _, _ in rows if o is not None}
    closed = sum(n for _, n, _, _ in rows)
    return {
        "outcomes": {o.value: counts.get(o, 0) for o in Outcome},
        # 劝阻金额 is the money of the cases closed 及时劝阻, 受骗金额 that of the 已被骗 ones: an amount a case
        # kept from an earlier outcome (劝阻 1,000, then defrauded during the watch) is not money kept
        "amount_dissuaded": str(_owned_sum(rows, "amount_dissuaded", 2)),
        "amount_defrauded": str(_owned_sum(rows, "amount_defrauded", 3)),
        "defrauded_after_warning_pct": pct(counts.get(Outcome.DEFRAUDED, 0), closed),
    }


def _owned_sum(rows, field: str, index: int) -> Decimal:
    """The sum of one amount over the outcomes that own it (Outcome.fields)."""
    owned = (yuan(row[index]) for row in rows if row[0] is not None and Outcome(row[0]).owns(field))
    return sum(owned, Decimal("0.00"))


def app_registrations(period: Period, scope: Scope) -> int:
    """国家反诈中心APP registrations: distinct cases with a contact whose contacted_at falls in the week and whose
    app status is 'registered now' (本次注册); a person registered twice in a week counts once."""
    stmt = scope.cases(select(func.count(func.distinct(Contact.case_id))).join(Case, Case.id == Contact.case_id)
                       .where(_in(Contact.contacted_at, period), Contact.app_status == AppStatus.REGISTERED_NOW))
    return db.session.scalar(stmt)


def overdue_now(at: dt.datetime, scope: Scope) -> int:
    """Open cases (new, signed, in progress) whose binding deadline (due_at) has passed at `at`, the time the
    report is computed: a count of now, not of the week."""
    stmt = scope.cases(select(func.count(Case.id))
                       .where(Case.status.in_(CaseStatus.open_values()), Case.due_at < at))
    return db.session.scalar(stmt)


def followups(period: Period, scope: Scope) -> dict:
    """followups_done: follow-ups done whose done_at falls in the week; followups_missed: follow-ups marked missed
    whose due_at falls in the week."""
    done = and_(FollowUp.status == FollowUpStatus.DONE, _in(FollowUp.done_at, period))
    missed = and_(FollowUp.status == FollowUpStatus.MISSED, _in(FollowUp.due_at, period))
    stmt = scope.cases(select(FollowUp.status, func.count(FollowUp.id)).join(Case, Case.id == FollowUp.case_id)
                       .where(or_(done, missed)).group_by(FollowUp.status))
    counts = {FollowUpStatus(s): n for s, n in db.session.execute(stmt)}
    return {"followups_done": counts.get(FollowUpStatus.DONE, 0),
            "followups_missed": counts.get(FollowUpStatus.MISSED, 0)}


def case_fraud_type():
    """A case's fraud type: the one confirmed on closing, else that of its first warning."""
    first = (select(EarlyWarning.fraud_type).where(EarlyWarning.case_id == Case.id)
             .order_by(EarlyWarning.pushed_at, EarlyWarning.id).limit(1).scalar_subquery())
    return func.coalesce(Case.confirmed_fraud_type, first)


def by_fraud_type(period: Period, scope: Scope) -> list[dict]:
    """Per fraud type (SPEC's list, in order): warnings pushed in the week (pushed_at, the warning's own type);
    dissuaded and defrauded: cases closed in the week (closed_at) with that outcome, by the case's fraud type
    (case_fraud_type); amount_dissuaded: the sum of those dissuaded cases' amounts."""
    warned = scope.cases(select(EarlyWarning.fraud_type, func.count(EarlyWarning.id))
                         .join(Case, Case.id == EarlyWarning.case_id)
                         .where(_in(EarlyWarning.pushed_at, period)).group_by(EarlyWarning.fraud_type))
    warnings = {FraudType(f): n for f, n in db.session.execute(warned)}
    fraud_type = case_fraud_type()
    closed = scope.cases(select(fraud_type, Case.outcome, func.count(Case.id), fen_sum(Case.amount_dissuaded))
                         .where(_in(Case.closed_at, period), Case.outcome.in_((Outcome.DISSUADED, Outcome.DEFRAUDED)))
                         .group_by(fraud_type, Case.outcome))
    outcomes = {(FraudType(f or FraudType.OTHER), Outcome(o)): (n, fen) for f, o, n, fen in db.session.execute(closed)}
    rows = []
    for t in FraudType:
        dissuaded, fen = outcomes.get((t, Outcome.DISSUADED), (0, 0))
        rows.append({"fraud_type": t.value, "warnings": warnings.get(t, 0), "dissuaded": dissuaded,
                     "defrauded": outcomes.get((t, Outcome.DEFRAUDED), (0, 0))[0], "amount_dissuaded": str(yuan(fen))})
    return rows


def compute_metrics(period: Period, scope: Scope, at: dt.datetime | None) -> dict:
    """Every metric of one week, in the order of the report's JSON (issue 6). `at` is the time overdue_now is
    counted at; None leaves overdue_now null (a past week's 'now' cannot be rebuilt)."""
    counts = warnings_and_persons(period, scope)
    timeliness = timeliness_by_tier(period, scope)
    outcomes = outcomes_and_amounts(period, scope)
    return {
        **counts,
        "warnings_returned": warnings_returned(period, scope),
        "cases_new": timeliness.pop("cases_new"),
        "repeat_warnings": repeat_warnings(period, scope),
        **timeliness,
        "contacts_by_method": contacts_by_method(period, scope),
        "visited_high_pct": visited_high_pct(period, scope),
        **outcomes,
        "app_registrations": app_registrations(period, scope),
        "overdue_now": overdue_now(at, scope) if at is not None else None,
        **followups(period, scope),
        "by_fraud_type": by_fraud_type(period, scope),
    }


def outcomes_by_precinct(period: Period, scope: Scope) -> list[dict]:
    """For the page's chart: per precinct (unrouted cases under None), the outcomes of its cases whose closed_at
    falls in the week, as in outcomes_and_amounts."""
    outcome = outcome_of_case()
    stmt = scope.cases(select(Case.precinct_id, outcome, func.count(Case.id))
                       .where(_in(Case.closed_at, period)).group_by(Case.precinct_id, outcome))
    by_precinct: dict = {}
    for precinct_id, o, n in db.session.execute(stmt):
        if o is not None:
            by_precinct.setdefault(precinct_id, {x.value: 0 for x in Outcome})[Outcome(o).value] = n
    return [{"precinct_id": p, "outcomes": counts} for p, counts in by_precinct.items()]
