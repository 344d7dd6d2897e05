"""The follow-up rules (SPEC "Rules") applied to a contact, as data from the tier's RuleSetting.

* a failed contact: a retry after `retry_minutes`, until `max_tries` failed tries; then the next step of
  `escalation` (a method: a follow-up with that method, and 面见 becomes the case's method; 'unreachable':
  the case closes as 无法联系); when the steps are used up the leads are told and nothing more is scheduled;
* a contact that reached someone resets the count of failed tries;
* 及时劝阻 or 自主防范: the watch period (关注期) starts, `watch_days` from the contact; 及时劝阻 also gets the
  tier's 回访 on `followup_days` after the contact.

Follow-ups the rules make carry a rule_key (unique), so applying the same rule twice makes one follow-up.
Retry and escalation keys count the case's failed contacts ever made (never reset), revisit keys name the
contact that dissuaded: a case that is dissuaded again after a repeat warning gets its own 回访.
"""
from __future__ import annotations

import datetime as dt
from functools import cache
from typing import TYPE_CHECKING

from sqlalchemy import bindparam

from ..cases.assignment import recipients
from ..cases.models import Case, RuleSetting
from ..cases.operations import add_event
from ..cases.rules import rule_for
from ..core.enums import EventKind, FollowUpKind, FollowUpStatus, Method, Outcome, Reached
from ..core.filters import fmt_time
from ..core.i18n import say
from ..extensions import db
from ..notifications.operations import notify_once
from .models import FollowUp

if TYPE_CHECKING:
    from ..auth.models import User
    from ..contacts.models import Contact  # contacts call these rules with the contact just logged

#: Outcomes after which the person is watched for the tier's watch period.
WATCH_OUTCOMES = frozenset({Outcome.DISSUADED, Outcome.SELF_PROTECTED})
#: A contact completes a pending retry or escalation due up to this long after it (an early call still counts).
EARLY = dt.timedelta(days=1)
#: A 回访 (day 1, 3, 7 after 劝阻) or a follow-up an officer planned is done by a contact from this long before it is
#: due: a call on day 0 is not the day-1 回访, and today's call is not tomorrow's planned visit.
PLANNED_EARLY = dt.timedelta(hours=12)
#: The escalation step that gives up (SPEC: 低 "then 无法联系").
GIVE_UP = "unreachable"


def schedule(case: Case, kind: FollowUpKind, method: Method, due_at: dt.datetime, rule_key: str | None = None,
             by: User | None = None, note: str = "") -> FollowUp | None:
    """Add a follow-up; one with the same rule_key already made is not made again (returns None)."""
    if rule_key and made_already([rule_key]):
        return None
    return _add(case, kind, method, due_at, rule_key, by, note)


def made_already(rule_keys: list[str]) -> set[str]:
    """Which of these rule keys a follow-up already carries: one query for all of them."""
    return set(db.session.scalars(_keys_made(), {"keys": rule_keys})) if rule_keys else set()


@cache
def _keys_made():
    """made_already's query, built once (with its cache key), not per contact."""
    return db.select(FollowUp.rule_key).where(FollowUp.rule_key.in_(bindparam("keys", expanding=True)))


def _add(case: Case, kind: FollowUpKind, method: Method, due_at: dt.datetime, rule_key: str | None,
         by: User | None, note: str = "") -> FollowUp:
    """The follow-up and its line on the timeline (schedule, once its rule key is known to be free)."""
    followup = FollowUp(case=case, kind=kind, method=method, due_at=due_at, rule_key=rule_key,
                        status=FollowUpStatus.PENDING, created_by_id=by.id if by else None, note=note)
    db.session.add(followup)
    add_event(case, EventKind.FOLLOWUP, by, message=say("%(kind)s · %(method)s · %(at)s", kind=kind, method=method,
                                                      at=fmt_time(due_at)),
              due_at=due_at.isoformat(), rule_key=rule_key)
    return followup


def complete_followups(case: Case, contact: Contact) -> int:
    """The pending follow-ups this contact does (done_by)."""
    done = 0
    for followup in case.followups:
        if followup.status == FollowUpStatus.PENDING and done_by(followup, contact):
            followup.status, followup.done_at, followup.contact_id = FollowUpStatus.DONE, contact.created_at, contact.id
            done += 1
    return done


def done_by(followup: FollowUp, contact: Contact) -> bool:
    """A retry or escalation is done by a contact up to a day early; a 回访 or a planned follow-up from 12 hours
    before it is due. A retry is done by any further try; an escalation to 面见 by a visit or by a contact that
    reached someone (a failed call does not do it); a 回访 or planned follow-up by 面见 only by a visit."""
    if followup.kind in (FollowUpKind.REVISIT, FollowUpKind.MANUAL):
        if contact.contacted_at < followup.due_at - PLANNED_EARLY:
            return False
        return followup.method != Method.VISIT or contact.method == Method.VISIT
    if followup.due_at > contact.contacted_at + EARLY:
        return False
    if followup.kind == FollowUpKind.RETRY:  # another try, whatever its method
        return True
    return followup.method != Method.VISIT or contact.method == Method.VISIT or contact.reached != Reached.NONE


def after_contact(case: Case, contact: Contact, rule: RuleSetting) -> str | None:
    """Apply the rules to a contact just logged; returns GIVE_UP when the case must close as 无法联系."""
    if contact.reached == Reached.NONE:
        return after_failure(case, contact, rule)
    case.failed_attempts = 0
    if contact.outcome in WATCH_OUTCOMES:
        start_watch(case, contact, rule)
    return None


def after_failure(case: Case, contact: Contact, rule: RuleSetting) -> str | None:
    """A retry while tries are left; then the next escalation step (see the module's docstring)."""
    case.failed_attempts += 1
    failures = sum(1 for c in case.contacts if c.reached == Reached.NONE)
    # a step "at once" (特高危: relatives, then visit) is due within the tier's first-contact time, not the minute
    # the call failed (that made a case logged on time overdue at once)
    step_after = dt.timedelta(minutes=rule.retry_minutes or rule.contact_minutes)
    if case.failed_attempts < rule.max_tries:
        schedule(case, FollowUpKind.RETRY, case.method, contact.contacted_at + step_after,
                 f"retry:{case.id}:{failures}")
        return None
    index = case.failed_attempts - rule.max_tries
    steps = list(rule.escalation or [])
    if index >= len(steps):
        _tell(case, "escalation", say("%(name)s：已按规则尝试全部处置方式仍未联系上，请所领导决定下一步。",
                                      name=case.person.name), f"exhausted:{case.id}:{failures}")
        return None
    step = steps[index]
    if step == GIVE_UP:
        return GIVE_UP
    method = Method(step)
    if method == Method.VISIT and case.away_from_home:
        method = Method.RELATIVES  # SPEC: whom no officer can visit is phoned, and reached through relatives
    if method == Method.VISIT:
        case.method = Method.VISIT
    schedule(case, FollowUpKind.ESCALATION, method, contact.contacted_at + step_after,
             f"escalation:{case.id}:{failures}")
    _tell(case, "escalation", say("%(name)s：联系失败 %(n)d 次，升级为%(m)s。", name=case.person.name,
                                  n=case.failed_attempts, m=method), f"escalation:{case.id}:{failures}")
    return None


def next_contact(case: Case, at: dt.datetime, by: User | None = None) -> FollowUp | None:
    """An open case under way with nothing pending gets its next contact, due within the tier's first-contact time
    from `at` (reopened by a lead; reached, but with no result yet): without it the case had no deadline, could never
    go overdue, and nobody was reminded."""
    if not case.is_open or case.first_attempt_at is None or case.outcome is not None or case.watch_until is not None:
        return None  # (a case with a result is watched, and closes when its watch ends)
    if any(f.status == FollowUpStatus.PENDING for f in case.followups):
        return None
    window = dt.timedelta(minutes=rule_for(case.tier).contact_minutes)
    method = case.method if not (case.away_from_home and case.method == Method.VISIT) else Method.PHONE
    return schedule(case, FollowUpKind.RETRY, method, at + window, f"next:{case.id}:{int(at.timestamp())}", by=by)


def start_watch(case: Case, contact: Contact, rule: RuleSetting) -> None:
    """The watch period from this contact; after 及时劝阻 also the tier's 回访 (by phone)."""
    if rule.watch_days:
        case.watch_until = max(case.watch_until or contact.contacted_at,
                               contact.contacted_at + dt.timedelta(days=rule.watch_days))
    if contact.outcome != Outcome.DISSUADED:
        return
    keys = {day: f"revisit:{case.id}:{contact.id}:{day}" for day in rule.followup_days or []}
    made = made_already(list(keys.values()))  # as schedule does for each, in one query for the tier's 回访
    for day, key in keys.items():
        if key not in made:
            _add(case, FollowUpKind.REVISIT, Method.PHONE, contact.contacted_at + dt.timedelta(days=day), key, None)


def _tell(case: Case, kind: str, message: str, key: str) -> None:
    for user_id in recipients(case):
        notify_once(user_id, kind, message, case.id, f"{key}:{user_id}")
