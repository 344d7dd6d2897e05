"""Publicity work (宣传工作登记) and the APP registration targets per community."""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.dbtypes import enum_column
from ..core.enums import ActivityCount, ActivityKind
from ..core.timeutil import UTCDateTime, now
from ..extensions import db

if TYPE_CHECKING:
    from ..auth.models import User
    from ..directory.models import Community, Precinct

#: How long after recording an activity its author (or a lead) may still change it.
EDIT_WINDOW = dt.timedelta(days=7)


class Activity(db.Model):
    """One piece of publicity work of a precinct: a lecture, a banner, a day of posts."""

    __tablename__ = "activities"
    __table_args__ = (Index("ix_activities_precinct_day", "precinct_id", "held_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    precinct_id: Mapped[int] = mapped_column(ForeignKey("precincts.id"))
    #: A community of the precinct's directory; None when the work was at a place outside one (a market, a bank).
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), index=True)
    place: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[ActivityKind] = mapped_column(enum_column(ActivityKind))
    #: The Asia/Shanghai day the work was done; reports count it in the week of this day.
    held_on: Mapped[dt.date] = mapped_column(Date)
    #: The officers taking part, as the precinct names them (王警官、李辅警).
    participants: Mapped[str] = mapped_column(String(200), default="")
    people: Mapped[int] = mapped_column(default=0)
    households: Mapped[int] = mapped_column(default=0)
    materials: Mapped[int] = mapped_column(default=0)
    banners: Mapped[int] = mapped_column(default=0)
    posts: Mapped[int] = mapped_column(default=0)
    app_registrations: Mapped[int] = mapped_column(default=0)
    officers: Mapped[int] = mapped_column(default=0)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)

    precinct: Mapped[Precinct] = relationship()
    community: Mapped[Community | None] = relationship()
    created_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<Activity {self.id} {self.kind.value} {self.held_on} precinct {self.precinct_id}>"

    @property
    def where(self) -> str:
        """The community, the place, or both, as the list shows them."""
        return " · ".join(p for p in ((self.community.name if self.community else ""), self.place) if p)

    def count(self, which: ActivityCount) -> int:
        return getattr(self, which.value)

    def editable_until(self) -> dt.datetime:
        return self.created_at + EDIT_WINDOW


class AppTarget(db.Model):
    """An admin's target of 国家反诈中心APP registrations for one community, counted from a day on."""

    __tablename__ = "app_targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), unique=True)
    #: People to register (from cases and from publicity work together).
    target: Mapped[int] = mapped_column(default=0)
    #: Registrations count from this Asia/Shanghai day on.
    since: Mapped[dt.date] = mapped_column(Date)
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)

    community: Mapped[Community] = relationship()

    def __repr__(self) -> str:
        return f"<AppTarget community {self.community_id}: {self.target} since {self.since}>"
