"""Each tier's happy path and failure path with a frozen clock (issue 5 acceptance), through the operations."""
import datetime as dt
from decimal import Decimal

import pytest

from dissuasion.cases.dispatch import sign_for
from dissuasion.cases.lifecycle import LifecycleError, approve_close
from dissuasion.contacts.operations import log_contact, reopen
from dissuasion.contacts.validation import parse_contact
from dissuasion.core.enums import CaseStatus, EventKind, FollowUpKind, FollowUpStatus, Method, Outcome
from dissuasion.core.timeutil import UTC
from dissuasion.extensions import db
from dissuasion.followups import tasks
from dissuasion.notifications.models import Notification

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
    assert case.status == CaseStatus.IN_PROGRESS and case.first_attempt_at == T0 + 20 * MIN
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
    # 特高危's steps are "at once": due within its first-contact time (30 min), not the minute the call failed
    "extra_high": [(FollowUpKind.ESCALATION, Method.RELATIVES, 30), (FollowUpKind.ESCALATION, Method.VISIT, 30), None],
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
        elif expected is None:  # the steps are used up: the leads decide; a failed call did not make the visit
            assert [(k, m) for k, m, _at in pending(case)] == [(FollowUpKind.ESCALATION, Method.VISIT)]
            assert case.status == CaseStatus.IN_PROGRESS
            assert db.session.scalar(db.select(Notification).filter_by(user_id=lead.id, kind="escalation")
                                     .order_by(Notification.id.desc())).message.endswith("请所领导决定下一步。")
        else:
            kind, method, minutes = expected
            assert pending(case) == [(kind, method, at + dt.timedelta(minutes=minutes))]
            # nobody reached yet: the contact deadline still binds when it comes before the next step
            assert case.due_at == min(case.contact_deadline, at + dt.timedelta(minutes=minutes))
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
    assert case.failed_attempts == 0
    assert [f.status for f in case.followups][0] == FollowUpStatus.DONE
    # reached, but no result yet: the next contact is due within the tier's first-contact time (24 h for 中)
    assert pending(case) == [(FollowUpKind.RETRY, Method.PHONE, T0 + 26 * HOUR)] and case.due_at == T0 + 26 * HOUR


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
    for _try in range(3):  # 低: three failed calls, then 无法联系
        failed_call(case, officer)
    assert case.status == CaseStatus.UNREACHABLE
    with pytest.raises(LifecycleError):
        reopen(case, "", officer)
    clock(T0 + DAY)
    reopen(case, "找到新号码", lead)
    assert case.status == CaseStatus.IN_PROGRESS and case.outcome is None and case.failed_attempts == 0
    # a deadline again (低: 72 h to the next contact), and the officer is told: before, it could never go overdue
    assert pending(case) == [(FollowUpKind.RETRY, Method.PHONE, T0 + DAY + 72 * HOUR)]
    # nobody was ever reached: the first-contact deadline (72 h from T0) still binds before the new try's
    assert case.due_at == case.contact_deadline == T0 + 72 * HOUR
    told = db.session.scalar(db.select(Notification).filter_by(user_id=officer.id).order_by(Notification.id.desc()))
    assert "重新启用" in told.message


def test_first_contact_on_a_pool_case_signs_and_takes_it(make_case, officer, clock):
    clock(T0)
    case = make_case(tier="medium", community="无民警社区")
    log(case, officer)
    assert case.assignee_id == officer.id and case.signed_by_id == officer.id
    assert case.status == CaseStatus.IN_PROGRESS
    signed = [e for e in case.events if e.kind == EventKind.SIGNED]  # the timeline says it was signed, and by whom
    assert len(signed) == 1 and signed[0].actor_id == officer.id and "领取" in signed[0].text


def test_a_failed_call_on_time_does_not_make_an_extra_high_case_overdue(make_case, officer, clock):
    clock(T0)
    case = make_case(tier="extra_high", assignee=officer)
    clock(T0 + 10 * MIN)
    failed_call(case, officer)
    assert case.due_at > T0 + 10 * MIN  # it was due the minute the call failed: 已超时 at once


def test_a_planned_follow_up_is_not_done_by_an_earlier_unrelated_contact(make_case, officer, clock):
    from dissuasion.followups.operations import add_followup

    clock(T0)
    case = make_case(tier="medium", assignee=officer)
    log(case, officer, outcome="dissuaded", amount_dissuaded="100")  # 回访 on day 7
    add_followup(case, T0 + DAY, Method.VISIT, "明早再去", officer)
    db.session.commit()
    clock(T0 + 3 * HOUR)
    log(case, officer, note="又打了个电话")  # today, by phone: neither tomorrow's visit nor the day-7 回访
    assert {(kind, method) for kind, method, _at in pending(case)} == {(FollowUpKind.MANUAL, Method.VISIT),
                                                                     (FollowUpKind.REVISIT, Method.PHONE)}
    clock(T0 + DAY)
    log(case, officer, method="visit")
    assert [(kind, method) for kind, method, _at in pending(case)] == [(FollowUpKind.REVISIT, Method.PHONE)]


def test_a_case_away_from_home_is_never_escalated_to_a_visit(make_case, officer, clock):
    clock(T0)
    case = make_case(tier="medium", assignee=officer, away_from_home=True)
    for step in range(3):
        clock(T0 + step * 3 * HOUR)
        failed_call(case, officer)
    assert pending(case)[-1][:2] == (FollowUpKind.ESCALATION, Method.RELATIVES) and case.method == Method.PHONE


def test_an_amount_belongs_to_its_outcome(make_case, officer, clock):
    clock(T0)
    case = make_case(tier="medium", assignee=officer)
    # 劝阻金额 typed for 及时劝阻, then the outcome changed to 自主防范 (the field hidden, its value still sent)
    log(case, officer, outcome="self_protected", amount_dissuaded="5000")
    assert case.amount_dissuaded is None and case.contacts[-1].amount_dissuaded is None
    other = make_case(tier="medium", assignee=officer, name="李四")
    log(other, officer, outcome="dissuaded", amount_dissuaded="1000.50")
    clock(T0 + 2 * DAY)  # defrauded after all, during the watch: no money was kept
    log(other, officer, outcome="defrauded", amount_defrauded="8000", defrauded_at="2026-11-17T10:00")
    assert (other.outcome, other.amount_dissuaded, other.amount_defrauded) == (Outcome.DEFRAUDED, None,
                                                                               Decimal("8000.00"))


def test_a_contact_before_the_warning_was_pushed_is_refused(make_case, officer, clock):
    from dissuasion.contacts.validation import InputError

    clock(T0)
    case = make_case(tier="low", assignee=officer)
    clock(T0 + HOUR)
    with pytest.raises(InputError) as refused:
        log(case, officer, contacted_at="2026-11-15T09:00")
    assert "不能早于预警推送时间" in refused.value.fields["contacted_at"]
    db.session.rollback()
    assert case.contacts == [] and case.first_attempt_at is None


def test_cases_whose_watch_ended_but_cannot_close_do_not_hold_the_batch(make_case, officer, clock, monkeypatch):
    """A case whose watch ended with a 回访 still to do, or one the rules will not let close by itself, used to be
    taken again every minute; more of them than a batch kept the others from ever closing."""
    monkeypatch.setattr(tasks, "BATCH", 2)
    clock(T0)
    cases = [make_case(tier="low", assignee=officer) for _ in range(4)]
    clock(T0 + 20 * MIN)
    for case in cases:
        log(case, officer, method="phone", outcome="self_protected")
    for case in cases[:3]:  # watch over, but a 回访 still owed
        case.watch_until = T0 + DAY
        tasks.schedule(case, FollowUpKind.MANUAL, Method.PHONE, T0 + 30 * DAY, f"owed:{case.id}")
    cases[3].watch_until = T0 + 2 * DAY  # the one that can close, its watch ended last
    db.session.commit()
    clock(T0 + 3 * DAY)
    tasks.close_ended_watches()
    db.session.refresh(cases[3])
    assert cases[3].status == CaseStatus.CLOSED
