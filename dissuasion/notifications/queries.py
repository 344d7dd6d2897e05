"""Reading a user's notifications: the bell's count and the list, linking only cases still within reach."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select

from ..core.signals import cases_visible, results
from ..extensions import db
from .models import Notification

if TYPE_CHECKING:
    from ..auth.models import User

LIST_LIMIT = 200


def unread_count_of(user_id):
    """The unread count of the user whose id is `user_id` (a column): a scalar subquery for the user's own query."""
    return select(func.count()).select_from(Notification).where(Notification.user_id == user_id,
                                                               Notification.read_at.is_(None)).scalar_subquery()


def unread_count(user: User) -> int:
    """For the bell on every page: one count on the (user_id, read_at) index."""
    stmt = select(func.count()).select_from(Notification).where(Notification.user_id == user.id,
                                                               Notification.read_at.is_(None))
    return db.session.scalar(stmt) or 0


def for_user(user: User, limit: int = LIST_LIMIT) -> tuple[list[Notification], set[int]]:
    """The newest notifications, and which of their cases this user may still open (others show unlinked)."""
    notes = list(db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                                    .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)))
    return notes, visible_cases(user, {n.case_id for n in notes if n.case_id is not None})


def visible_cases(user: User, case_ids: set[int]) -> set[int]:
    """Which of these cases the user may open now (a case handed to another precinct since is not)."""
    return set().union(*results(cases_visible, user, case_ids=case_ids)) if case_ids else set()
