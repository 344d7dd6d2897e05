"""Persons, warnings, cases and their timelines, and the tier rules cases are created with."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.dbtypes import Json, Money, UTCDateTime, enum_column
from ..core.enums import (
    AppStatus,
    CaseStatus,
    EventKind,
    FollowUpKind,
    FollowUpStatus,
    FraudType,
    Method,
    Outcome,
    Reached,
    Tier,
    WarningSource,
)
from ..core.i18n import said_text
from ..core.timeutil import end_of_today, now
from ..extensions import db
from ..privacy.freetext import FreeText
from ..privacy.pii import Protected, mask_id, mask_phone

if TYPE_CHECKING:
    from ..auth.models import User
    from ..contacts.models import Contact
    from ..directory.models import Community, Precinct
    from ..followups.models import FollowUp
    from ..imports.models import Push
    from ..watch.models import WatchEntry


class Person(db.Model):
    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Who this is (pii.person_match_key): a valid ID number, else name + phone, else name + ID as written, else
    #: name + address.
    match_key: Mapped[str] = mapped_column(String(48), unique=True)
    name: Mapped[str] = mapped_column(String(64), default="")
    sex: Mapped[str] = mapped_column(String(4), default="")
    id_number: Mapped[str | None] = mapped_column(Protected(blind=("id", "id_index")))
    #: Blind index of the ID number, for exact search without reading the number.
    id_index: Mapped[str | None] = mapped_column(String(40), index=True)
    id_valid: Mapped[bool] = mapped_column(default=False)
    phone: Mapped[str | None] = mapped_column(Protected(blind=("phone", "phone_index")))
    phone_index: Mapped[str | None] = mapped_column(String(40), index=True)
    phone_valid: Mapped[bool] = mapped_column(default=False)
    registered_address: Mapped[str] = mapped_column(Text, default="")
    current_address: Mapped[str] = mapped_column(Text, default="")
    away_from_home: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)

    cases: Mapped[list[Case]] = relationship(back_populates="person")
    #: Watch-list entries (watch/ sits above cases/; the worklist reads their due meetings through this).
    watch_entries: Mapped[list[WatchEntry]] = relationship(back_populates="person")

    def __repr__(self) -> str:
        return f"<Person {self.id} {self.name}>"

    @property
    def id_number_masked(self) -> str:
        return mask_id(self.id_number)

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)


class EarlyWarning(db.Model):
    """One row of a push (预警); named so it does not shadow the builtin Warning."""

    __tablename__ = "warnings"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The center's 预警编号; the same number twice is a duplicate, never a second warning.
    warning_no: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[WarningSource] = mapped_column(enum_column(WarningSource), default=WarningSource.PUSH)
    push_id: Mapped[int | None] = mapped_column(ForeignKey("pushes.id"), index=True)
    #: Excel row number of this warning in its push file.
    row_number: Mapped[int | None]
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    pushed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    tier: Mapped[Tier] = mapped_column(enum_column(Tier))
    #: Free text: an ID or mobile number typed in makes the value stored encrypted (privacy.pii.FreeText).
    reason: Mapped[str] = mapped_column(FreeText, default="")
    fraud_type: Mapped[FraudType] = mapped_column(enum_column(FraudType), default=FraudType.OTHER)
    #: The center's own words for the fraud type when they are not one of ours.
    fraud_type_text: Mapped[str] = mapped_column(String(100), default="")
    amount_at_risk: Mapped[Decimal | None] = mapped_column(Money)
    #: The precinct and community as the center wrote them (kept for unrouted rows and audits).
    precinct_text: Mapped[str] = mapped_column(String(100), default="")
    community_text: Mapped[str] = mapped_column(String(100), default="")
    away_from_home: Mapped[bool] = mapped_column(default=False)
    notes: Mapped[str] = mapped_column(FreeText, default="")
    #: Data-quality flags (DataFlag keys) found on this row.
    flags: Mapped[list] = mapped_column(Json, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
    #: A hand entry: who reported it and how to reach them (bank branch and teller, caller number).
    reported_by: Mapped[str] = mapped_column(FreeText, default="")  # who called it in: often with their number
    #: 退回: the center marked it 非本辖区 (not this county's); it then has no case. Cleared by undoing.
    returned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    returned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    return_reason: Mapped[str] = mapped_column(FreeText, default="")  # typed: numbers in it stored encrypted

    person: Mapped[Person] = relationship()
    case: Mapped[Case | None] = relationship(back_populates="warnings")
    push: Mapped[Push | None] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])

    def __repr__(self) -> str:
        return f"<EarlyWarning {self.warning_no} {self.tier.value}>"


class Case(db.Model):
    __tablename__ = "cases"
    __table_args__ = (
        # The worklists: a precinct's (lead) or an officer's own and pool cases, by status. tier and due_at
        # are in them so the worklist's sort and counts read the index alone, never the rows (bench/worklist.py).
        Index("ix_cases_worklist_precinct", "precinct_id", "status", "tier", "due_at"),
        Index("ix_cases_worklist_holder", "precinct_id", "assignee_id", "status", "tier", "due_at"),
        Index("ix_cases_person_status", "person_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    #: None while the case waits in the center's routing queue (precinct not in the directory).
    precinct_id: Mapped[int | None] = mapped_column(ForeignKey("precincts.id"))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"))
    #: None: in the precinct's pool, any of its officers may take it.
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[CaseStatus] = mapped_column(enum_column(CaseStatus), default=CaseStatus.NEW)
    tier: Mapped[Tier] = mapped_column(enum_column(Tier))
    method: Mapped[Method] = mapped_column(enum_column(Method))
    away_from_home: Mapped[bool] = mapped_column(default=False)
    #: Reopened by a new warning less than 30 days after it was closed (重复预警).
    is_repeat: Mapped[bool] = mapped_column(default=False)
    #: The case in the precinct that transferred this person here (its status is now transferred).
    transferred_from_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    #: Data-quality flags (DataFlag keys) of the person's warnings, shown on the case.
    flags: Mapped[list] = mapped_column(Json, default=list)
    #: Deadlines fixed when the case was created or its tier last rose; rule changes do not move them.
    sign_deadline: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    contact_deadline: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    #: The deadline that binds now (sign-for, first contact, or the next follow-up); worklists sort on it.
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    signed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: The first contact attempt, reached or not (the case is 处置中 from then on).
    first_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: The first time the person or a relative was reached: only this meets the contact deadline (预警见人 is about
    #: reaching the person, not dialling).
    first_reached_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: Failed contact attempts since the last success, for the retry rules.
    failed_attempts: Mapped[int] = mapped_column(default=0)
    watch_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[Outcome | None] = mapped_column(enum_column(Outcome))
    amount_dissuaded: Mapped[Decimal | None] = mapped_column(Money)
    amount_defrauded: Mapped[Decimal | None] = mapped_column(Money)
    defrauded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    confirmed_fraud_type: Mapped[FraudType | None] = mapped_column(enum_column(FraudType))
    app_status: Mapped[AppStatus | None] = mapped_column(enum_column(AppStatus))
    #: Reports count outcomes and amounts by the week this falls in (indexed for them).
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)
    #: A lead asked the center to take the case back (not their precinct's); the center routes it or 退回s it.
    return_requested_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    return_request_reason: Mapped[str] = mapped_column(FreeText, default="")  # typed, as return_reason
    #: Optimistic locking: a save from a stale page fails instead of overwriting.
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    person: Mapped[Person] = relationship(back_populates="cases")
    precinct: Mapped[Precinct | None] = relationship()
    community: Mapped[Community | None] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    warnings: Mapped[list[EarlyWarning]] = relationship(back_populates="case", order_by="EarlyWarning.pushed_at")
    events: Mapped[list[CaseEvent]] = relationship(back_populates="case", order_by="CaseEvent.at")
    contacts: Mapped[list[Contact]] = relationship(back_populates="case", order_by="Contact.contacted_at")
    followups: Mapped[list[FollowUp]] = relationship(back_populates="case", order_by="FollowUp.due_at")
    #: The rule of its tier in force (None: the tier's default, never saved), read only: a contact applies it, and
    #: loading it with the case saves rules.rule_for its own query.
    rule: Mapped[RuleSetting | None] = relationship(primaryjoin="foreign(Case.tier) == RuleSetting.tier",
                                                    viewonly=True)

    def __repr__(self) -> str:
        return f"<Case {self.id} {self.status.value} {self.tier.value}>"

    @property
    def is_open(self) -> bool:
        return self.status in CaseStatus.open_values()

    def is_overdue(self, at: dt.datetime | None = None) -> bool:
        """Past the deadline that binds now (SPEC: overdue cases top every worklist)."""
        return Case.overdue(self.status, self.due_at, at)

    @staticmethod
    def overdue(status: CaseStatus, due_at: dt.datetime | None, at: dt.datetime | None = None) -> bool:
        """is_overdue on a case's two columns, for a list read as columns (the API's worklist)."""
        return status in CaseStatus.open_values() and due_at is not None and due_at < (at or now())

    def visit_made(self) -> bool:
        """预警见人: a 面见 contact that reached the person or a relative, or a lead's approval to close without one
        (then 批准未面见办结 is not offered again)."""
        if any(c.method == Method.VISIT and c.reached != Reached.NONE for c in self.contacts):
            return True
        return any(e.kind == EventKind.CLOSE_APPROVED for e in self.events)

    def due_followup(self, at: dt.datetime | None = None) -> FollowUp | None:
        """The earliest pending 回访 (or a follow-up an officer planned) due today or overdue: a task of its own."""
        due = [f for f in self.followups if f.status == FollowUpStatus.PENDING
               and f.kind in (FollowUpKind.REVISIT, FollowUpKind.MANUAL) and f.due_at < end_of_today(at)]
        return min(due, key=lambda f: f.due_at, default=None)

    def relatives(self) -> list[Contact]:
        """The contacts that reached a relative and kept their number, one per number (the latest), for 拨打."""
        seen: dict[str, Contact] = {}
        for contact in self.contacts:
            if contact.relative_phone:
                seen[contact.relative_phone] = contact
        return list(seen.values())

    def in_watch(self, at: dt.datetime | None = None) -> bool:
        """Within its watch period (关注期): 回访 contacts are still logged, even once closed."""
        return self.watch_until is not None and self.watch_until > (at or now())


class CaseEvent(db.Model):
    """One entry on a case's timeline: who did what, when."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
    #: None when the system did it (import, scheduler).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[EventKind] = mapped_column(enum_column(EventKind))
    from_status: Mapped[CaseStatus | None] = mapped_column(enum_column(CaseStatus))
    to_status: Mapped[CaseStatus | None] = mapped_column(enum_column(CaseStatus))
    #: What happened, or the reason someone typed (FreeText: numbers in it are stored encrypted).
    message: Mapped[str] = mapped_column(FreeText, default="")
    data: Mapped[dict] = mapped_column(Json, default=dict)

    case: Mapped[Case] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()

    @property
    def text(self) -> str:
        """The message in the reader's language (a `say` message), else as it was stored."""
        return said_text((self.data or {}).get("say"), self.message)

    def __repr__(self) -> str:
        return f"<CaseEvent {self.kind.value} on case {self.case_id}>"


class EntryCounter(db.Model):
    """The last number given to a hand entry per precinct and day (SD-<precinct code>-<yyyymmdd>-<nnnn>): one row
    raised in the entry's own transaction, so two entries at once, in any web worker, never get the same number."""

    __tablename__ = "entry_counters"

    #: <precinct code or ZX for the center>-<yyyymmdd>, the number's prefix without SD-.
    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    last: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<EntryCounter {self.key} {self.last}>"


class RuleSetting(db.Model):
    """The rules of one tier (SPEC "Rules"); an admin edits them, new cases use them."""

    __tablename__ = "rule_settings"

    tier: Mapped[Tier] = mapped_column(enum_column(Tier), primary_key=True)
    method: Mapped[Method] = mapped_column(enum_column(Method))
    #: 特高危: call at once as well as going to the person.
    call_at_once: Mapped[bool] = mapped_column(default=False)
    sign_minutes: Mapped[int]
    contact_minutes: Mapped[int]
    retry_minutes: Mapped[int | None]
    #: Failed calls allowed before escalating.
    max_tries: Mapped[int] = mapped_column(default=1)
    #: What comes after the failed tries, in order (Method keys, or 'unreachable').
    escalation: Mapped[list] = mapped_column(Json, default=list)
    #: Days after 劝阻 on which a 回访 is due.
    followup_days: Mapped[list] = mapped_column(Json, default=list)
    watch_days: Mapped[int] = mapped_column(default=0)
    #: 外出务工: nobody can visit, so this method replaces the tier's (SPEC: phone whatever the tier).
    away_method: Mapped[Method] = mapped_column(enum_column(Method), default=Method.PHONE)
    #: 外出务工 at this tier: relatives are asked as well (SPEC: a high tier also asks relatives).
    away_relatives: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    def __repr__(self) -> str:
        return f"<RuleSetting {self.tier.value} {self.method.value}>"
