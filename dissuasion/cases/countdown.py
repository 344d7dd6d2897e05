"""The countdown a worklist row shows ("还剩 25 分钟", "已超时 1 小时 5 分"); static/countdown.js keeps it live."""
import datetime as dt
import math

from ..core.i18n import gettext as _
from ..core.timeutil import now


def span_text(minutes: int) -> str:
    """25 分钟; 1 小时 5 分; 2 天 3 小时."""
    if minutes < 60:
        return _("%(m)d 分钟", m=minutes)
    if minutes < 24 * 60:
        hours, rest = divmod(minutes, 60)
        return _("%(h)d 小时 %(m)d 分", h=hours, m=rest) if rest else _("%(h)d 小时", h=hours)
    days, rest = divmod(minutes, 24 * 60)
    hours = rest // 60
    return _("%(d)d 天 %(h)d 小时", d=days, h=hours) if hours else _("%(d)d 天", d=days)


def countdown(due: dt.datetime | None, at: dt.datetime | None = None) -> str:
    """Time left before the deadline, or how long it is overdue; '' without a deadline."""
    if due is None:
        return ""
    seconds = (due - (at or now())).total_seconds()
    if seconds <= 0:  # at the deadline it is missed; the first minute over reads 1 分钟, not 0
        return _("已超时 %(t)s", t=span_text(max(1, int(-seconds // 60))))
    return _("还剩 %(t)s", t=span_text(math.ceil(seconds / 60)))
