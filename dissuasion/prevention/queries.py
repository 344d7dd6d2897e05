"""Reads of prevention work: the activities a user may see (scoped by precinct like cases), their totals for a
span of days, and 国家反诈中心APP registrations counted from both sources (cases and activities)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import abort
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from ..auth.scoping import scope
from ..cases.models import Case
from ..cases.scoping import scope_cases
from ..contacts.models import Contact
from ..core.enums import ActivityCount, ActivityKind, AppStatus
from ..core.timeutil import from_local, local, now
from ..directory.models import Community, Precinct
from ..extensions import db
from .models import Activity, AppTarget

#: The most rows an export holds (a year of a busy county is a few thousand).
EXPORT_ROWS = 20_000


def scope_activities(user, stmt: Select | None = None) -> Select:
    """Restrict a query on Activity to the user's reach: officers and leads their precinct, the center all,
    admins none (the rule of auth.scoping on the activity's own precinct column)."""
    return scope(user, select(Activity) if stmt is None else stmt, Activity.precinct_id)


def activity_or_404(user, activity_id: int) -> Activity:
    activity = db.session.scalar(scope_activities(user).where(Activity.id == activity_id))
    if activity is None:
        abort(404)
    return activity


@dataclass(frozen=True)
class ActivityFilter:
    kind: ActivityKind | None = None
    precinct_id: int | None = None
    community_id: int | None = None
    first: dt.date | None = None
    last: dt.date | None = None


def _filtered(user, f: ActivityFilter) -> Select:
    stmt = scope_activities(user)
    if f.kind is not None:
        stmt = stmt.where(Activity.kind == f.kind)
    if f.precinct_id is not None:
        stmt = stmt.where(Activity.precinct_id == f.precinct_id)
    if f.community_id is not None:
        stmt = stmt.where(Activity.community_id == f.community_id)
    if f.first is not None:
        stmt = stmt.where(Activity.held_on >= f.first)
    if f.last is not None:
        stmt = stmt.where(Activity.held_on <= f.last)
    return stmt.options(selectinload(Activity.community), selectinload(Activity.precinct),
                        selectinload(Activity.created_by)).order_by(Activity.held_on.desc(), Activity.id.desc())


def activity_page(user, f: ActivityFilter, page: int = 1, per_page: int = 50):
    """The list page: newest day first."""
    return db.paginate(_filtered(user, f), page=page, per_page=per_page, error_out=False)


def activity_rows(user, f: ActivityFilter) -> list[Activity]:
    """Every activity the filters select (for the export and the API)."""
    return list(db.session.scalars(_filtered(user, f).limit(EXPORT_ROWS)))


def utc_span(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Whole Asia/Shanghai days first..last as a half-open UTC span."""
    return (from_local(dt.datetime.combine(first, dt.time())),
            from_local(dt.datetime.combine(last + dt.timedelta(days=1), dt.time())))


def local_days(start: dt.datetime, end: dt.datetime) -> tuple[dt.date, dt.date]:
    """A half-open UTC span of whole local days as its first and last day."""
    return local(start).date(), local(end).date() - dt.timedelta(days=1)


def empty_totals() -> dict:
    return {"activities": 0, "by_kind": {k.value: 0 for k in ActivityKind}, **{c.value: 0 for c in ActivityCount}}


def totals_by_precinct(first: dt.date, last: dt.date, user=None, precinct_id: int | None = None) -> dict:
    """{precinct_id: totals} of the activities held first..last (both included): the number of activities, how
    many of each type, and the sum of each count. `user` bounds it to their reach; None (CLI, jobs) does not."""
    sums = [func.coalesce(func.sum(getattr(Activity, c.value)), 0) for c in ActivityCount]
    stmt = (select(Activity.precinct_id, Activity.kind, func.count(Activity.id), *sums)
            .where(Activity.held_on >= first, Activity.held_on <= last)
            .group_by(Activity.precinct_id, Activity.kind))
    if user is not None:
        stmt = scope_activities(user, stmt)
    if precinct_id is not None:
        stmt = stmt.where(Activity.precinct_id == precinct_id)
    out: dict[int, dict] = {}
    for pid, kind, n, *counts in db.session.execute(stmt):
        row = out.setdefault(pid, empty_totals())
        row["activities"] += n
        row["by_kind"][ActivityKind(kind).value] += n
        for which, value in zip(ActivityCount, counts, strict=True):
            row[which.value] += int(value)
    return out


def activities_by_community(first: dt.date, last: dt.date) -> dict[tuple[int, int | None], int]:
    """The number of activities held first..last (both included), by (precinct, community); the whole county."""
    stmt = (select(Activity.precinct_id, Activity.community_id, func.count(Activity.id))
            .where(Activity.held_on >= first, Activity.held_on <= last)
            .group_by(Activity.precinct_id, Activity.community_id))
    return {(p, c): n for p, c, n in db.session.execute(stmt)}


def add_totals(rows) -> dict:
    """The sum of several totals (the county of its precincts)."""
    total = empty_totals()
    for row in rows:
        for key, value in row.items():
            if key == "by_kind":
                for kind, n in value.items():
                    total["by_kind"][kind] += n
            else:
                total[key] += value
    return total


def case_app_registrations(start: dt.datetime, end: dt.datetime, user=None, precinct_id: int | None = None
                           ) -> dict[tuple[int | None, int | None], int]:
    """APP registrations from cases, by (precinct, community): distinct cases with a contact whose contacted_at
    falls in [start, end) and whose app status is 本次注册 (the rule of the weekly report's app_registrations)."""
    stmt = (select(Case.precinct_id, Case.community_id, func.count(func.distinct(Contact.case_id)))
            .join(Case, Case.id == Contact.case_id)
            .where(Contact.contacted_at >= start, Contact.contacted_at < end,
                   Contact.app_status == AppStatus.REGISTERED_NOW)
            .group_by(Case.precinct_id, Case.community_id))
    if user is not None:
        stmt = scope_cases(user, stmt)
    if precinct_id is not None:
        stmt = stmt.where(Case.precinct_id == precinct_id)
    return {(p, c): n for p, c, n in db.session.execute(stmt)}


def activity_app_registrations(first: dt.date, last: dt.date, user=None, precinct_id: int | None = None
                               ) -> dict[tuple[int, int | None], int]:
    """APP registrations from publicity work, by (precinct, community), over the days first..last."""
    stmt = (select(Activity.precinct_id, Activity.community_id, func.sum(Activity.app_registrations))
            .where(Activity.held_on >= first, Activity.held_on <= last)
            .group_by(Activity.precinct_id, Activity.community_id))
    if user is not None:
        stmt = scope_activities(user, stmt)
    if precinct_id is not None:
        stmt = stmt.where(Activity.precinct_id == precinct_id)
    return {(p, c): int(n or 0) for p, c, n in db.session.execute(stmt)}


def app_registrations(first: dt.date, last: dt.date, user=None, precinct_id: int | None = None) -> dict:
    """APP registrations over the days first..last from both sources: {"cases", "activities", "total"}."""
    cases = sum(case_app_registrations(*utc_span(first, last), user, precinct_id).values())
    activities = sum(activity_app_registrations(first, last, user, precinct_id).values())
    return {"cases": cases, "activities": activities, "total": cases + activities}


@dataclass(frozen=True)
class Progress:
    """A community's APP registrations since its target's day, against the target."""

    community: Community
    target: int
    since: dt.date
    cases: int
    activities: int

    @property
    def total(self) -> int:
        return self.cases + self.activities

    @property
    def pct(self) -> int:
        """Percent of the target reached, whole, capped at 100 for the bar (the numbers say the rest)."""
        return min(100, self.total * 100 // self.target) if self.target else 100


def app_progress(precinct_id: int | None = None) -> list[Progress]:
    """Each community with a target (of one precinct, or all): registrations from cases and from activities
    since the target's day, up to now. Counts, not case content, so the admin who sets targets sees them too."""
    stmt = (select(AppTarget).join(Community, Community.id == AppTarget.community_id)
            .options(selectinload(AppTarget.community).selectinload(Community.precinct))
            .order_by(Community.precinct_id, Community.name))
    if precinct_id is not None:
        stmt = stmt.where(Community.precinct_id == precinct_id)
    targets = list(db.session.scalars(stmt))
    if not targets:
        return []
    today = local(now()).date()
    counted: dict[tuple[dt.date, int], tuple[dict, dict]] = {}  # one pair of queries per (day, precinct)
    rows = []
    for t in targets:
        key = (t.since, t.community.precinct_id)
        if key not in counted:
            counted[key] = (case_app_registrations(*utc_span(t.since, today), None, key[1]),
                            activity_app_registrations(t.since, today, None, key[1]))
        cases, acts = counted[key]
        where = (t.community.precinct_id, t.community_id)
        rows.append(Progress(t.community, t.target, t.since, cases.get(where, 0), acts.get(where, 0)))
    return rows


def precinct_communities(precinct_id: int) -> list[Community]:
    return list(db.session.scalars(select(Community).filter_by(precinct_id=precinct_id).order_by(Community.name)))


def all_precincts() -> list[Precinct]:
    return list(db.session.scalars(select(Precinct).order_by(Precinct.code)))
