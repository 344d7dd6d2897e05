"""The case lifecycle (SPEC "The lifecycle") as one state machine: which status may follow which, and who may
make each move. Signing is dispatch's (dispatch.sign_for); contacts, closing, reopening and the scheduler's
closes go through here. Operations flush; the caller commits.

预警见人: a 特高危 or 高 case closes only after a 面见 contact that reached someone (the person or a relative),
or after a lead of its precinct approved closing without one, with a reason. The approval is an event on the
timeline (EventKind.CLOSE_APPROVED, the reason as its message): it is seen by everyone who reads the case and
is counted by the reports, and it needs no column of its own.
"""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from flask_babel import gettext as _

from ..core.auditlog import record
from ..core.enums import CaseStatus, EventKind, FollowUpKind, FollowUpStatus, Outcome, Role
from ..core.i18n import Said, colon, say
from ..core.timeutil import local, now
from ..extensions import db
from ..privacy.freetext import mask_numbers
from .assignment import set_due
from .models import Case
from .operations import add_event
from .permissions import may_approve_close, may_work

if TYPE_CHECKING:
    from ..auth.models import User

#: Who acts when the rules or the scheduler move a case.
SYSTEM = "system"
_OPEN = CaseStatus.open_values()
_WORKERS = frozenset({Role.OFFICER, Role.LEAD})
#: (from, to) -> who may make the move: roles, or SYSTEM for the rules and the scheduler.
TRANSITIONS: dict[tuple[CaseStatus, CaseStatus], frozenset] = {
    (CaseStatus.NEW, CaseStatus.SIGNED): _WORKERS,
    # The holder's first contact signs a new case implicitly.
    (CaseStatus.NEW, CaseStatus.IN_PROGRESS): _WORKERS,
    (CaseStatus.SIGNED, CaseStatus.IN_PROGRESS): _WORKERS,
    **{(s, CaseStatus.CLOSED): _WORKERS | {SYSTEM} for s in _OPEN},
    **{(s, CaseStatus.UNREACHABLE): _WORKERS | {SYSTEM} for s in _OPEN},
    **{(s, CaseStatus.TRANSFERRED): frozenset({Role.LEAD, Role.CENTER}) for s in _OPEN},
    (CaseStatus.UNREACHABLE, CaseStatus.IN_PROGRESS): frozenset({Role.LEAD}),
}
#: Follow-ups that try to reach the person; closing cancels them (回访 stay for the watch period).
REACHING_KINDS = frozenset({FollowUpKind.RETRY, FollowUpKind.ESCALATION})


class LifecycleError(ValueError):
    """A move was refused; the message says why, in Chinese."""


class StaleCase(LifecycleError):
    """The page or client was showing an older version of the case; nothing was saved."""


def may_move(by: User | None, case: Case, to: CaseStatus) -> bool:
    """Whether this user (None: the system) may move the case to `to` from where it is."""
    who = TRANSITIONS.get((case.status, to), frozenset())
    return SYSTEM in who if by is None else by.role in who


def move(case: Case, to: CaseStatus, by: User | None, message: str = "", kind: EventKind = EventKind.STATUS,
         **data) -> None:
    """Change the status after checking the table above; the timeline records it."""
    if not may_move(by, case, to):
        raise LifecycleError(_("任务当前为“%(a)s”，不能改为“%(b)s”。", a=case.status.label, b=to.label))
    before = case.status
    case.status = to
    set_due(case)
    add_event(case, kind, by, message=message, from_status=before, to_status=to, **data)


def check_version(case: Case, version) -> None:
    """The form or client must have seen the case as it is now; otherwise say who changed what, and when."""
    if version is None or str(version).strip() == str(case.version):
        return
    last = case.events[-1] if case.events else None
    if last is None:
        raise StaleCase(_("任务刚被他人更新，请查看最新情况后再提交。"))
    what = last.kind.label + (colon() + mask_numbers(last.text) if last.text else "")
    raise StaleCase(_("任务已被 %(who)s 于 %(at)s 更新：%(what)s。您填写的内容尚未保存，请核对后再提交。",
                      who=last.actor.label if last.actor else _("系统"), at=local(last.at).strftime("%H:%M"),
                      what=what))


def start_work(case: Case, by: User, at: dt.datetime) -> None:
    """The first contact: a new case is signed implicitly (an officer takes it from the pool), then 处置中."""
    if case.status == CaseStatus.NEW:
        took = by.role == Role.OFFICER and case.assignee_id is None
        if took:
            case.assignee = by
        case.signed_at, case.signed_by_id = now(), by.id
        # the timeline says so, as when 签收 is pressed (every change is an event)
        add_event(case, EventKind.SIGNED, by, from_status=CaseStatus.NEW, to_status=CaseStatus.SIGNED,
                  message=say("首次联系时签收，从所内待分配任务中领取") if took else say("首次联系时签收"),
                  late=case.signed_at > case.sign_deadline)
    case.first_attempt_at = at
    move(case, CaseStatus.IN_PROGRESS, by, message=say("首次联系"), late=at > case.contact_deadline)


def approve_close(case: Case, reason: str, by: User) -> None:
    """A lead lets a 特高危/高 case close without a 面见 contact; the reason goes on the timeline."""
    reason = (reason or "").strip()
    if not may_approve_close(by, case):
        raise LifecycleError(_("只有本所领导可以批准未面见办结。"))
    if not reason:
        raise LifecycleError(_("请填写批准未面见办结的理由。"))
    add_event(case, EventKind.CLOSE_APPROVED, by, message=reason[:500])
    record("case_close_approved", "case", case.id, user=by)
    db.session.flush()


def close_case(case: Case, outcome: Outcome, by: User | None, reason: str = "") -> None:
    """办结 with an outcome (无法联系 → status unreachable); retries and escalations still pending are cancelled."""
    if by is not None and not may_work(by, case):
        raise LifecycleError(_("只有责任民警或本所领导可以办结此任务。"))
    if case.tier.needs_visit and not case.visit_made():
        if by is not None and may_approve_close(by, case) and reason.strip():
            approve_close(case, reason, by)
        else:
            raise LifecycleError(_("%(tier)s任务须至少面见一次（预警见人），或由所领导填写理由批准后才能办结。",
                                   tier=case.tier.label))
    to = CaseStatus.UNREACHABLE if outcome == Outcome.UNREACHABLE else CaseStatus.CLOSED
    case.outcome, case.closed_at, case.closed_by_id = outcome, now(), by.id if by else None
    for followup in case.followups:
        if followup.status == FollowUpStatus.PENDING and followup.kind in REACHING_KINDS:
            followup.status = FollowUpStatus.CANCELLED
    why = reason if isinstance(reason, Said) else reason.strip()  # a system's reason is shown translated
    message = (say("%(outcome)s（%(reason)s）", outcome=outcome, reason=why) if why
               else say("%(outcome)s", outcome=outcome))
    move(case, to, by, message=message, kind=EventKind.CLOSED, outcome=outcome.value)
    record("case_close", "case", case.id, user=by, outcome=outcome.value)
    db.session.flush()


#: Outcomes that say what happened when the person was reached: they come from a contact that recorded them
#: (受骗金额 and 受骗时间 for 已被骗, 劝阻金额 for 及时劝阻), never from a bare close.
REACHED_OUTCOMES = (Outcome.DISSUADED, Outcome.SELF_PROTECTED, Outcome.DEFRAUDED)


def close_without_contact(case: Case, outcome: Outcome, by: User, reason: str = "") -> None:
    """办结 from the case page or the API, without a new contact: 误报 and 无法联系 at any time; an outcome of
    reaching the person only once a contact on the case has recorded it (with its amounts and times)."""
    if outcome in REACHED_OUTCOMES and not any(c.outcome == outcome for c in case.contacts):
        raise LifecycleError(_("“%(outcome)s”须先在“登记劝阻记录”中登记联系上本人或亲友的那次联系（含金额、时间），"
                               "在那里直接办结；这里只能以“误报”或“无法联系”办结。", outcome=outcome.label))
    close_case(case, outcome, by, reason)
