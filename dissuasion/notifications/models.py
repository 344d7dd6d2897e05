"""A notification for one user, read from the bell in the header."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..core.dbtypes import Json, UTCDateTime
from ..core.i18n import said_text
from ..core.timeutil import now
from ..extensions import db


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    #: The watch-list entry it is about (a meeting due, missed, or one that raised an alarm), for its link.
    watch_entry_id: Mapped[int | None] = mapped_column(ForeignKey("watch_entries.id"))
    #: assigned, overdue, followup_due, new_warning, …
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    #: The message's id and values (i18n.say), to show it in the recipient's language; None: show `message`.
    say: Mapped[dict | None] = mapped_column(Json)
    #: Makes a notification the scheduler sends idempotent: the same key is sent once.
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    @property
    def text(self) -> str:
        """The message in the recipient's language (a `say` message), else as it was stored."""
        return said_text(self.say, self.message)

    def __repr__(self) -> str:
        return f"<Notification {self.kind} for user {self.user_id}>"
