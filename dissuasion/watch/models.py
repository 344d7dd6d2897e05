"""Watch-list entries (a person, a kind, two responsible people, a meeting interval), their meetings, the kinds an
admin keeps, and the 考评 weights an admin sets."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.dbtypes import Json, UTCDateTime, enum_column
from ..core.enums import MeetingFlag, MeetingMethod, MetBy, WatchStatus
from ..core.i18n import say
from ..core.timeutil import local, now
from ..extensions import db
from ..privacy.freetext import FreeText

if TYPE_CHECKING:
    from ..auth.models import User
    from ..cases.models import Case, Person
    from ..directory.models import Community, Precinct

#: A week: the interval a new entry is met at unless its creator says otherwise.
DEFAULT_INTERVAL_DAYS = 7


class WatchKind(db.Model):
    """What a person is watched for; two come with the product (by code), an admin adds others."""

    __tablename__ = "watch_kinds"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: 'repeat' (重复预警关注) and 'returnee' (涉诈回流人员) are the product's; an admin's kinds have none.
    code: Mapped[str | None] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    active: Mapped[bool] = mapped_column(default=True)

    @property
    def label(self) -> str:
        """The name in the reader's language: the product's two kinds are translated, an admin's are as typed."""
        label = _KIND_LABELS.get(self.code or "")
        return str(label) if label is not None else self.name

    @property
    def said(self):
        """The name for a stored sentence (a notification): the product's kinds so that each reader sees them in
        their language (i18n.say), an admin's as typed."""
        return say(self.name) if self.code in _KIND_LABELS else self.name

    def __repr__(self) -> str:
        return f"<WatchKind {self.name}>"


#: The product's kinds by code (their stored names are the Chinese ones).
_KIND_LABELS = {"repeat": _l("重复预警关注"), "returnee": _l("涉诈回流人员")}


class WatchEntry(db.Model):
    __tablename__ = "watch_entries"
    __table_args__ = (Index("ix_watch_entries_due", "status", "next_due_at"),
                      Index("ix_watch_entries_precinct", "precinct_id", "officer_id", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    kind_id: Mapped[int] = mapped_column(ForeignKey("watch_kinds.id"))
    precinct_id: Mapped[int] = mapped_column(ForeignKey("precincts.id"))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"))
    #: The precinct officer responsible (a user of that precinct).
    officer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    #: The community or village cadre responsible: may have no account, only a name and a work phone.
    cadre_name: Mapped[str] = mapped_column(String(64), default="")
    cadre_phone: Mapped[str] = mapped_column(String(32), default="")
    interval_days: Mapped[int] = mapped_column(default=DEFAULT_INTERVAL_DAYS)
    starts_on: Mapped[dt.date]
    ends_on: Mapped[dt.date | None]
    status: Mapped[WatchStatus] = mapped_column(enum_column(WatchStatus), default=WatchStatus.ACTIVE)
    #: When the next meeting is due (end of its day, Asia/Shanghai, held as UTC); None once ended.
    next_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: The case the person was put on the list from (the case page's action), if any.
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    note: Mapped[str] = mapped_column(FreeText, default="")  # numbers typed in: stored encrypted, shown masked
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: The due time the officer was last told of, and the one the leads were last told was missed (the jobs tell
    #: each due once, however often they run).
    due_told_for: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    missed_told_for: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    person: Mapped[Person] = relationship(back_populates="watch_entries")
    kind: Mapped[WatchKind] = relationship()
    precinct: Mapped[Precinct] = relationship()
    community: Mapped[Community | None] = relationship()
    officer: Mapped[User] = relationship(foreign_keys=[officer_id])
    case: Mapped[Case | None] = relationship()
    meetings: Mapped[list[WatchMeeting]] = relationship(back_populates="entry", order_by="WatchMeeting.met_at.desc()")

    def __repr__(self) -> str:
        return f"<WatchEntry {self.id} person {self.person_id} {self.status.value}>"

    @property
    def is_active(self) -> bool:
        return self.status == WatchStatus.ACTIVE

    @property
    def last_meeting(self) -> WatchMeeting | None:
        """The latest meeting held (a visit that found nobody is not one)."""
        return next((m for m in self.meetings if m.held), None)

    @property
    def last_day(self) -> dt.date | None:
        """The last day (Asia/Shanghai) the next meeting may be held on time: due by the midnight that ends it."""
        return local(self.next_due_at - dt.timedelta(seconds=1)).date() if self.next_due_at else None

    def is_overdue(self, at: dt.datetime | None = None) -> bool:
        return self.is_active and self.next_due_at is not None and self.next_due_at < (at or now())


class WatchMeeting(db.Model):
    """One meeting (见面/电话/视频) with a watched person, and what was seen."""

    __tablename__ = "watch_meetings"
    __table_args__ = (Index("ix_watch_meetings_met", "met_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("watch_entries.id"), index=True)
    met_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    met_by: Mapped[MetBy] = mapped_column(enum_column(MetBy))
    method: Mapped[MeetingMethod] = mapped_column(enum_column(MeetingMethod))
    place: Mapped[str] = mapped_column(String(200), default="")
    observed: Mapped[str] = mapped_column(FreeText, default="")  # a 换号 meeting notes the new number here
    #: MeetingFlag keys.
    flags: Mapped[list] = mapped_column(Json, default=list)
    #: The meeting it answered was due by this time; held on time when met_at ≤ due_at.
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: A flag that raises the alarm (失联, 疑似再次出境) is among the flags.
    alarm: Mapped[bool] = mapped_column(default=False)
    #: Set once the leads and the center were told of the alarm.
    alerted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)

    entry: Mapped[WatchEntry] = relationship(back_populates="meetings")
    recorded_by: Mapped[User | None] = relationship()

    @property
    def on_time(self) -> bool:
        return self.due_at is None or self.met_at <= self.due_at

    @property
    def held(self) -> bool:
        """A meeting that took place: not a visit that found nobody (上门未见), which leaves the meeting owed."""
        return self.method != MeetingMethod.DOOR

    @property
    def flag_members(self) -> list[MeetingFlag]:
        return [MeetingFlag(f) for f in self.flags or () if f in MeetingFlag._value2member_map_]


class AssessmentWeight(db.Model):
    """The weight of one 考评 indicator (watch.assessment.INDICATORS); a missing row means its default."""

    __tablename__ = "assessment_weights"

    indicator: Mapped[str] = mapped_column(String(32), primary_key=True)
    weight: Mapped[Decimal] = mapped_column(Numeric(6, 2, asdecimal=True))
