"""Logging a contact (劝阻记录): the case moves, follow-ups are done and scheduled, and 办结 closes it; a lead
reopens a case given up as 无法联系, and its next contact is due again.
Operations flush; the caller commits."""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy import inspect
from sqlalchemy.orm.attributes import set_committed_value

from ..cases.assignment import set_due, tell_precinct
from ..cases.lifecycle import LifecycleError, check_version, close_case, move, start_work
from ..cases.models import Case
from ..cases.operations import add_event
from ..cases.permissions import may_approve_close, may_work
from ..cases.rules import rule_for
from ..core.auditlog import record
from ..core.enums import CaseStatus, EventKind, FollowUpStatus, Outcome, Reached
from ..core.filters import fmt_time
from ..core.i18n import say
from ..core.timeutil import local, now
from ..extensions import db
from ..followups.rules import GIVE_UP, after_contact, complete_followups, next_contact
from .models import Contact
from .validation import ContactInput, InputError

if TYPE_CHECKING:
    from ..auth.models import User
    from ..followups.models import FollowUp

#: What a contact tells about the person that the case keeps (the latest contact that says it wins).
CASE_FIELDS = ("amount_dissuaded", "amount_defrauded", "defrauded_at", "app_status")


def log_contact(case: Case, data: ContactInput, by: User, close: bool = False, version=None,
                followup: FollowUp | None = None) -> Contact:
    """Record one attempt; the first moves the case to 处置中; then the follow-up rules; 办结 closes it.
    `followup`: the 回访 this contact was logged against (登记回访): it is done by it, whenever it was due."""
    check_version(case, version)
    if not may_work(by, case):
        raise LifecycleError(_("只有责任民警或本所领导可以登记此任务的劝阻记录。"))
    if not (case.is_open or case.in_watch()):
        raise LifecycleError(_("任务状态为“%(s)s”，不能再登记劝阻记录。", s=case.status.label))
    if close and not case.is_open:
        raise LifecycleError(_("任务已经是“%(s)s”状态。", s=case.status.label))
    earliest = min([case.created_at, *(w.pushed_at for w in case.warnings if w.pushed_at)])
    if data.contacted_at < earliest:  # a contact about a warning before it was pushed: a mistyped date
        raise InputError({"contacted_at": _("联系时间不能早于预警推送时间（%(at)s），请核对日期。",
                                            at=local(earliest).strftime("%Y-%m-%d %H:%M"))})
    # the contact's row goes out first, alone: its id is in what it does to the case (the follow-ups it does, the
    # timeline, the audit record, 回访 keys). Written by case_id, the case (unchanged yet) is not in that flush.
    contact = Contact(case_id=case.id, officer_id=by.id, method=data.method, reached=data.reached,
                      relative_relation=data.relative_relation, relative_phone=data.relative_phone,
                      failure_reason=data.failure_reason, contacted_at=data.contacted_at, outcome=data.outcome,
                      amount_dissuaded=data.amount_dissuaded, amount_defrauded=data.amount_defrauded,
                      defrauded_at=data.defrauded_at, fraud_type=data.fraud_type, app_status=data.app_status,
                      note=data.note)
    db.session.add(contact)
    db.session.flush()
    if "contacts" not in inspect(case).unloaded:  # as Contact(case=case) would: the new one last; else loaded later
        set_committed_value(case, "contacts", [*case.contacts, contact])
    with db.session.no_autoflush:  # the case's changes go out in one UPDATE (and the timeline's rows in one INSERT)
        _apply(case, contact, data, by, close, followup)
    db.session.flush()
    return contact


def _apply(case: Case, contact: Contact, data: ContactInput, by: User, close: bool,
           followup: FollowUp | None) -> None:
    """What a contact does to its case: the moves, the follow-up rules, the timeline, the audit record, closing.
    Everything it reads is the case's own rows (loaded through its relationships) or rows other requests wrote."""
    if case.is_open and case.first_attempt_at is None:
        start_work(case, by, data.contacted_at)
    if contact.reached != Reached.NONE and (case.first_reached_at is None or data.contacted_at < case.first_reached_at):
        case.first_reached_at = data.contacted_at  # only reaching someone meets the contact deadline
    _keep_on_case(case, data)
    if followup is not None and followup.case_id == case.id and followup.status == FollowUpStatus.PENDING:
        followup.status, followup.done_at, followup.contact_id = FollowUpStatus.DONE, contact.created_at, contact.id
    complete_followups(case, contact)
    verdict = after_contact(case, contact, rule_for(case.tier)) if case.is_open else None
    if case.is_open and not close and verdict != GIVE_UP:
        next_contact(case, data.contacted_at)  # reached but no result yet: the next contact is due
    add_event(case, EventKind.CONTACT, by, message=_describe(contact), contact=contact.id)
    record("contact_add", "case", case.id, user=by, contact=contact.id)
    if close:
        close_case(case, data.outcome, by, reason=data.note)
    elif verdict == GIVE_UP:
        close_case(case, Outcome.UNREACHABLE, None, reason=say("联系失败次数已达规则上限"))
    else:  # (closing sets it, and flushes: setting it again only made the case dirty for a flush with nothing in it)
        set_due(case)


def _keep_on_case(case: Case, data: ContactInput) -> None:
    if data.outcome is not None and data.outcome != Outcome.UNREACHABLE:
        case.outcome = data.outcome
        for outcome in Outcome:  # an amount belongs to its outcome: a new outcome clears the others'
            if outcome != data.outcome:
                for name in outcome.fields:
                    setattr(case, name, None)
    if data.fraud_type is not None:
        case.confirmed_fraud_type = data.fraud_type
    for name in CASE_FIELDS:
        if getattr(data, name) is not None:
            setattr(case, name, getattr(data, name))


def _describe(contact: Contact) -> str:
    """方式 · 联系上谁（亲友关系或失败原因）· 结果, each part in the reader's language."""
    who = contact.reached
    if contact.reached == Reached.RELATIVE and contact.relative_relation:
        who = say("%(who)s（%(detail)s）", who=who, detail=contact.relative_relation)
    if contact.reached == Reached.NONE and contact.failure_reason:
        who = say("%(who)s（%(detail)s）", who=who, detail=contact.failure_reason)
    if contact.outcome:
        return say("%(method)s · %(who)s · %(outcome)s", method=contact.method, who=who, outcome=contact.outcome)
    return say("%(method)s · %(who)s", method=contact.method, who=who)


def reopen(case: Case, reason: str, by: User) -> None:
    """A lead reopens a case given up as 无法联系 (SPEC "The lifecycle"); the tries count again from zero."""
    if case.status != CaseStatus.UNREACHABLE or not may_approve_close(by, case):
        raise LifecycleError(_("只有本所领导可以重新启用“无法联系”的任务。"))
    case.outcome, case.closed_at, case.closed_by_id, case.failed_attempts = None, None, None, 0
    move(case, CaseStatus.IN_PROGRESS, by, message=(reason or "").strip()[:500] or say("重新启用"))
    next_contact(case, now(), by)  # a deadline again, and the holder is told: before, it could never go overdue
    set_due(case)
    tell_precinct(case, "assigned", say("%(name)s 的任务已由 %(lead)s 重新启用，请在 %(at)s 前再次联系。",
                                        name=case.person.name, lead=by.label, at=fmt_time(case.due_at)))
    record("case_reopen", "case", case.id, user=by)
    db.session.flush()
