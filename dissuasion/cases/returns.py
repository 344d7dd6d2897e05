"""退回: warnings that are not this county's (非本辖区), and a lead's request to send a case back to the center.

The center marks a case of its routing queue (or a whole group of it) as 非本辖区 with a reason: its warnings keep
the mark and the reason, leave every case (the case itself is removed: it was never anyone's work) and are listed in
the feedback file as 退回. The center can undo it: the warnings go through the merge again, into the queue (or the
person's open case). A lead asks for a case of theirs to go back; the center then moves it elsewhere (移交) or
退回s it. Operations flush; the caller commits.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update

from ..core.auditlog import record
from ..core.enums import CaseStatus, EventKind, Role
from ..core.i18n import say
from ..core.timeutil import now
from ..extensions import db
from ..notifications.models import Notification
from ..notifications.operations import lead_ids, notify
from ..privacy.freetext import mask_numbers
from . import queries
from .merge import reattach_warnings
from .models import Case, CaseEvent, EarlyWarning
from .operations import add_event
from .scoping import scope_cases

if TYPE_CHECKING:
    from ..auth.models import User

MAX_REASON = 200


class ReturnError(ValueError):
    """A 退回 or a request the rules refuse; the message says why, in Chinese."""


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ReturnError(_("请填写退回原因（例如：户籍地和现住址都在外县）。"))
    if len(reason) > MAX_REASON:
        raise ReturnError(_("退回原因请控制在 %(n)d 字以内。", n=MAX_REASON))
    return reason


def may_return(user: User, case: Case) -> bool:
    """The center 退回s an open case of its queue, or one a lead asked to send back, before anyone worked on it."""
    return (user.role == Role.CENTER and case.is_open
            and (case.precinct_id is None or case.return_requested_at is not None))


def _worked_on(case: Case) -> bool:
    return bool(case.contacts) or bool(case.followups)


def return_cases(cases: list[Case], reason: str, by: User) -> int:
    """Mark the warnings of these cases 非本辖区 and remove the cases; cases someone already worked on (a contact or
    a follow-up) are refused. Returns how many cases were sent back."""
    reason = _reason(reason)
    for case in cases:
        if not may_return(by, case):
            raise ReturnError(_("只有反诈中心可以退回待分派队列中的任务或派出所申请退回的任务。"))
        if _worked_on(case):
            raise ReturnError(_("%(name)s的任务已有劝阻记录或回访，不能退回：请移交给其他派出所。",
                                name=case.person.name))
    at = now()
    for case in cases:
        numbers = [w.warning_no for w in case.warnings]
        db.session.execute(update(EarlyWarning).where(EarlyWarning.case_id == case.id).values(
            case_id=None, returned_at=at, returned_by_id=by.id, return_reason=reason))
        db.session.execute(update(Case).where(Case.transferred_from_id == case.id).values(transferred_from_id=None))
        db.session.execute(delete(Notification).where(Notification.case_id == case.id))
        db.session.execute(delete(CaseEvent).where(CaseEvent.case_id == case.id))
        record("warnings_return", "case", case.id, user=by, warnings=numbers, reason=mask_numbers(reason),
               person=case.person_id, precinct=case.precinct.code if case.precinct else None)
        if case.precinct_id is not None:  # a lead asked: the precinct hears the center's answer
            for user_id in {*lead_ids(case.precinct_id), *([case.assignee_id] if case.assignee_id else [])}:
                notify(user_id, "returned", say("中心已退回（非本辖区）：%(name)s。%(reason)s",
                                                name=case.person.name, reason=mask_numbers(reason)))
        db.session.execute(delete(Case).where(Case.id == case.id))
        db.session.expunge(case)
    db.session.expire_all()  # the warnings, events and persons loaded before the Core writes above are stale
    return len(cases)


def return_group(by: User, precinct_text: str, reason: str, limit: int) -> tuple[int, int]:
    """退回 the first `limit` cases of a queue group (every case whose newest warning names this precinct text, as
    a 外县 name does); returns (sent back, left in the group)."""
    _reason(reason)
    cases, total = queries.unrouted_group(by, precinct_text, limit)
    workable = [c for c in cases if not _worked_on(c)]
    return return_cases(workable, reason, by) if workable else 0, total - len(workable)


def returned_warnings(user: User, limit: int = 50) -> list[EarlyWarning]:
    """The warnings sent back, newest first (the center's list, where each can be undone)."""
    if user.role != Role.CENTER:
        return []
    stmt = select(EarlyWarning).where(EarlyWarning.returned_at.is_not(None)).order_by(
        EarlyWarning.returned_at.desc(), EarlyWarning.id.desc()).limit(limit)
    return list(db.session.scalars(stmt))


def returned_count(user: User) -> int:
    if user.role != Role.CENTER:
        return 0
    return db.session.scalar(select(func.count(EarlyWarning.id)).where(EarlyWarning.returned_at.is_not(None))) or 0


def undo_return(warning: EarlyWarning, by: User) -> Case:
    """The center takes a 退回 back: the warning goes through the merge again (the person's open case, else a new
    case in the routing queue). Returns its case."""
    if by.role != Role.CENTER:
        raise ReturnError(_("只有反诈中心可以撤销退回。"))
    if warning.returned_at is None:
        raise ReturnError(_("预警 %(no)s 没有被退回。", no=warning.warning_no))
    reason = warning.return_reason
    warning.returned_at, warning.returned_by_id, warning.return_reason = None, None, ""
    db.session.flush()
    case_id = reattach_warnings([warning], by)[0]
    case = db.session.get(Case, case_id)
    record("warnings_return_undo", "case", case_id, user=by, warnings=[warning.warning_no],
           reason=mask_numbers(reason))
    return case


def request_return(case: Case, reason: str, by: User) -> None:
    """A lead asks the center to take a case back (not their precinct's); the case stays theirs until the center
    decides, and the center sees the request on its board."""
    reason = _reason(reason)
    if not (by.role == Role.LEAD and case.is_open and case.precinct_id == by.precinct_id):
        raise ReturnError(_("只有本所领导可以申请把在办任务退回中心。"))
    if case.return_requested_at is not None:
        raise ReturnError(_("已申请退回，请等待中心处理。"))
    case.return_requested_at, case.return_request_reason = now(), reason
    add_event(case, EventKind.NOTE, by, message=say("申请退回中心：%(r)s", r=reason))
    record("case_return_request", "case", case.id, user=by, reason=mask_numbers(reason))
    db.session.flush()


def return_requests(user: User, limit: int = 100) -> list[Case]:
    """Open cases whose lead asked the center to take them back, oldest request first."""
    stmt = scope_cases(user).where(Case.return_requested_at.is_not(None), Case.status.in_(CaseStatus.open_values()))
    return list(db.session.scalars(stmt.order_by(Case.return_requested_at, Case.id).limit(limit)))
