"""Writing audit events. Called by the operations that do the audited thing, in the same transaction."""
from flask import has_request_context, request
from flask_login import current_user

from ..exports import write_xlsx
from ..extensions import db
from .models import AuditEvent
from .queries import EXPORT_HEADER, export_rows


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


def export_audit_trail(f, by) -> bytes:
    """The filtered audit trail as .xlsx; the export itself is an audit event (with its filters)."""
    rows = export_rows(f)
    record("export", "audit_events", "", user=by, rows=len(rows), filters=f.as_dict())
    db.session.flush()
    return write_xlsx([("审计日志", EXPORT_HEADER, rows)])
