"""Scheduled jobs on cases: overdue sign-for and overdue first contact (SPEC "Rules": a case past a limit is
overdue). Each tells the assignee and the precinct's leads once per case and deadline."""
from __future__ import annotations

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import aliased

from ..auth.models import User
from ..core.claims import due_ids
from ..core.enums import CaseStatus, Role
from ..core.i18n import say
from ..core.timeutil import now
from ..extensions import db
from ..notifications.models import Notification
from ..notifications.operations import notify_once
from .assignment import recipients
from .models import Case

BATCH = 500


def _not_told(kind: str, deadline):
    return ~exists().where(Notification.case_id == Case.id, Notification.kind == kind,
                           Notification.created_at >= deadline)


def _someone_to_tell():
    """The case has an assignee or its precinct an active lead (recipients): a case nobody can be told of is not
    taken again every minute, filling the batch while cases that have someone wait (it is told once someone is)."""
    lead = aliased(User)
    return or_(Case.assignee_id.is_not(None), exists().where(
        lead.precinct_id == Case.precinct_id, lead.role == Role.LEAD, lead.active.is_(True)))


def _tell_overdue(kind: str, deadline_of, message) -> int:
    stmt_filter = {"overdue_sign": (Case.status == CaseStatus.NEW, Case.sign_deadline <= now(),
                                    _not_told("overdue_sign", Case.sign_deadline)),
                   "overdue_contact": (Case.status.in_((CaseStatus.SIGNED, CaseStatus.IN_PROGRESS)),
                                       Case.first_reached_at.is_(None), Case.contact_deadline <= now(),
                                       _not_told("overdue_contact", Case.contact_deadline))}[kind]
    deadline = Case.sign_deadline if kind == "overdue_sign" else Case.contact_deadline
    ids = due_ids(select(Case.id).where(Case.precinct_id.is_not(None), _someone_to_tell(), *stmt_filter)
                  .order_by(deadline, Case.id).limit(BATCH))  # the longest overdue first
    sent = 0
    for case_id in ids:
        case = db.session.get(Case, case_id)
        stamp = deadline_of(case).strftime("%Y%m%d%H%M")
        for user_id in recipients(case):
            sent += notify_once(user_id, kind, message(case), case.id, f"{kind}:{case.id}:{stamp}:{user_id}")
        db.session.commit()
    return sent


def notify_overdue_sign() -> int:
    """Cases not signed for within the limit: the assignee and the leads hear of it, once per deadline."""
    return _tell_overdue("overdue_sign", lambda c: c.sign_deadline,
                         lambda c: say("签收超时：%(name)s（%(tier)s）", name=c.person.name, tier=c.tier))


def notify_overdue_contact() -> int:
    """Signed cases whose person (or a relative) was not reached within the limit (a failed call does not meet it):
    the assignee and the leads hear of it, once."""
    return _tell_overdue("overdue_contact", lambda c: c.contact_deadline,
                         lambda c: say("首次联系超时：%(name)s（%(tier)s）", name=c.person.name, tier=c.tier))
