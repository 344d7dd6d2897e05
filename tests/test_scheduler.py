"""The scheduler's jobs: what each announces or closes, run once and run twice at the same time."""
import datetime as dt
import threading

from dissuasion import scheduler
from dissuasion.cases.dispatch import sign_for
from dissuasion.contacts.operations import log_contact
from dissuasion.contacts.validation import parse_contact
from dissuasion.core.enums import CaseStatus, FollowUpStatus
from dissuasion.core.timeutil import UTC
from dissuasion.extensions import db
from dissuasion.followups.models import FollowUp
from dissuasion.notifications.models import Notification

T0 = dt.datetime(2026, 11, 16, 1, 0, tzinfo=UTC)


def _notes(kind=None):
    stmt = db.select(Notification.user_id, Notification.kind, Notification.case_id).order_by(Notification.id)
    return list(db.session.execute(stmt.filter_by(kind=kind) if kind else stmt))


def _busy_precinct(make_case, make_user, clock):
    """Cases overdue for signing, for first contact, with a due retry, and one whose watch has ended."""
    clock(T0)
    officer, lead = make_user("officer"), make_user("lead")
    unsigned = make_case(tier="high", assignee=officer)
    signed = make_case(tier="high", assignee=officer)
    sign_for(signed, officer)
    retry = make_case(tier="medium", assignee=officer)
    log_contact(retry, parse_contact({"method": "phone", "reached": "none", "failure_reason": "powered_off"}, False),
                officer)
    watched = make_case(tier="low", assignee=officer)
    log_contact(watched, parse_contact({"method": "phone", "reached": "self", "outcome": "self_protected"}, False),
                officer)
    db.session.commit()
    clock(T0 + dt.timedelta(days=8))
    return officer, lead, unsigned, signed, retry, watched


def test_run_once_announces_each_thing_once(app, make_case, make_user, clock):
    officer, lead, unsigned, signed, retry, watched = _busy_precinct(make_case, make_user, clock)
    first = scheduler.run_once(app)
    assert all(result is not None for result in first.values()), first
    assert set(_notes("overdue_sign")) == {(u, "overdue_sign", unsigned.id) for u in (officer.id, lead.id)}
    # the failed call did not meet the retry case's contact deadline: only reaching someone does
    assert set(_notes("overdue_contact")) == {(u, "overdue_contact", c.id) for u in (officer.id, lead.id)
                                              for c in (signed, retry)}
    assert set(_notes("followup_due")) == {(u, "followup_due", retry.id) for u in (officer.id, lead.id)}
    assert db.session.get(type(watched), watched.id).status == CaseStatus.CLOSED
    before = _notes()
    db.session.commit()  # the test's own read transaction would hold SQLite's write lock (BEGIN IMMEDIATE)
    assert all(result is not None for result in scheduler.run_once(app).values())
    assert _notes() == before  # a second run sends nothing new


def test_two_runs_at_the_same_time_create_each_notification_and_followup_once(app, make_case, make_user, clock):
    _busy_precinct(make_case, make_user, clock)
    clock(T0)
    watched_new = make_case(tier="low", name="李四", warning_no="W-A")
    # a watch that ends with a new warning: the scheduler schedules one follow-up for it
    officer = db.session.get(type(watched_new.assignee), watched_new.assignee_id) if watched_new.assignee_id else None
    by = officer or make_user("officer", username="taker")
    log_contact(watched_new, parse_contact({"method": "phone", "reached": "self", "outcome": "self_protected"},
                                           False), by)
    db.session.commit()
    clock(T0 + dt.timedelta(days=1))
    make_case(tier="low", name="李四", warning_no="W-B", phone=watched_new.person.phone)
    clock(T0 + dt.timedelta(days=8))
    db.session.commit()
    barrier = threading.Barrier(2)
    errors = []

    def run():
        try:
            barrier.wait(timeout=10)
            scheduler.run_once(app)  # each thread: its own app context, session and connection
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    keys = list(db.session.scalars(db.select(Notification.dedupe_key).where(Notification.dedupe_key.is_not(None))))
    assert len(keys) == len(set(keys))
    per_case = _notes()
    assert len(per_case) == len(set(per_case)), per_case
    watch_followups = list(db.session.scalars(db.select(FollowUp).where(FollowUp.rule_key.like("watch:%"))))
    assert len(watch_followups) == 1 and watch_followups[0].status == FollowUpStatus.PENDING
    assert db.session.get(type(watched_new), watched_new.id).status == CaseStatus.IN_PROGRESS


def test_a_revisit_left_undone_is_missed_and_a_retry_stays_overdue(app, make_case, make_user, clock):
    clock(T0)
    officer = make_user("officer")
    case = make_case(tier="medium", assignee=officer)
    log_contact(case, parse_contact({"method": "phone", "reached": "self", "outcome": "dissuaded",
                                     "amount_dissuaded": "100"}, False), officer)
    other = make_case(tier="medium", assignee=officer)
    log_contact(other, parse_contact({"method": "phone", "reached": "none", "failure_reason": "rejected"}, False),
                officer)
    db.session.commit()
    clock(T0 + dt.timedelta(days=9))
    assert all(result is not None for result in scheduler.run_once(app).values())
    statuses = {f.case_id: f.status for f in db.session.scalars(db.select(FollowUp))}
    assert statuses == {case.id: FollowUpStatus.MISSED, other.id: FollowUpStatus.PENDING}
    assert db.session.get(type(other), other.id).is_overdue()


def test_cli_run_once_exits(runner, make_case, make_user, clock):
    clock(T0)
    make_user("lead")
    make_case(tier="high")
    clock(T0 + dt.timedelta(hours=1))
    result = runner.invoke(args=["scheduler", "--run-once"])
    assert result.exit_code == 0 and "cases.overdue_sign: 1" in result.output


def test_job_ids_are_stable_and_unique():
    ids = [job.id for job in scheduler.JOBS]
    assert len(ids) == len(set(ids)) and "followups.due" in ids


def test_a_job_is_logged_at_info_only_when_it_did_something(app, make_case, make_user, clock, caplog, monkeypatch):
    import logging

    # the migration tests run alembic's fileConfig, which disables the loggers that exist by then
    monkeypatch.setattr(logging.getLogger("dissuasion.scheduler"), "disabled", False)
    clock(T0)
    officer = make_user("officer")
    make_case(tier="high", assignee=officer)
    db.session.commit()
    scheduler.run_once(app)  # the Monday reports catch up once
    caplog.set_level(logging.DEBUG, logger="dissuasion.scheduler")
    scheduler.run_once(app)  # nothing due now
    assert len(caplog.records) == len(scheduler.JOBS)  # each still said at DEBUG
    assert [r for r in caplog.records if r.levelno >= logging.INFO] == []
    clock(T0 + dt.timedelta(hours=1))  # its 30 minutes to sign have passed
    caplog.clear()
    scheduler.run_once(app)
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert said == ["job cases.overdue_sign: 1"]  # the officer was told; the other jobs found nothing


def test_cases_nobody_can_be_told_of_do_not_crowd_out_those_somebody_can(make_case, make_user, make_precinct, clock,
                                                                        monkeypatch):
    """A precinct without a lead and a case without an assignee: nobody hears of it, so it used to be taken again
    every minute; more of them than a batch held the job's batch for good, and an officer's overdue case went
    untold."""
    from dissuasion.cases import tasks
    monkeypatch.setattr(tasks, "BATCH", 3)
    clock(T0)
    make_precinct("PCS09", name="无所领导派出所", communities=("空社区",))
    for n in range(5):
        make_case(tier="medium", precinct="PCS09", community="空社区", name=f"无人知{n}")
    officer = make_user("officer", precinct="PCS01")
    mine = make_case(tier="medium", assignee=officer)
    db.session.commit()
    clock(T0 + dt.timedelta(days=2))
    assert tasks.notify_overdue_sign() == 1
    assert _notes("overdue_sign") == [(officer.id, "overdue_sign", mine.id)]
