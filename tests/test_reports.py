"""The weekly report's metrics: a known week with events on both sides of its edges (Asia/Shanghai), every metric
asserted, for the county, a precinct and the week before."""
import datetime as dt
from decimal import Decimal

import pytest

from dissuasion.cases.models import CaseEvent
from dissuasion.contacts.models import Contact
from dissuasion.core.enums import (
    AppStatus,
    CaseStatus,
    EventKind,
    FollowUpKind,
    FollowUpStatus,
    FraudType,
    Method,
    Outcome,
    Reached,
)
from dissuasion.core.timeutil import from_local
from dissuasion.extensions import db
from dissuasion.followups.models import FollowUp
from dissuasion.reports.queries import compute_report
from dissuasion.reports.weeks import last_complete_week, previous_week, week_period

WEEK = "2026-W47"  # Monday 2026-11-16 to Sunday 2026-11-22, Asia/Shanghai
REPORT_TIME = "2026-11-23 08:00"


def at(local: str) -> dt.datetime:
    """A wall-clock time in Asia/Shanghai as aware UTC."""
    return from_local(dt.datetime.fromisoformat(local))


@pytest.fixture
def new_case(make_case, clock):
    """new_case("2026-11-16 09:00", tier="high", precinct="PCS01", signed="…", closed="…", outcome=…) -> Case
    created (and its warning pushed) at that local time, with the fields issue 5's operations would set."""
    def make(created: str, tier="high", precinct="PCS01", fraud_type=FraudType.OTHER, **fields):
        clock(at(created))
        case = make_case(tier=tier, precinct=precinct, fraud_type=fraud_type)
        if "first_contact" in fields:  # a first contact that reached the person: the attempt and the reach
            fields["first_attempt"] = fields["first_reached"] = fields.pop("first_contact")
        for name in ("signed", "first_attempt", "first_reached", "closed"):
            if name in fields:
                setattr(case, f"{name}_at", at(fields.pop(name)))
        if case.closed_at is not None:
            case.status = fields.pop("status", CaseStatus.CLOSED)
            case.due_at = None
        for name, value in fields.items():
            setattr(case, name, value)
        db.session.commit()
        return case
    return make


def make_contact(case, method, reached, contacted: str, app_status=None) -> Contact:
    contact = Contact(case_id=case.id, method=method, reached=reached, contacted_at=at(contacted),
                      app_status=app_status)
    db.session.add(contact)
    db.session.commit()
    return contact


def make_followup(case, status, due: str, done: str | None = None) -> FollowUp:
    followup = FollowUp(case_id=case.id, kind=FollowUpKind.REVISIT, method=Method.PHONE, due_at=at(due),
                        status=status, done_at=at(done) if done else None)
    db.session.add(followup)
    db.session.commit()
    return followup


@pytest.fixture
def known_week(new_case, clock, make_precinct):
    """Week 2026-W47 in two precincts, with cases, contacts, closings and follow-ups just inside and just
    outside its edges (Sunday 23:30 local is Sunday 15:30 UTC: inside; Monday 00:10 local: outside)."""
    make_precinct("PCS02")
    # Three weeks back: cases that close or reopen later.
    c7 = new_case("2026-11-04 10:00", tier="medium", closed="2026-11-05 10:00", outcome=Outcome.SELF_PROTECTED)
    c9 = new_case("2026-11-04 11:00", tier="low")
    c10 = new_case("2026-11-04 12:00", tier="low")
    # The week before (W46).
    c8 = new_case("2026-11-10 09:00", tier="medium", signed="2026-11-10 09:30", first_contact="2026-11-10 10:30",
                  closed="2026-11-12 09:00", outcome=Outcome.DISSUADED, amount_dissuaded=Decimal("100.00"))
    make_contact(c8, Method.PHONE, Reached.SELF, "2026-11-10 10:30")
    c4 = new_case("2026-11-15 23:50", tier="low", closed="2026-11-18 10:00", outcome=Outcome.DEFRAUDED,
                  amount_defrauded=Decimal("1200.50"), confirmed_fraud_type=FraudType.ROMANCE)
    make_contact(c4, Method.SMS, Reached.NONE, "2026-11-16 00:05")  # Sunday 16:05 UTC: inside W47
    # W47.
    c1 = new_case("2026-11-16 09:00", tier="high", fraud_type=FraudType.INVESTMENT, signed="2026-11-16 09:10",
                  first_contact="2026-11-16 09:30", closed="2026-11-17 10:00", outcome=Outcome.DISSUADED,
                  amount_dissuaded=Decimal("5000.00"))
    make_contact(c1, Method.VISIT, Reached.SELF, "2026-11-16 09:30", app_status=AppStatus.REGISTERED_NOW)
    c5 = new_case("2026-11-18 12:00", tier="medium", fraud_type=FraudType.REBATE, signed="2026-11-18 17:00",
                  first_contact="2026-11-18 12:30", closed="2026-11-19 10:00", outcome=Outcome.SELF_PROTECTED)
    make_contact(c5, Method.PHONE, Reached.NONE, "2026-11-18 12:10")
    make_contact(c5, Method.PHONE, Reached.SELF, "2026-11-18 12:30", app_status=AppStatus.REGISTERED_NOW)
    c6 = new_case("2026-11-19 10:00", tier="high", precinct="PCS02", fraud_type=FraudType.INVESTMENT,
                  signed="2026-11-19 10:20", first_contact="2026-11-19 11:00", closed="2026-11-20 10:00",
                  outcome=Outcome.DISSUADED, amount_dissuaded=Decimal("300.25"))
    make_contact(c6, Method.VISIT, Reached.RELATIVE, "2026-11-19 11:00")
    new_case("2026-11-22 23:30", tier="extra_high", fraud_type=FraudType.REBATE)  # c2: never signed, overdue
    new_case("2026-11-20 10:00", tier="low", precinct=None)  # unrouted: the county counts it, no precinct does
    db.session.add(CaseEvent(case_id=c7.id, at=at("2026-11-17 08:00"), kind=EventKind.REOPENED))
    c9.status, c9.closed_at, c9.due_at = CaseStatus.UNREACHABLE, at("2026-11-22 23:30"), None
    c10.status, c10.closed_at, c10.outcome, c10.due_at = (CaseStatus.CLOSED, at("2026-11-23 00:30"),
                                                          Outcome.FALSE_ALARM, None)
    make_followup(c1, FollowUpStatus.DONE, "2026-11-19 09:00", done="2026-11-19 09:30")
    make_followup(c1, FollowUpStatus.DONE, "2026-11-23 09:00", done="2026-11-23 00:01")  # next week
    make_followup(c5, FollowUpStatus.MISSED, "2026-11-22 23:59")
    make_followup(c5, FollowUpStatus.MISSED, "2026-11-15 23:59")  # week before
    # Next week (W48): outside.
    c3 = new_case("2026-11-23 00:10", tier="medium")
    make_contact(c3, Method.PHONE, Reached.SELF, "2026-11-23 00:20", app_status=AppStatus.REGISTERED_NOW)
    clock(at(REPORT_TIME))
    return {"c1": c1, "c4": c4, "c6": c6}


def test_week_edges_are_monday_midnight_in_shanghai():
    period = week_period(WEEK)
    assert period.start == dt.datetime(2026, 11, 15, 16, 0, tzinfo=dt.UTC)
    assert period.end == dt.datetime(2026, 11, 22, 16, 0, tzinfo=dt.UTC)
    assert previous_week("2026-W01") == "2025-W52"
    assert last_complete_week(at("2026-11-23 00:00")) == WEEK
    assert last_complete_week(at("2026-11-22 23:59")) == "2026-W46"


def test_every_metric_of_the_county_for_a_known_week(known_week):
    report = compute_report(WEEK)
    assert report["week"] == WEEK and report["precinct"] is None
    m = report["metrics"]
    assert m["warnings_received"] == 5 and m["persons"] == 5  # c1, c5, c6, c2 (Sunday 23:30), unrouted
    assert m["cases_new"] == 5
    assert m["repeat_warnings"] == 1
    assert m["signed_within_limit_pct"] == {"extra_high": 0.0, "high": 100.0, "medium": 0.0, "low": 0.0}
    # the unrouted 低 case's 72 h for a first contact run until Monday 10:00, after the report: it counts neither way
    assert m["first_reach_within_limit_pct"] == {"extra_high": 0.0, "high": 100.0, "medium": 100.0, "low": None}
    assert m["median_minutes_to_first_reach"] == {"extra_high": None, "high": 45.0, "medium": 30.0, "low": None}
    assert m["contacts_by_method"] == {"visit": 2, "phone": 2, "sms": 1, "video": 0, "relatives": 0, "other": 0}
    assert m["visited_high_pct"] == 33.3  # c1 seen in person; c6 only through a relative; c2 not at all
    assert m["outcomes"] == {"dissuaded": 2, "self_protected": 1, "defrauded": 1, "false_alarm": 0,
                             "unreachable": 1}
    assert m["amount_dissuaded"] == "5300.25" and m["amount_defrauded"] == "1200.50"
    assert m["defrauded_after_warning_pct"] == 20.0
    assert m["app_registrations"] == 2
    assert m["overdue_now"] == 3  # c2 (due Sunday 23:40), c3 (due Monday 04:10), the unrouted case (Saturday)
    assert m["followups_done"] == 1 and m["followups_missed"] == 1
    by_type = {r["fraud_type"]: r for r in m["by_fraud_type"]}
    assert by_type["investment"] == {"fraud_type": "investment", "warnings": 2, "dissuaded": 2, "defrauded": 0,
                                     "amount_dissuaded": "5300.25"}
    assert by_type["rebate"]["warnings"] == 2 and by_type["rebate"]["dissuaded"] == 0
    assert by_type["romance"]["defrauded"] == 1
    assert [r["fraud_type"] for r in m["by_fraud_type"]] == [t.value for t in FraudType]


def test_the_week_before_and_one_precinct(known_week, make_precinct):
    report = compute_report(WEEK)
    p = report["previous"]
    assert p["warnings_received"] == 2 and p["cases_new"] == 2  # c8 and c4 (Sunday 23:50)
    assert p["median_minutes_to_first_reach"]["medium"] == 90.0
    assert p["outcomes"]["dissuaded"] == 1 and p["amount_dissuaded"] == "100.00"
    assert p["overdue_now"] is None
    pcs02 = compute_report(WEEK, make_precinct("PCS02"))
    m = pcs02["metrics"]
    assert pcs02["precinct"] == "PCS02"
    assert m["warnings_received"] == 1 and m["outcomes"]["dissuaded"] == 1 and m["amount_dissuaded"] == "300.25"
    assert m["median_minutes_to_first_reach"]["high"] == 60.0 and m["visited_high_pct"] == 0.0
    assert m["overdue_now"] == 0 and pcs02["previous"]["warnings_received"] == 0


def test_a_case_still_inside_its_limits_counts_neither_way_until_they_pass(new_case, clock):
    new_case("2026-11-20 09:00", tier="medium", signed="2026-11-20 09:30", first_contact="2026-11-20 10:00")
    new_case("2026-11-22 22:00", tier="medium")  # Sunday night: 4 h to sign, 24 h for a first contact
    clock(at("2026-11-22 23:00"))
    m = compute_report(WEEK)["metrics"]
    assert m["signed_within_limit_pct"]["medium"] == 100.0  # not 50 %: the second case may still be signed in time
    assert m["first_reach_within_limit_pct"]["medium"] == 100.0
    clock(at("2026-11-23 08:00"))
    m = compute_report(WEEK)["metrics"]
    assert m["signed_within_limit_pct"]["medium"] == 50.0  # its 4 h have passed: late
    assert m["first_reach_within_limit_pct"]["medium"] == 100.0  # its 24 h run until Monday 22:00
    clock(at("2026-11-24 08:00"))
    assert compute_report(WEEK)["metrics"]["first_reach_within_limit_pct"]["medium"] == 50.0


def test_a_case_transferred_or_closed_before_it_was_signed_is_not_late(new_case, clock):
    new_case("2026-11-20 09:00", tier="high", signed="2026-11-20 09:10", first_contact="2026-11-20 09:30")
    new_case("2026-11-20 10:00", tier="high", status=CaseStatus.TRANSFERRED)  # sent on before its 30 minutes
    new_case("2026-11-20 11:00", tier="high", closed="2026-11-20 11:05", outcome=Outcome.FALSE_ALARM)
    clock(at(REPORT_TIME))
    m = compute_report(WEEK)["metrics"]
    assert m["signed_within_limit_pct"]["high"] == 100.0  # was 33.3: two cases never this precinct's to sign
    assert m["first_reach_within_limit_pct"]["high"] == 100.0


def test_money_kept_counts_only_the_cases_closed_dissuaded(new_case, clock):
    new_case("2026-11-17 09:00", closed="2026-11-17 12:00", outcome=Outcome.DISSUADED,
             amount_dissuaded=Decimal("4000.50"), confirmed_fraud_type=FraudType.OTHER)
    new_case("2026-11-17 10:00", closed="2026-11-17 12:00", outcome=Outcome.DISSUADED,
             amount_dissuaded=Decimal("199.50"), fraud_type=FraudType.OTHER)
    # amounts left from an earlier outcome (stored before outcomes cleared them): not money kept, not money lost
    new_case("2026-11-18 09:00", closed="2026-11-18 12:00", outcome=Outcome.SELF_PROTECTED,
             amount_dissuaded=Decimal("5000"))
    new_case("2026-11-18 10:00", closed="2026-11-18 12:00", outcome=Outcome.DEFRAUDED,
             amount_dissuaded=Decimal("1000.50"), amount_defrauded=Decimal("8000"))
    clock(at(REPORT_TIME))
    m = compute_report(WEEK)["metrics"]
    assert m["amount_dissuaded"] == "4200.00" and m["amount_defrauded"] == "8000.00"
    other = next(r for r in m["by_fraud_type"] if r["fraud_type"] == "other")
    assert other["dissuaded"] == 2 and other["amount_dissuaded"] == "4200.00"
    from dissuasion.reports.queries import feedback_rows
    from dissuasion.reports.weeks import week_period

    sent = {(r["outcome"], r["amount_dissuaded"], r["amount_defrauded"]) for r in feedback_rows(week_period(WEEK))}
    assert (Outcome.SELF_PROTECTED, None, None) in sent and (Outcome.DEFRAUDED, None, Decimal("8000.00")) in sent


def test_a_first_contact_made_before_the_case_was_made_counts_as_at_once(new_case, clock):
    new_case("2026-11-20 12:30", tier="low", signed="2026-11-20 12:40", first_contact="2026-11-20 10:00")
    clock(at(REPORT_TIME))
    assert compute_report(WEEK)["metrics"]["median_minutes_to_first_reach"]["low"] == 0.0
