"""Scheduled jobs on the watch list: a meeting due today is announced to the responsible officer, a meeting not
held by its time is announced to the precinct's leads (it is overdue on their board until it is held), an alarm
flag (失联, 疑似再次出境) not yet told is told to the leads and the center, and an entry past its end date ends.
Each due and each meeting is told once, however often the jobs run and in how many processes (core/claims.py,
notify_once)."""
from __future__ import annotations

from sqlalchemy import or_, select

from ..core.auditlog import record
from ..core.claims import due_ids, each_claimed
from ..core.enums import WatchStatus
from ..core.i18n import say
from ..core.timeutil import end_of_today, local, now
from ..notifications.operations import lead_ids, notify_once
from .models import WatchEntry, WatchMeeting
from .operations import alert

BATCH = 500


def _not_told(column):
    return or_(column.is_(None), column != WatchEntry.next_due_at)


def notify_due_meetings() -> int:
    """Meetings due today or overdue: the responsible officer hears of each due once."""
    still_due = (WatchEntry.status == WatchStatus.ACTIVE, WatchEntry.next_due_at <= end_of_today(),
                 _not_told(WatchEntry.due_told_for))
    ids = due_ids(select(WatchEntry.id).where(*still_due).order_by(WatchEntry.next_due_at).limit(BATCH))

    def announce(entry: WatchEntry) -> None:
        entry.due_told_for = entry.next_due_at
        notify_once(entry.officer_id, "watch_due",
                    say("重点关注见面到期：%(name)s（%(kind)s），应在 %(day)s 当天或之前见面", name=entry.person.name,
                        kind=entry.kind.said, day=entry.last_day.isoformat()),
                    entry.case_id, f"watch-due:{entry.id}:{entry.next_due_at:%Y%m%d%H%M}", watch_entry_id=entry.id)

    return each_claimed(WatchEntry, ids, still_due, announce)


def notify_missed_meetings() -> int:
    """Meetings not held by their time: the precinct's leads and the officer hear once per missed due."""
    still_due = (WatchEntry.status == WatchStatus.ACTIVE, WatchEntry.next_due_at <= now(),
                 _not_told(WatchEntry.missed_told_for))
    ids = due_ids(select(WatchEntry.id).where(*still_due).order_by(WatchEntry.next_due_at).limit(BATCH))

    def miss(entry: WatchEntry) -> None:
        entry.missed_told_for = entry.next_due_at
        message = say("重点关注见面已逾期：%(name)s（%(kind)s），应在 %(day)s 当天或之前见面，责任民警 %(officer)s",
                      name=entry.person.name, kind=entry.kind.said, day=entry.last_day.isoformat(),
                      officer=entry.officer.label)
        for user_id in {*lead_ids(entry.precinct_id), entry.officer_id}:
            notify_once(user_id, "watch_missed", message, entry.case_id,
                        f"watch-missed:{entry.id}:{entry.next_due_at:%Y%m%d%H%M}:{user_id}", watch_entry_id=entry.id)

    return each_claimed(WatchEntry, ids, still_due, miss)


def send_meeting_alarms() -> int:
    """Meetings flagged 失联 or 疑似再次出境 whose alarm has not gone out (recording one sends it at once; this
    catches any that did not): the leads and the center hear."""
    still_due = (WatchMeeting.alarm.is_(True), WatchMeeting.alerted_at.is_(None))
    ids = due_ids(select(WatchMeeting.id).where(*still_due).order_by(WatchMeeting.id).limit(BATCH))
    return each_claimed(WatchMeeting, ids, still_due, alert)


def end_finished_watches() -> int:
    """Entries whose last day (ends_on) has passed end by themselves: no meeting falls due after it."""
    today = local(now()).date()
    still_due = (WatchEntry.status == WatchStatus.ACTIVE, WatchEntry.ends_on.is_not(None), WatchEntry.ends_on < today)
    ids = due_ids(select(WatchEntry.id).where(*still_due).limit(BATCH))

    def finish(entry: WatchEntry) -> None:
        entry.status, entry.ended_at, entry.next_due_at = WatchStatus.ENDED, now(), None
        record("watch_end", "watch_entry", entry.id, reason="ends_on")

    return each_claimed(WatchEntry, ids, still_due, finish)
