"""The audit trail every part writes: who did what to which object, when, from where, and whether it succeeded.

`record()` is called by the operations that do the audited thing, in the same transaction. Reading the trail (the
page, its filters, labels and export) is the audit part's (dissuasion/audit/)."""
from __future__ import annotations

import datetime as dt

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import DDL, ForeignKey, String, event
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .dbtypes import Json, UTCDateTime
from .timeutil import now


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


# Append-only in the database itself (MLPS 2.0 §8.1.4: audit records cannot be altered or deleted), whoever
# connects. The migration writes the same DDL; these listeners cover db.create_all() (tests, fresh installs).
# Careful: an Alembic batch migration that recreates audit_events on SQLite drops its triggers; re-create them.
SQLITE_TRIGGERS = {
    name: f"CREATE TRIGGER {name} BEFORE {verb} ON audit_events "
          f"BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: {verb} refused'); END"
    for name, verb in (("audit_events_no_update", "UPDATE"), ("audit_events_no_delete", "DELETE"))
}
POSTGRESQL_FUNCTION = (
    "CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    # No '%' placeholder: DDL() and drivers would treat it as a format character.
    "BEGIN RAISE EXCEPTION USING MESSAGE = 'audit_events is append-only: ' || TG_OP || ' refused'; END $$"
)
POSTGRESQL_TRIGGERS = {
    "audit_events_no_change": "CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events "
                              "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
    # Row triggers do not fire on TRUNCATE; this one does.
    "audit_events_no_truncate": "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
                                "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()",
}

for _ddl in SQLITE_TRIGGERS.values():
    event.listen(AuditEvent.__table__, "after_create", DDL(_ddl).execute_if(dialect="sqlite"))
for _ddl in (POSTGRESQL_FUNCTION, *POSTGRESQL_TRIGGERS.values()):
    event.listen(AuditEvent.__table__, "after_create", DDL(_ddl).execute_if(dialect="postgresql"))


def _client_ip() -> str:
    if not has_request_context():
        return ""
    return (request.remote_addr or "")[:64]


def record(action: str, object_type: str = "", object_id="", success: bool = True, user=None,
           **detail) -> AuditEvent:
    """Append one audit event; the acting user defaults to the logged-in one (None for CLI and jobs)."""
    if user is None and has_request_context() and current_user and current_user.is_authenticated:
        user = current_user._get_current_object()
    event = AuditEvent(action=action, object_type=object_type, object_id=str(object_id), success=success,
                       user_id=user.id if user is not None else None,
                       username=user.username if user is not None else "",
                       role=user.role.value if user is not None else "",
                       ip=_client_ip(), detail={k: v for k, v in detail.items() if v is not None})
    db.session.add(event)
    return event
