"""Officers add and move follow-ups by hand. Operations flush; the caller commits."""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from flask_babel import gettext as _

from ..cases.assignment import set_due
from ..cases.lifecycle import LifecycleError, check_version
from ..cases.models import Case
from ..cases.operations import add_event
from ..cases.permissions import may_work
from ..core.auditlog import record
from ..core.enums import EventKind, FollowUpKind, FollowUpStatus, Method
from ..core.filters import fmt_time
from ..core.i18n import say
from ..core.timeutil import now
from ..extensions import db
from .models import FollowUp
from .rules import schedule

if TYPE_CHECKING:
    from ..auth.models import User

MAX_NOTE = 500
#: A follow-up further ahead than this is a typed year gone wrong (2099), not a plan: refused with the date to check.
MAX_AHEAD_DAYS = 180


def _check(case: Case, due_at: dt.datetime, by: User, version) -> None:
    check_version(case, version)
    if not may_work(by, case):
        raise LifecycleError(_("只有责任民警或本所领导可以安排此任务的回访。"))
    if not (case.is_open or case.in_watch()):
        raise LifecycleError(_("任务状态为“%(s)s”，不能再安排回访。", s=case.status.label))
    if due_at < now():
        raise LifecycleError(_("回访时间不能早于现在。"))
    if due_at > now() + dt.timedelta(days=MAX_AHEAD_DAYS):
        raise LifecycleError(_("回访时间不能晚于 %(n)d 天以后（%(d)s）：请检查年份和月份。", n=MAX_AHEAD_DAYS,
                               d=fmt_time(due_at)))


def add_followup(case: Case, due_at: dt.datetime, method: Method, note: str, by: User, version=None) -> FollowUp:
    """An officer's own follow-up (自定回访) at a time and by a method of their choosing."""
    _check(case, due_at, by, version)
    followup = schedule(case, FollowUpKind.MANUAL, method, due_at, by=by, note=(note or "").strip()[:MAX_NOTE])
    record("followup_add", "case", case.id, user=by)
    db.session.flush()
    set_due(case)
    db.session.flush()
    return followup


def move_followup(followup: FollowUp, due_at: dt.datetime, by: User, version=None) -> None:
    """Move a pending follow-up to another time; it will be announced again when due."""
    case = followup.case
    _check(case, due_at, by, version)
    if followup.status != FollowUpStatus.PENDING:
        raise LifecycleError(_("只能调整待办的回访。"))
    before = followup.due_at
    followup.due_at, followup.notified_at = due_at, None
    add_event(case, EventKind.FOLLOWUP, by, message=say("%(k)s 改期：%(a)s → %(b)s", k=followup.kind,
                                                      a=fmt_time(before), b=fmt_time(due_at)), followup=followup.id)
    record("followup_move", "case", case.id, user=by, followup=followup.id)
    set_due(case)
    db.session.flush()
