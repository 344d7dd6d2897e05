"""The audit trail: who did what to which object, when, from where, and whether it succeeded."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..dbtypes import Json, UTCDateTime
from ..extensions import db
from ..timeutil import now


class AuditEvent(db.Model):
    """Append-only: rows are written, never changed."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    #: Kept as text too, so the record stays readable if the account is renamed.
    username: Mapped[str] = mapped_column(String(64), default="")
    role: Mapped[str] = mapped_column(String(20), default="")
    ip: Mapped[str] = mapped_column(String(64), default="")
    #: e.g. login, login_failed, reveal_id, reveal_phone, import, case_update, export, user_create
    action: Mapped[str] = mapped_column(String(40), index=True)
    object_type: Mapped[str] = mapped_column(String(40), default="")
    object_id: Mapped[str] = mapped_column(String(64), default="")
    success: Mapped[bool] = mapped_column(default=True)
    detail: Mapped[dict] = mapped_column(Json, default=dict)

    def __repr__(self) -> str:
        return f"<AuditEvent {self.action} by {self.username or '-'} on {self.object_type} {self.object_id}>"
