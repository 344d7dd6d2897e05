"""The audit trail's export (writing events is core.auditlog.record)."""
from ..core.auditlog import record
from ..core.exports import write_xlsx
from ..extensions import db
from .queries import EXPORT_HEADER, export_rows


def export_audit_trail(f, by) -> bytes:
    """The filtered audit trail as .xlsx; the export itself is an audit event (with its filters)."""
    rows = export_rows(f)
    record("export", "audit_events", "", user=by, rows=len(rows), filters=f.as_dict())
    db.session.flush()
    return write_xlsx([("审计日志", EXPORT_HEADER, rows)])
