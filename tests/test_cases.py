"""Warnings become cases as SPEC "Words" says: attach, raise, reopen as repeat, or open anew."""
import datetime as dt

import pytest

from dissuasion.cases.models import Case, EarlyWarning, Person
from dissuasion.core.enums import CaseStatus, Method, Outcome, Tier
from dissuasion.core.timeutil import UTC
from dissuasion.extensions import db

T0 = dt.datetime(2026, 11, 16, 1, 0, tzinfo=UTC)
ID = "11010519491231002X"


def _count(model) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


@pytest.mark.parametrize("tier,away,method,sign_min,contact_min", [
    ("extra_high", False, Method.VISIT, 10, 30),
    ("high", False, Method.VISIT, 30, 120),
    ("medium", False, Method.PHONE, 240, 1440),
    ("low", False, Method.PHONE, 1440, 4320),
    ("extra_high", True, Method.PHONE, 10, 30),
    ("high", True, Method.PHONE, 30, 120),
    ("medium", True, Method.PHONE, 240, 1440),
    ("low", True, Method.PHONE, 1440, 4320),
])
def test_new_case_gets_the_tiers_method_and_deadlines(make_case, clock, tier, away, method, sign_min, contact_min):
    clock(T0)
    case = make_case(tier=tier, away_from_home=away)
    assert (case.method, case.status) == (method, CaseStatus.NEW)
    assert case.sign_deadline == T0 + dt.timedelta(minutes=sign_min)
    assert case.contact_deadline == T0 + dt.timedelta(minutes=contact_min)
    assert case.due_at == case.sign_deadline


def test_second_warning_attaches_and_raises_tier_and_deadlines(make_case, clock):
    clock(T0)
    first = make_case(tier="low", id_number=ID)
    clock(T0 + dt.timedelta(minutes=5))
    second = make_case(tier="high", id_number=ID)
    assert second.id == first.id
    assert second.tier == Tier.HIGH and second.method == Method.VISIT
    assert second.sign_deadline == T0 + dt.timedelta(minutes=35)
    assert len(second.warnings) == 2
    assert _count(Person) == 1 and _count(Case) == 1


def test_lower_tier_warning_attaches_without_lowering(make_case, clock):
    clock(T0)
    case = make_case(tier="high", id_number=ID)
    deadline = case.sign_deadline
    clock(T0 + dt.timedelta(hours=1))
    again = make_case(tier="low", id_number=ID)
    assert again.id == case.id and again.tier == Tier.HIGH and again.sign_deadline == deadline


def _close(case: Case, at: dt.datetime) -> None:
    case.status, case.closed_at, case.outcome = CaseStatus.CLOSED, at, Outcome.DISSUADED
    db.session.commit()


def test_warning_within_30_days_of_closing_reopens_as_repeat(make_case, clock):
    clock(T0)
    case = make_case(tier="medium", id_number=ID)
    _close(case, T0 + dt.timedelta(days=1))
    clock(T0 + dt.timedelta(days=20))
    again = make_case(tier="low", id_number=ID)
    assert again.id == case.id
    assert again.status == CaseStatus.NEW and again.is_repeat and again.outcome is None
    assert again.tier == Tier.LOW


def test_warning_after_30_days_opens_a_new_case(make_case, clock):
    clock(T0)
    case = make_case(tier="medium", id_number=ID)
    _close(case, T0 + dt.timedelta(days=1))
    clock(T0 + dt.timedelta(days=32))
    again = make_case(tier="medium", id_number=ID)
    assert again.id != case.id and not again.is_repeat
    assert _count(Person) == 1


def test_same_warning_number_is_a_duplicate(make_case):
    from dissuasion.cases.operations import WarningInput, register_warning
    from dissuasion.core.timeutil import now

    make_case(warning_no="YJ1")
    result = register_warning(WarningInput(warning_no="YJ1", tier=Tier.HIGH, pushed_at=now(), name="李四",
                                           phone="13900000000", phone_valid=True))
    assert result.duplicate and _count(EarlyWarning) == 1


def test_without_valid_id_person_is_matched_by_name_and_phone(make_case):
    a = make_case(name="王五", phone="13700000001")
    b = make_case(name="王五", phone="13700000001")
    c = make_case(name="王六", phone="13700000001")
    assert a.id == b.id != c.id
    assert _count(Person) == 2


def test_case_goes_to_the_active_community_officer_else_the_pool(make_case, make_user, make_precinct):
    precinct = make_precinct("PCS01", communities=("东门社区", "西门社区"))
    officer = make_user("officer", precinct="PCS01")
    inactive = make_user("officer", precinct="PCS01", active=False)
    east, west = precinct.communities
    east.officer, west.officer = officer, inactive
    db.session.commit()
    assert make_case(community=east.name).assignee == officer
    assert make_case(community=west.name).assignee is None


def test_unknown_precinct_goes_to_the_center_queue(make_case):
    case = make_case(precinct=None)
    assert case.precinct_id is None and case.assignee_id is None


def test_new_case_notifies_assignee_and_leads(make_case, make_user, make_precinct):
    from dissuasion.notifications.models import Notification

    precinct = make_precinct("PCS01", communities=("东门社区",))
    officer, lead = make_user("officer", precinct="PCS01"), make_user("lead", precinct="PCS01")
    precinct.communities[0].officer = officer
    db.session.commit()
    make_case(tier="extra_high", community="东门社区")
    told = {n.user_id for n in db.session.scalars(db.select(Notification))}
    assert told == {officer.id, lead.id}
