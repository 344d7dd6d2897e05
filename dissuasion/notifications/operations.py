"""Sending in-app notifications."""
from ..auth.models import User
from ..enums import Role
from ..extensions import db
from .models import Notification


def notify(user_id: int, kind: str, message: str, case_id: int | None = None,
           dedupe_key: str | None = None) -> Notification | None:
    """Queue a notification; with a dedupe_key, one that was already sent is not sent again."""
    if dedupe_key and db.session.scalar(db.select(Notification.id).filter_by(dedupe_key=dedupe_key)):
        return None
    note = Notification(user_id=user_id, kind=kind, message=message, case_id=case_id, dedupe_key=dedupe_key)
    db.session.add(note)
    return note


def lead_ids(precinct_id: int) -> list[int]:
    """The active leads of a precinct, who hear about every new or raised case."""
    return list(db.session.scalars(db.select(User.id).where(
        User.precinct_id == precinct_id, User.role == Role.LEAD, User.active.is_(True))))
