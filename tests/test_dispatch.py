"""Sign-for, assignment, transfer and routing, called directly (SPEC "The lifecycle")."""
import datetime as dt

import pytest

from dissuasion.cases.dispatch import DispatchError, assign, bulk_assign, route, sign_for, transfer
from dissuasion.cases.models import Case
from dissuasion.cases.queries import worklist
from dissuasion.cases.scoping import scope_cases
from dissuasion.core.auditlog import AuditEvent
from dissuasion.core.enums import CaseStatus, EventKind, Method
from dissuasion.core.timeutil import UTC
from dissuasion.directory.models import Precinct
from dissuasion.extensions import db
from dissuasion.notifications.models import Notification

T0 = dt.datetime(2026, 11, 16, 1, 0, tzinfo=UTC)


def _kinds(case: Case) -> list[EventKind]:
    db.session.refresh(case)
    return [e.kind for e in case.events]


def _audited(action: str) -> list[str]:
    return list(db.session.scalars(db.select(AuditEvent.object_id).filter_by(action=action)))


def test_assignee_signs_and_first_contact_deadline_binds(make_case, make_user, clock):
    clock(T0)
    me = make_user("officer")
    case = make_case(tier="high", assignee=me)
    clock(T0 + dt.timedelta(minutes=5))
    sign_for(case, me)
    assert case.status == CaseStatus.SIGNED and case.signed_by_id == me.id
    assert case.signed_at == T0 + dt.timedelta(minutes=5)
    assert case.due_at == case.contact_deadline == T0 + dt.timedelta(hours=2)
    assert _kinds(case)[-1] == EventKind.SIGNED and _audited("case_sign") == [str(case.id)]


def test_officer_signing_a_pool_case_takes_it(make_case, make_user):
    me = make_user("officer")
    case = make_case(community="无民警社区")
    assert case.assignee_id is None
    sign_for(case, me)
    assert case.assignee == me and case in db.session.scalars(scope_cases(me)).all()


def test_lead_signs_without_taking_the_case(make_case, make_user):
    case = make_case(community="无民警社区")
    sign_for(case, make_user("lead"))
    assert case.status == CaseStatus.SIGNED and case.assignee_id is None


@pytest.mark.parametrize("who", ["colleague", "other_precinct_lead", "center"])
def test_others_may_not_sign(make_case, make_user, who):
    case = make_case(assignee=make_user("officer"))
    user = {"colleague": lambda: make_user("officer"), "other_precinct_lead": lambda: make_user("lead", "PCS02"),
            "center": lambda: make_user("center")}[who]()
    with pytest.raises(DispatchError, match="签收"):
        sign_for(case, user)
    assert case.status == CaseStatus.NEW


def test_signing_twice_is_refused(make_case, make_user):
    me = make_user("officer")
    case = make_case(assignee=me)
    sign_for(case, me)
    with pytest.raises(DispatchError, match="已签收"):
        sign_for(case, me)


def test_lead_assigns_and_the_officer_hears_of_it(make_case, make_user):
    lead, officer = make_user("lead"), make_user("officer")
    case = make_case(community="无民警社区")
    assert assign(case, officer, lead) is True
    assert case.assignee == officer and _kinds(case)[-1] == EventKind.ASSIGNED
    assert db.session.scalar(db.select(Notification).filter_by(user_id=officer.id, case_id=case.id))
    assert assign(case, officer, lead) is False


def test_reassigned_case_leaves_the_first_officers_list(make_case, make_user):
    lead, first, second = make_user("lead"), make_user("officer"), make_user("officer")
    case = make_case(assignee=first)
    assign(case, second, lead)
    assert case not in db.session.scalars(scope_cases(first)).all()
    assert case in db.session.scalars(scope_cases(second)).all()


@pytest.mark.parametrize("target", ["other_precinct_officer", "inactive_officer"])
def test_assign_only_to_active_officers_of_the_precinct(make_case, make_user, target):
    lead = make_user("lead")
    other = target == "other_precinct_officer"
    officer = make_user("officer", "PCS02") if other else make_user("officer", active=False)
    case = make_case()
    with pytest.raises(DispatchError, match="本所在岗"):
        assign(case, officer, lead)


def test_officer_may_not_assign(make_case, make_user):
    me = make_user("officer")
    with pytest.raises(DispatchError, match="本所领导"):
        assign(make_case(assignee=me), make_user("officer"), me)


def test_bulk_assign_and_back_to_pool(make_case, make_user):
    lead, officer = make_user("lead"), make_user("officer")
    cases = [make_case(community="无民警社区") for _ in range(3)]
    assert bulk_assign(cases, officer, lead) == 3
    assert {c.assignee_id for c in cases} == {officer.id}
    assert bulk_assign(cases[:1], None, lead) == 1 and cases[0].assignee_id is None


def _pcs02():
    return db.session.scalar(db.select(Precinct).filter_by(code="PCS02"))


def test_transfer_moves_the_person_to_a_new_case_in_the_other_precinct(make_case, make_user, make_precinct, clock):
    clock(T0)
    lead1, lead2 = make_user("lead", "PCS01"), make_user("lead", "PCS02")
    receiving = make_user("officer", "PCS02")
    make_precinct("PCS02", communities=("西门社区",)).communities[0].officer = receiving
    old = make_case(tier="medium", assignee=make_user("officer"))
    sign_for(old, lead1)
    clock(T0 + dt.timedelta(hours=3))
    community = _pcs02().communities[0]
    new = transfer(old, _pcs02(), community, "人在城西务工", lead1)
    db.session.commit()
    assert old.status == CaseStatus.TRANSFERRED and old.due_at is None
    assert (new.status, new.precinct.code, new.assignee, new.transferred_from_id) == \
        (CaseStatus.NEW, "PCS02", receiving, old.id)
    assert new.sign_deadline == T0 + dt.timedelta(hours=3, minutes=240) and new.method == Method.PHONE
    assert [w.case_id for w in new.warnings] == [new.id] and old.warnings == []
    transferred = [e for e in old.events if e.kind == EventKind.TRANSFERRED][0]
    assert transferred.message == "人在城西务工"
    assert [c.id for c in worklist(lead1).items] == []
    assert [c.id for c in worklist(lead2).items] == [new.id]
    assert [c.id for c in worklist(receiving).items] == [new.id]
    assert _audited("case_transfer") == [str(old.id)]


def test_a_later_warning_for_a_transferred_person_joins_the_new_case(make_case, make_user, make_precinct):
    make_precinct("PCS02")
    old = make_case(tier="low", id_number="11010519491231002X")
    new = transfer(old, _pcs02(), None, "户籍在城西", make_user("center"))
    again = make_case(tier="high", id_number="11010519491231002X")
    assert again.id == new.id and again.precinct.code == "PCS02"


@pytest.mark.parametrize("reason,target,words", [("", "PCS02", "移交原因"), ("x", "PCS01", "其他派出所")])
def test_transfer_needs_a_reason_and_another_precinct(make_case, make_user, make_precinct, reason, target, words):
    make_precinct("PCS02")
    case = make_case()
    lead = make_user("lead")
    with pytest.raises(DispatchError, match=words):
        transfer(case, db.session.scalar(db.select(Precinct).filter_by(code=target)), None, reason, lead)
    assert case.status == CaseStatus.NEW


def test_officer_and_other_precinct_lead_may_not_transfer(make_case, make_user, make_precinct):
    make_precinct("PCS02")
    me = make_user("officer")
    case = make_case(assignee=me)
    for user in (me, make_user("lead", "PCS02")):
        with pytest.raises(DispatchError):
            transfer(case, _pcs02(), None, "理由", user)


def test_center_routes_an_unrouted_case_with_fresh_deadlines(make_case, make_user, make_precinct, clock):
    clock(T0)
    case = make_case(tier="extra_high", precinct=None)
    precinct = make_precinct("PCS02", communities=("西门社区",))
    officer = make_user("officer", "PCS02")
    precinct.communities[0].officer = officer
    clock(T0 + dt.timedelta(minutes=40))
    route(case, precinct, precinct.communities[0], make_user("center"))
    assert case.precinct == precinct and case.assignee == officer and case.status == CaseStatus.NEW
    assert case.sign_deadline == T0 + dt.timedelta(minutes=50) == case.due_at
    assert _kinds(case)[-1] == EventKind.ROUTED
    assert case in db.session.scalars(scope_cases(officer)).all()


def test_only_the_center_routes(make_case, make_user, make_precinct):
    case = make_case(precinct=None)
    with pytest.raises(DispatchError, match="反诈中心"):
        route(case, make_precinct("PCS01"), None, make_user("lead"))
