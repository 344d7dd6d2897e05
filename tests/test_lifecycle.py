"""Each tier's happy path and failure path with a frozen clock (issue 5 acceptance), through the operations."""
import datetime as dt
from decimal import Decimal

import pytest

from dissuasion.cases.dispatch import sign_for
from dissuasion.cases.lifecycle import LifecycleError, approve_close, close_case, reopen
from dissuasion.contacts.operations import log_contact
from dissuasion.contacts.validation import parse_contact
from dissuasion.enums import CaseStatus, FollowUpKind, FollowUpStatus, Method, Outcome
from dissuasion.extensions import db
from dissuasion.followups import tasks
from dissuasion.notifications.models import Notification
from dissuasion.timeutil import UTC

T0 = dt.datetime(2026, 11, 16, 1, 0, tzinfo=UTC)
MIN, HOUR, DAY = dt.timedelta(minutes=1), dt.timedelta(hours=1), dt.timedelta(days=1)


def log(case, by, close=False, **fields):
    """Log a contact as the form would send it, and commit."""
    data = {"method": "phone", "reached": "self", **fields}
    contact = log_contact(case, parse_contact(data, closing=close), by, close=close)
    db.session.commit()
    return contact


def failed_call(case, by):
    return log(case, by, reached="none", failure_reason="no_answer")


def pending(case):
    db.session.refresh(case)
    return [(f.kind, f.method, f.due_at) for f in case.followups if f.status == FollowUpStatus.PENDING]


@pytest.fixture
def officer(make_user):
    return make_user("officer")


@pytest.mark.parametrize("tier,method,revisit_days,watch_days", [
    ("extra_high", "visit", [1, 3, 7], 30), ("high", "visit", [3, 7], 30),
    ("medium", "phone", [7], 14), ("low", "phone", [], 7)])
def test_happy_path_dissuaded_revisits_then_watch_closes(make_case, officer, clock, tier, method, revisit_days,
                                                         watch_days):
    clock(T0)
    case = make_case(tier=tier, assignee=officer)
    clock(T0 + 5 * MIN)
    sign_for(case, officer)
    db.session.commit()
    assert case.status == CaseStatus.SIGNED and case.due_at == case.contact_deadline
    clock(T0 + 20 * MIN)
    log(case, officer, method=method, outcome="dissuaded", amount_dissuaded="5000", app="registered_now")
    assert case.status == CaseStatus.IN_PROGRESS and case.first_contact_at == T0 + 20 * MIN
    assert case.outcome == Outcome.DISSUADED and case.amount_dissuaded == Decimal("5000.00")
    assert case.watch_until == T0 + 20 * MIN + watch_days * DAY
    due = [T0 + 20 * MIN + d * DAY for d in revisit_days]
    assert pending(case) == [(FollowUpKind.REVISIT, Method.PHONE, at) for at in due]
    assert case.due_at == (due[0] if due else None)
    for at in due:  # each 回访 done on its day
        clock(at + HOUR)
        log(case, officer, note="回访正常")
    assert pending(case) == [] and case.due_at is None
    clock(case.watch_until - MIN)
    assert tasks.close_ended_watches() == 0 or case.status == CaseStatus.IN_PROGRESS
    clock(case.watch_until + MIN)
    tasks.close_ended_watches()
    db.session.refresh(case)
    assert case.status == CaseStatus.CLOSED and case.outcome == Outcome.DISSUADED and case.closed_by_id is None


FAILURES = {  # tier -> (follow-up after each of three failed calls, status after the third)
    "extra_high": [(FollowUpKind.ESCALATION, Method.RELATIVES, 0), (FollowUpKind.ESCALATION, Method.VISIT, 0), None],
    "high": [(FollowUpKind.RETRY, Method.VISIT, 30), (FollowUpKind.ESCALATION, Method.RELATIVES, 30),
             (FollowUpKind.ESCALATION, Method.VISIT, 30)],
    "medium": [(FollowUpKind.RETRY, Method.PHONE, 120), (FollowUpKind.RETRY, Method.PHONE, 120),
               (FollowUpKind.ESCALATION, Method.VISIT, 120)],
    "low": [(FollowUpKind.RETRY, Method.PHONE, 1440), (FollowUpKind.RETRY, Method.PHONE, 1440), "unreachable"],
}


@pytest.mark.parametrize("tier", FAILURES)
def test_failure_path_three_failed_calls_escalate(make_case, make_user, officer, clock, tier):
    lead = make_user("lead")
    clock(T0)
    case = make_case(tier=tier, assignee=officer)
    at = T0
    for step, expected in enumerate(FAILURES[tier], start=1):
        at += 10 * MIN
        clock(at)
        failed_call(case, officer)
        assert case.failed_attempts == step
        if expected == "unreachable":
            assert case.status == CaseStatus.UNREACHABLE and case.outcome == Outcome.UNREACHABLE
            assert pending(case) == [] and case.due_at is None
        elif expected is None:  # the steps are used up: the leads decide
            assert pending(case) == [] and case.status == CaseStatus.IN_PROGRESS
            assert db.session.scalar(db.select(Notification).filter_by(user_id=lead.id, kind="escalation")
                                     .order_by(Notification.id.desc())).message.endswith("请所领导决定下一步。")
        else:
            kind, method, minutes = expected
            assert pending(case) == [(kind, method, at + dt.timedelta(minutes=minutes))]
            assert case.due_at == at + dt.timedelta(minutes=minutes)
    if tier in ("extra_high", "high", "medium"):
        assert case.method == Method.VISIT
    # the same failure applied twice makes no second follow-up (rule_key)
    assert len(case.followups) == len({f.rule_key for f in case.followups})


def test_success_resets_the_tries_and_done_followups(make_case, officer, clock):
    clock(T0)
    case = make_case(tier="medium", assignee=officer)
    failed_call(case, officer)
    clock(T0 + 2 * HOUR)
    log(case, officer)
    assert case.failed_attempts == 0 and pending(case) == []
    assert [f.status for f in case.followups] == [FollowUpStatus.DONE]


def test_high_case_needs_a_visit_or_a_leads_approval_to_close(make_case, make_user, officer, clock):
    clock(T0)
    lead = make_user("lead")
    case = make_case(tier="high", assignee=officer)
    with pytest.raises(LifecycleError, match="面见"):
        log(case, officer, close=True, outcome="self_protected")
    db.session.rollback()
    assert case.contacts == [] and case.status == CaseStatus.NEW  # nothing saved
    with pytest.raises(LifecycleError):
        approve_close(case, "", lead)
    approve_close(case, "本人在外地，已视频核实", lead)
    log(case, officer, close=True, outcome="self_protected", method="video")
    assert case.status == CaseStatus.CLOSED and case.closed_by_id == officer.id


def test_a_visit_that_reached_the_person_allows_closing(make_case, officer, clock):
    clock(T0)
    case = make_case(tier="extra_high", assignee=officer)
    log(case, officer, close=True, method="visit", outcome="false_alarm")
    assert case.status == CaseStatus.CLOSED and case.outcome == Outcome.FALSE_ALARM


def test_lead_reopens_an_unreachable_case(make_case, make_user, officer, clock):
    clock(T0)
    lead = make_user("lead")
    case = make_case(tier="low", assignee=officer)
    close_case(case, Outcome.UNREACHABLE, officer)
    with pytest.raises(LifecycleError):
        reopen(case, "", officer)
    reopen(case, "找到新号码", lead)
    assert case.status == CaseStatus.IN_PROGRESS and case.outcome is None and case.failed_attempts == 0


def test_first_contact_on_a_pool_case_signs_and_takes_it(make_case, officer, clock):
    clock(T0)
    case = make_case(tier="medium", community="无民警社区")
    log(case, officer)
    assert case.assignee_id == officer.id and case.signed_by_id == officer.id
    assert case.status == CaseStatus.IN_PROGRESS
