"""Reading the audit trail: the admin page's filters and its export."""
import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, select

from ..core.auditlog import AuditEvent
from ..core.timeutil import from_local, local
from ..extensions import db

#: The most rows one export holds; narrow the filters for more.
EXPORT_MAX_ROWS = 100_000
EXPORT_HEADER = ("时间", "用户", "角色", "IP", "操作", "对象类型", "对象", "成功", "详情")


@dataclass
class AuditFilter:
    """What the admin narrows the trail to; empty fields do not filter."""

    username: str = ""
    action: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    #: "yes", "no" or "" for both.
    success: str = ""

    def as_dict(self) -> dict:
        return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in vars(self).items() if v}


def filtered(f: AuditFilter) -> Select:
    """Newest first; dates are Asia/Shanghai calendar days, both ends included."""
    stmt = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if f.username:
        stmt = stmt.where(AuditEvent.username == f.username.strip())
    if f.action:
        stmt = stmt.where(AuditEvent.action == f.action)
    if f.date_from:
        stmt = stmt.where(AuditEvent.at >= from_local(dt.datetime.combine(f.date_from, dt.time())))
    if f.date_to:
        stmt = stmt.where(AuditEvent.at < from_local(dt.datetime.combine(f.date_to + dt.timedelta(days=1), dt.time())))
    if f.success in ("yes", "no"):
        stmt = stmt.where(AuditEvent.success.is_(f.success == "yes"))
    return stmt


def known_actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))


def export_rows(f: AuditFilter) -> list[tuple]:
    """The filtered events as spreadsheet rows, local times, at most EXPORT_MAX_ROWS."""
    events = db.session.scalars(filtered(f).limit(EXPORT_MAX_ROWS))
    return [(local(e.at).replace(tzinfo=None), e.username, e.role, e.ip, e.action, e.object_type, e.object_id,
             e.success, ", ".join(f"{k}={v}" for k, v in sorted(e.detail.items()))) for e in events]
