"""After the load (bench/load.py): was anything lost or made twice?

* every contact answered with success is in the database exactly once (found by the marker in its note), and
  has exactly one 劝阻记录 event on its case's timeline;
* every follow-up the rules must have made for those contacts exists exactly once, and no other was made: the
  expected rule keys are worked out again here from the contacts, in the order they were logged, by the rules of
  followups/rules.py (a retry while tries are left, then the escalation steps, then once every step was tried the
  next contact, due within the tier's first-contact time; the tier's 回访 after 劝阻);
* no notification was sent twice (the scheduler ran beside four web workers the whole time).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import func, select

from dissuasion.cases.models import Case, CaseEvent, RuleSetting
from dissuasion.contacts.models import Contact
from dissuasion.core.enums import EventKind, Outcome, Reached
from dissuasion.extensions import db
from dissuasion.followups.models import FollowUp
from dissuasion.notifications.models import Notification

GIVE_UP = "unreachable"


@dataclass
class Verdict:
    confirmed: int = 0
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    failed_but_saved: int = 0
    failed_not_saved: int = 0
    unknown_contacts: int = 0
    contact_events_wrong: int = 0
    followups_expected: int = 0
    followups_missing: list[str] = field(default_factory=list)
    followups_unexpected: list[str] = field(default_factory=list)
    followups_duplicated: int = 0
    notifications: int = 0
    notifications_duplicated: int = 0
    followups_notified: int = 0

    @property
    def clean(self) -> bool:
        return not (self.lost or self.duplicated or self.unknown_contacts or self.contact_events_wrong
                    or self.followups_missing or self.followups_unexpected or self.followups_duplicated
                    or self.notifications_duplicated)

    def lines(self) -> list[str]:
        return [
            f"contacts answered with success: {self.confirmed + len(self.lost) + len(self.duplicated):,}; "
            f"in the database once: {self.confirmed:,}; lost: {len(self.lost)}; duplicated: {len(self.duplicated)}",
            f"contacts answered with an error: saved anyway {self.failed_but_saved}, not saved "
            f"{self.failed_not_saved}; contacts with a marker nobody posted: {self.unknown_contacts}",
            f"contacts without exactly one timeline event: {self.contact_events_wrong}",
            f"follow-ups the rules must have made: {self.followups_expected:,}; "
            f"missing: {len(self.followups_missing)}; unexpected: {len(self.followups_unexpected)}; "
            f"duplicated: {self.followups_duplicated}"
            + (f" (unexpected, the first: {', '.join(self.followups_unexpected[:8])})"
               if self.followups_unexpected else "")
            + (f" (missing, the first: {', '.join(self.followups_missing[:8])})" if self.followups_missing else ""),
            f"notifications: {self.notifications:,} (duplicated: {self.notifications_duplicated}); follow-ups "
            f"announced by the scheduler: {self.followups_notified:,}",
        ]


def verify(marker: str, posted: dict[str, dict]) -> Verdict:
    """Compare what the users were told with what the database holds (inside an app context)."""
    v = Verdict()
    saved = Counter(db.session.scalars(select(Contact.note).where(Contact.note.like(f"{marker}:%"))))
    for key, what in posted.items():
        count = saved.pop(key, 0)
        if what["ok"]:
            if count == 1:
                v.confirmed += 1
            else:
                (v.lost if count == 0 else v.duplicated).append(key)
        elif count:
            v.failed_but_saved += 1
        else:
            v.failed_not_saved += 1
    v.unknown_contacts = sum(saved.values())
    case_ids = sorted({what["case"] for what in posted.values()})
    _check_events(v, case_ids)
    _check_followups(v, case_ids)
    v.notifications = db.session.scalar(select(func.count(Notification.id)))
    v.notifications_duplicated = db.session.scalar(select(func.count()).select_from(
        select(Notification.dedupe_key).where(Notification.dedupe_key.is_not(None))
        .group_by(Notification.dedupe_key).having(func.count() > 1).subquery()))
    v.followups_notified = db.session.scalar(select(func.count(FollowUp.id)).where(FollowUp.notified_at.is_not(None)))
    return v


def _chunks(ids: list[int], size: int = 1000):
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def _check_events(v: Verdict, case_ids: list[int]) -> None:
    contacts, events = set(), Counter()
    for chunk in _chunks(case_ids):
        contacts |= set(db.session.scalars(select(Contact.id).where(Contact.case_id.in_(chunk))))
        for data in db.session.scalars(select(CaseEvent.data).where(CaseEvent.case_id.in_(chunk),
                                                                    CaseEvent.kind == EventKind.CONTACT)):
            events[data.get("contact")] += 1
    v.contact_events_wrong = sum(1 for c in contacts if events.get(c) != 1) + sum(
        n for c, n in events.items() if c not in contacts)


def expected_keys(case: Case, contacts: list[Contact], rule: RuleSetting) -> list[str]:
    """The rule keys followups/rules.py gives these contacts, logged in this order on an open case."""
    keys, attempts, failures = [], 0, 0  # the seeded and the imported cases start with no failed tries
    for contact in contacts:
        if contact.reached == Reached.NONE:
            attempts += 1
            failures += 1
            if attempts < rule.max_tries:
                keys.append(f"retry:{case.id}:{failures}")
                continue
            steps = list(rule.escalation or [])
            index = attempts - rule.max_tries
            if index < len(steps):
                if steps[index] == GIVE_UP:
                    break  # the case closed as 无法联系; nothing is logged on it after that
                keys.append(f"escalation:{case.id}:{failures}")
            else:  # every step tried: the lead is told, and the case's next contact is due (contacts.operations
                # next_contact: an open case with nothing pending must keep a deadline)
                keys.append(f"next:{case.id}:{int(contact.contacted_at.timestamp())}")
            continue
        attempts = 0
        if contact.outcome == Outcome.DISSUADED:
            keys += [f"revisit:{case.id}:{contact.id}:{day}" for day in rule.followup_days or []]
    return keys


def _check_followups(v: Verdict, case_ids: list[int]) -> None:
    rules = {r.tier: r for r in db.session.scalars(select(RuleSetting))}
    for chunk in _chunks(case_ids, 200):
        contacts: dict[int, list[Contact]] = {}
        for contact in db.session.scalars(select(Contact).where(Contact.case_id.in_(chunk)).order_by(Contact.id)):
            contacts.setdefault(contact.case_id, []).append(contact)
        made = Counter(db.session.scalars(select(FollowUp.rule_key).where(
            FollowUp.case_id.in_(chunk), FollowUp.rule_key.is_not(None), ~FollowUp.rule_key.like("watch:%"))))
        expected = []
        for case in db.session.scalars(select(Case).where(Case.id.in_(chunk))):
            expected += expected_keys(case, contacts.get(case.id, []), rules[case.tier])
        v.followups_expected += len(expected)
        wanted = set(expected)
        v.followups_missing += [k for k in expected if k not in made]
        v.followups_unexpected += [k for k in made if k not in wanted]
        v.followups_duplicated += sum(n - 1 for n in made.values() if n > 1)
        db.session.expunge_all()
