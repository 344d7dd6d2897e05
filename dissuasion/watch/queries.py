"""Reading the watch list: every query goes through scope_entries (the cases' visibility rule on the entry's own
precinct and officer columns): an officer sees the entries they are responsible for, a lead the precinct's, the
center all, an admin none."""
from __future__ import annotations

from dataclasses import dataclass

from flask import abort
from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from ..auth.models import User
from ..auth.scoping import scope
from ..core.enums import WatchStatus
from ..core.timeutil import now
from ..extensions import db
from .models import WatchEntry


def scope_entries(user: User, stmt: Select | None = None) -> Select:
    return scope(user, select(WatchEntry) if stmt is None else stmt, WatchEntry.precinct_id, WatchEntry.officer_id)


def entry_or_404(user: User, entry_id: int) -> WatchEntry:
    """The entry if this user may see it; 404 otherwise, so a guessed id reveals nothing."""
    entry = db.session.scalar(scope_entries(user).where(WatchEntry.id == entry_id))
    if entry is None:
        abort(404)
    return entry


@dataclass
class RegisterFilter:
    """The 台账's filter bar; None means any."""

    precinct_id: int | None = None
    community_id: int | None = None
    kind_id: int | None = None
    status: WatchStatus | None = WatchStatus.ACTIVE
    overdue: bool = False


def register(user: User, f: RegisterFilter | None = None) -> list[WatchEntry]:
    """The 台账: entries within reach, by precinct, community and person (one row per entry)."""
    f = f or RegisterFilter()
    stmt = scope_entries(user)
    if f.precinct_id is not None:
        stmt = stmt.where(WatchEntry.precinct_id == f.precinct_id)
    if f.community_id is not None:
        stmt = stmt.where(WatchEntry.community_id == f.community_id)
    if f.kind_id is not None:
        stmt = stmt.where(WatchEntry.kind_id == f.kind_id)
    if f.status is not None:
        stmt = stmt.where(WatchEntry.status == f.status)
    if f.overdue:
        stmt = stmt.where(WatchEntry.status == WatchStatus.ACTIVE, WatchEntry.next_due_at < now())
    stmt = stmt.options(selectinload(WatchEntry.person), selectinload(WatchEntry.kind),
                        selectinload(WatchEntry.precinct), selectinload(WatchEntry.community),
                        selectinload(WatchEntry.officer), selectinload(WatchEntry.meetings))
    return list(db.session.scalars(stmt.order_by(WatchEntry.precinct_id, WatchEntry.community_id,
                                                 WatchEntry.next_due_at, WatchEntry.id)))


def active_entries_of_person(user: User, person_id: int) -> list[WatchEntry]:
    """The case page: this person's active entries the user may see."""
    return list(db.session.scalars(scope_entries(user).where(WatchEntry.person_id == person_id,
                                                             WatchEntry.status == WatchStatus.ACTIVE)))
