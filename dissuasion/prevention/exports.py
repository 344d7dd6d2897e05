"""The publicity log as .xlsx (formula-safe, core/exports.py); every export is audited."""
from __future__ import annotations

from flask_babel import gettext as _

from ..core.auditlog import record
from ..core.enums import ActivityCount
from ..core.exports import write_xlsx
from ..core.timeutil import local
from ..extensions import db


def activity_header() -> list[str]:
    return [_("日期"), _("派出所"), _("宣传类型"), _("社区"), _("地点"), _("参与民警"),
            *[c.label for c in ActivityCount], _("备注"), _("登记人"), _("登记时间")]


def activity_cells(a) -> list:
    return [a.held_on.isoformat(), a.precinct.name, a.kind.label, a.community.name if a.community else "", a.place,
            a.participants, *[a.count(c) for c in ActivityCount], a.note,
            a.created_by.label if a.created_by else "", local(a.created_at)]


def export_activities(rows, by) -> bytes:
    """The activities as one sheet; audited with how many rows left."""
    record("export", "activity", "", user=by, rows=len(rows))
    db.session.flush()
    return write_xlsx([(_("宣传工作"), activity_header(), [activity_cells(a) for a in rows])])
