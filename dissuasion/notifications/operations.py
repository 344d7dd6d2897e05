"""Sending in-app notifications."""
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..auth.models import User
from ..core.enums import Role
from ..core.i18n import spec_of
from ..core.timeutil import now
from ..extensions import db
from .models import Notification


def notify(user_id: int, kind: str, message: str, case_id: int | None = None,
           dedupe_key: str | None = None, watch_entry_id: int | None = None) -> Notification | None:
    """Queue a notification; with a dedupe_key, one that was already sent is not sent again."""
    if dedupe_key and db.session.scalar(db.select(Notification.id).filter_by(dedupe_key=dedupe_key)):
        return None
    note = Notification(user_id=user_id, kind=kind, message=str(message), say=spec_of(message), case_id=case_id,
                        dedupe_key=dedupe_key, watch_entry_id=watch_entry_id)
    db.session.add(note)
    return note


def lead_ids(precinct_id: int) -> list[int]:
    """The active leads of a precinct, who hear about every new or raised case."""
    return list(db.session.scalars(db.select(User.id).where(
        User.precinct_id == precinct_id, User.role == Role.LEAD, User.active.is_(True))))


def notify_once(user_id: int, kind: str, message: str, case_id: int | None, dedupe_key: str,
                watch_entry_id: int | None = None) -> bool:
    """Send a notification unless one with this key exists; True if sent. Safe when two processes race:
    the insert skips a key the other one wrote (ON CONFLICT DO NOTHING on PostgreSQL and SQLite)."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(Notification).values(user_id=user_id, kind=kind, message=str(message), say=spec_of(message),
                                       case_id=case_id, watch_entry_id=watch_entry_id,
                                       dedupe_key=dedupe_key, created_at=now()).on_conflict_do_nothing()
    # RETURNING rather than rowcount: an ORM-enabled insert does not report rowcount on every driver.
    return db.session.execute(stmt.returning(Notification.id)).scalar() is not None


def mark_read(user: User, notification_id: int | None = None) -> int:
    """Mark one of the user's notifications (or all of them) read; returns how many changed."""
    stmt = db.update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if notification_id is not None:
        stmt = stmt.where(Notification.id == notification_id)
    return db.session.execute(stmt.values(read_at=now())).rowcount
