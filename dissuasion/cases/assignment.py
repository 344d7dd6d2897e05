"""Who gets a case and by when: the pieces every path that creates or moves a case shares.

register_warning (imports, API, manual entry), transfer and routing all call these, so a case
is planned and assigned the same way whichever door it came in by.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.enums import CaseStatus, FollowUpStatus, Role, Tier
from ..core.timeutil import now
from ..directory.models import Community
from ..extensions import db
from ..notifications.operations import lead_ids, notify
from .models import Case
from .rules import plan, rules_by_tier

if TYPE_CHECKING:
    from ..auth.models import User


def may_hold(user: User, precinct_id: int | None) -> bool:
    """Whether this account may hold a case of this precinct: an active officer or lead of it."""
    return user.active and user.role in (Role.OFFICER, Role.LEAD) and user.precinct_id == precinct_id


def assignee_for(community: Community | None) -> User | None:
    """The community's officer while their account may hold the community's cases (active, still in that precinct,
    an officer or lead); None puts the case in the precinct's pool."""
    officer = community.officer if community is not None else None
    return officer if officer is not None and may_hold(officer, community.precinct_id) else None


def apply_plan(case: Case, tier: Tier, away_from_home: bool, rules: dict | None = None) -> None:
    """Method and deadlines of this tier's rule, counted from now (when the warning reaches the precinct).
    `rules`: the rules by tier, when the caller plans many cases."""
    with db.session.no_autoflush:
        p = plan((rules or rules_by_tier())[tier], away_from_home, now())
    case.tier, case.method, case.away_from_home = tier, p.method, away_from_home
    case.sign_deadline, case.contact_deadline = p.sign_deadline, p.contact_deadline
    set_due(case)


def set_due(case: Case) -> None:
    """The deadline that binds now: sign-for while new; until someone is reached, the contact deadline (a failed try
    does not meet it) or a retry or escalation due sooner, and once that deadline has passed the next step the rules
    scheduled (a lead's reopening gives one); then the next follow-up; none once closed."""
    if not case.is_open:
        case.due_at = None
    elif case.status == CaseStatus.NEW:
        case.due_at = case.sign_deadline
    elif case.first_reached_at is None:
        pending = [f.due_at for f in case.followups if f.status == FollowUpStatus.PENDING]
        late = case.contact_deadline < now() and pending
        case.due_at = min(pending) if late else min([case.contact_deadline, *pending])
    else:
        # After the first contact the earliest pending follow-up binds (followups.rules schedules them).
        case.due_at = min((f.due_at for f in case.followups if f.status == FollowUpStatus.PENDING), default=None)


def recipients(case: Case, leads: dict | None = None) -> list[int]:
    """Who hears about a case: its assignee and its precinct's leads (`leads`: precinct -> lead ids, filled as
    asked, when the caller tells about many cases)."""
    if case.precinct_id is None:
        return []
    if leads is None:
        users = set(lead_ids(case.precinct_id))
    else:
        if case.precinct_id not in leads:
            leads[case.precinct_id] = lead_ids(case.precinct_id)
        users = set(leads[case.precinct_id])
    if case.assignee_id is not None:
        users.add(case.assignee_id)
    return sorted(users)


def tell_precinct(case: Case, kind: str, message: str) -> None:
    """The assignee (or, for the pool, nobody in particular) and the precinct's leads hear of it."""
    for user_id in recipients(case):
        notify(user_id, kind, message, case_id=case.id)
