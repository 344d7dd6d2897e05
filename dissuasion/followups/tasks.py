"""Scheduled jobs on follow-ups and watch periods: due follow-ups are announced, 回访 left undone are
marked missed, and a watch period (关注期) that ends with nothing new closes the case.

"Nothing new" (decided here): no warning reached the case after its latest contact that reached someone,
and no follow-up is still pending. A new warning ends the watch instead: the case stays open and gets a
follow-up due at once. A pending follow-up only postpones the close until it is done or missed.
Retries and escalations are never marked missed: they stay pending, so the case stays overdue on top of
every worklist until someone reaches the person.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import exists, select

from ..cases.assignment import recipients, set_due
from ..cases.lifecycle import LifecycleError, close_case
from ..cases.models import Case
from ..cases.operations import add_event
from ..core.claims import due_ids, each_claimed
from ..core.enums import CaseStatus, EventKind, FollowUpKind, FollowUpStatus, Reached
from ..core.filters import fmt_time
from ..core.i18n import say
from ..core.timeutil import now
from ..notifications.operations import notify_once
from .models import FollowUp
from .rules import schedule

#: A 回访 not done this long after it was due counts as missed (weekly report: follow-ups missed).
MISSED_AFTER = dt.timedelta(hours=24)
BATCH = 500


def _tell(case: Case, kind: str, message: str, key: str) -> None:
    for user_id in recipients(case):
        notify_once(user_id, kind, message, case.id, f"{key}:{user_id}")


def notify_due_followups() -> int:
    """Follow-ups that are due: the assignee (and the leads) hear of each once; moving one announces it again."""
    still_due = (FollowUp.status == FollowUpStatus.PENDING, FollowUp.due_at <= now(), FollowUp.notified_at.is_(None))
    ids = due_ids(select(FollowUp.id).where(*still_due).order_by(FollowUp.due_at).limit(BATCH))

    def announce(followup: FollowUp) -> None:
        followup.notified_at = now()
        case = followup.case
        _tell(case, "followup_due", say("%(kind)s到期：%(name)s，%(method)s，%(at)s", kind=followup.kind,
                                        name=case.person.name, method=followup.method,
                                      at=fmt_time(followup.due_at)),
              f"followup:{followup.id}:{followup.due_at:%Y%m%d%H%M}")

    return each_claimed(FollowUp, ids, still_due, announce)


def mark_missed_followups() -> int:
    """回访 and officers' own follow-ups still undone MISSED_AFTER their time are missed; the case's leads hear."""
    still_due = (FollowUp.status == FollowUpStatus.PENDING, FollowUp.due_at <= now() - MISSED_AFTER,
                 FollowUp.kind.in_((FollowUpKind.REVISIT, FollowUpKind.MANUAL)))
    ids = due_ids(select(FollowUp.id).where(*still_due).limit(BATCH))

    def miss(followup: FollowUp) -> None:
        followup.status = FollowUpStatus.MISSED
        case = followup.case
        add_event(case, EventKind.FOLLOWUP, None, message=say("%(kind)s已错过（应于 %(at)s）", kind=followup.kind,
                                                             at=fmt_time(followup.due_at)), followup=followup.id)
        set_due(case)
        _tell(case, "followup_missed", say("%(kind)s已错过：%(name)s", kind=followup.kind,
                                         name=case.person.name), f"missed:{followup.id}")

    return each_claimed(FollowUp, ids, still_due, miss)


def _something_new(case: Case) -> bool:
    reached = [c.contacted_at for c in case.contacts if c.reached != Reached.NONE]
    last = max(reached, default=None)
    return last is not None and any(w.created_at > last for w in case.warnings)


def close_ended_watches() -> int:
    """Open cases whose watch period has ended: closed with their outcome when nothing new happened."""
    pending = exists().where(FollowUp.case_id == Case.id, FollowUp.status == FollowUpStatus.PENDING)
    still_due = (Case.status.in_(CaseStatus.open_values()), Case.watch_until <= now(),
                 ~pending)  # a 回访 still to do: the close waits until it is done or missed
    ids = due_ids(select(Case.id).where(*still_due).order_by(Case.watch_until, Case.id).limit(BATCH))

    def end_watch(case: Case) -> None:
        if any(f.status == FollowUpStatus.PENDING for f in case.followups):
            return  # a 回访 still to do: the close waits until it is done or missed
        ended = case.watch_until
        if _something_new(case):
            case.watch_until = None
            schedule(case, FollowUpKind.REVISIT, case.method, now(), f"watch:{case.id}:{ended:%Y%m%d%H%M}")
            set_due(case)
            _tell(case, "watch_ended", say("关注期结束时有新预警，请再次联系：%(name)s", name=case.person.name),
                  f"watch:{case.id}:{ended:%Y%m%d%H%M}")
            return
        try:
            close_case(case, case.outcome, None, reason="")
        except LifecycleError as exc:
            _tell(case, "watch_ended", say("关注期已结束，无法自动办结：%(name)s。%(why)s", name=case.person.name,
                                         why=str(exc)), f"watch-blocked:{case.id}:{ended:%Y%m%d%H%M}")
            case.watch_until = None  # told once; the close is the officer's now (taken again, it filled the batch)

    return each_claimed(Case, ids, still_due, end_watch)
