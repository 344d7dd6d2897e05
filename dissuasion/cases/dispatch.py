"""Dispatch (SPEC "The lifecycle"): sign-for, assignment within a precinct, transfer, routing.

Operations check permission and state, change the case, write its timeline and the audit log,
notify, and flush; the caller commits.
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func

from ..auth.models import User
from ..core.auditlog import record
from ..core.enums import CaseStatus, EventKind, Role
from ..core.i18n import say
from ..core.signals import account_changed, account_holds
from ..core.timeutil import now
from ..directory.models import Community, Precinct, place_name
from ..extensions import db
from ..notifications.operations import lead_ids, notify
from .assignment import apply_plan, assignee_for, may_hold, recipients, set_due, tell_precinct
from .models import Case
from .operations import add_event
from .permissions import may_assign, may_route, may_sign, may_transfer
from .rules import rules_by_tier

MAX_REASON = 500


class DispatchError(ValueError):
    """An action on a case was refused; the message says why, in Chinese."""


def sign_for(case: Case, by: User) -> None:
    """签收: the case is acknowledged; an officer signing a pool case takes it; first contact now binds."""
    if case.status != CaseStatus.NEW:
        raise DispatchError(_("该任务已签收，无需重复签收。"))
    if not may_sign(by, case):
        raise DispatchError(_("只有责任民警或本所领导可以签收此任务。"))
    took = by.role == Role.OFFICER and case.assignee_id is None
    if took:
        case.assignee = by
    case.status, case.signed_at, case.signed_by_id = CaseStatus.SIGNED, now(), by.id
    set_due(case)
    add_event(case, EventKind.SIGNED, by, from_status=CaseStatus.NEW, to_status=CaseStatus.SIGNED,
              message=say("从所内待分配任务中领取") if took else "", late=case.signed_at > case.sign_deadline)
    record("case_sign", "case", case.id, user=by)
    db.session.flush()


def eligible_assignees(precinct_id: int) -> list[User]:
    """The precinct's active officers and leads, who may hold its cases."""
    return list(db.session.scalars(db.select(User).where(
        User.precinct_id == precinct_id, User.active.is_(True), User.role.in_((Role.OFFICER, Role.LEAD)))
        .order_by(User.role.desc(), User.display_name, User.username)))


def assign(case: Case, officer: User | None, by: User) -> bool:
    """Give the case to one of the precinct's officers, or back to its pool (None); False if nothing changed."""
    if not may_assign(by, case):
        raise DispatchError(_("只有本所领导可以指派在办任务。"))
    if officer is not None and not may_hold(officer, case.precinct_id):
        raise DispatchError(_("只能指派给本所在岗的民警。"))
    if case.assignee_id == (officer.id if officer else None):
        return False
    before = case.assignee
    case.assignee = officer
    message = say("指派给 %(name)s", name=officer.label) if officer else say("退回所内待分配")
    add_event(case, EventKind.ASSIGNED, by, message=message, from_user=before.id if before else None,
              to_user=officer.id if officer else None)
    record("case_assign", "case", case.id, user=by, to_user=officer.id if officer else None)
    if officer is not None:
        notify(officer.id, "assigned", say("新指派任务：%(name)s（%(tier)s）", name=case.person.name, tier=case.tier),
               case_id=case.id)
    db.session.flush()
    return True


def bulk_sign(cases: list[Case], by: User) -> int:
    """签收 every new case of the selection (a lead's board); the others are left as they are. Returns how many."""
    signed = 0
    for case in cases:
        if case.status == CaseStatus.NEW:
            sign_for(case, by)
            signed += 1
    return signed


def bulk_assign(cases: list[Case], officer: User | None, by: User) -> int:
    """Assign several cases at once (a lead's board); all or nothing; returns how many changed."""
    return sum(assign(case, officer, by) for case in cases)


def _check_destination(precinct: Precinct, community: Community | None) -> None:
    if not precinct.active:
        raise DispatchError(_("%(name)s已停用，不能接收任务。", name=precinct.name))
    if community is not None and community.precinct_id != precinct.id:
        raise DispatchError(_("社区 %(c)s 不属于%(p)s。", c=community.name, p=precinct.name))


def transfer(case: Case, precinct: Precinct, community: Community | None, reason: str, by: User) -> Case:
    """移交: the case closes here as transferred; the receiving precinct gets a new case with fresh deadlines."""
    reason = (reason or "").strip()
    if not may_transfer(by, case):
        raise DispatchError(_("只有本所领导或反诈中心可以移交在办任务。"))
    if not reason:
        raise DispatchError(_("请填写移交原因。"))
    if len(reason) > MAX_REASON:
        raise DispatchError(_("移交原因请控制在 %(n)d 字以内。", n=MAX_REASON))
    if precinct.id == case.precinct_id:
        raise DispatchError(_("任务已在%(name)s，请选择其他派出所。", name=precinct.name))
    _check_destination(precinct, community)
    old_status, old_precinct = case.status, case.precinct
    new = Case(person=case.person, precinct=precinct, community=community, status=CaseStatus.NEW,
               assignee=assignee_for(community), transferred_from_id=case.id, flags=list(case.flags or []))
    apply_plan(new, case.tier, case.away_from_home)
    db.session.add(new)
    for warning in list(case.warnings):
        warning.case = new
    case.status = CaseStatus.TRANSFERRED
    set_due(case)
    db.session.flush()
    add_event(case, EventKind.TRANSFERRED, by, message=reason, from_status=old_status,
              to_status=CaseStatus.TRANSFERRED, to_precinct=precinct.code, new_case=new.id)
    add_event(new, EventKind.CREATED, by, message=say("由%(p)s移交：%(r)s", p=old_precinct.name, r=reason),
              to_status=CaseStatus.NEW, transferred_from=case.id, tier=new.tier.value)
    record("case_transfer", "case", case.id, user=by, to_precinct=precinct.code, new_case=new.id)
    tell_precinct(new, "assigned", say("移交来的任务：%(name)s（%(tier)s）", name=new.person.name, tier=new.tier))
    db.session.flush()
    return new


def route(case: Case, precinct: Precinct, community: Community | None, by: User) -> None:
    """The center sends a case from its routing queue to a precinct, with fresh deadlines from now."""
    _route(case, precinct, community, by)
    db.session.flush()
    tell_precinct(case, "assigned", say("中心分派任务：%(name)s（%(tier)s）", name=case.person.name, tier=case.tier))
    db.session.flush()


def _route(case: Case, precinct: Precinct, community: Community | None, by: User, rules: dict | None = None,
           **audit) -> None:
    if not may_route(by, case):
        raise DispatchError(_("只有反诈中心可以分派待分派队列中的任务。"))
    _check_destination(precinct, community)
    case.precinct, case.community, case.assignee = precinct, community, assignee_for(community)
    case.status = CaseStatus.NEW
    apply_plan(case, case.tier, case.away_from_home, rules)
    add_event(case, EventKind.ROUTED, by, message=place_name(precinct, community),
              precinct=precinct.code)
    record("case_route", "case", case.id, user=by, precinct=precinct.code, **audit)


def route_many(cases: list[Case], places: list[tuple[Precinct, Community | None]], by: User, how: str) -> int:
    """Route several cases from the queue at once (`places`: each case's destination), all or nothing. Each case
    gets its timeline entry and audit record as one routed alone would; each person told hears once, with the
    count, instead of once per case. `how` goes into the audit records (group / directory)."""
    rules, leads = rules_by_tier(), {}
    for case, (precinct, community) in zip(cases, places, strict=True):
        _route(case, precinct, community, by, rules, bulk=how)
    db.session.flush()
    told: dict[int, int] = {}
    for case in cases:
        for user_id in recipients(case, leads):
            told[user_id] = told.get(user_id, 0) + 1
    for user_id, count in told.items():
        notify(user_id, "assigned", say("中心分派了 %(n)d 件任务，请及时签收。", n=count))
    db.session.flush()
    return len(cases)


@account_changed.connect
def release_cases(user: User, by: User | None = None) -> int:
    """Open cases held by an account that may no longer hold them go back to their precinct's pool, each with a
    timeline entry; the precinct's leads are told how many. Returns how many were released."""
    held = db.session.scalars(db.select(Case).where(
        Case.assignee_id == user.id, Case.status.in_(CaseStatus.open_values())).order_by(Case.id)).all()
    released = [case for case in held if not may_hold(user, case.precinct_id)]
    per_precinct: dict[int, int] = {}
    for case in released:
        case.assignee = None
        add_event(case, EventKind.ASSIGNED, by, message=say("%(name)s 的账号已停用或调离，任务退回所内待分配",
                                                          name=user.label), from_user=user.id, to_user=None)
        per_precinct[case.precinct_id] = per_precinct.get(case.precinct_id, 0) + 1
    for precinct_id, count in per_precinct.items():
        for lead in lead_ids(precinct_id):
            notify(lead, "assigned", say("%(name)s 的 %(n)d 件在办任务已退回所内待分配，请重新指派。",
                                       name=user.label, n=count))
    db.session.flush()
    return len(released)


@account_holds.connect
def open_cases_held(user: User) -> int:
    """How many open cases the account holds (the users page shows it beside the 停用 choice)."""
    return db.session.scalar(db.select(func.count(Case.id)).where(
        Case.assignee_id == user.id, Case.status.in_(CaseStatus.open_values()))) or 0
