"""Generated weekly reports, kept as immutable snapshots."""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.dbtypes import Json, UTCDateTime
from ..core.timeutil import now
from ..extensions import db

if TYPE_CHECKING:
    from ..directory.models import Precinct


class WeeklyReport(db.Model):
    __tablename__ = "weekly_reports"
    __table_args__ = (Index("ix_weekly_reports_week_precinct", "week", "precinct_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: ISO week, e.g. 2026-W47 (Monday to Sunday, Asia/Shanghai).
    week: Mapped[str] = mapped_column(String(10))
    #: None for the county total.
    precinct_id: Mapped[int | None] = mapped_column(ForeignKey("precincts.id"))
    generated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
    #: None when the scheduler generated it.
    generated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: The report's JSON (metrics and previous week) as it was when generated.
    data: Mapped[dict] = mapped_column(Json, default=dict)
    #: "2026-W47:county" or "2026-W47:<precinct id>" on the Monday report the scheduler makes, None on reports made
    #: on demand: unique, so two scheduler runs (or processes) store each Monday report once.
    scheduled_key: Mapped[str | None] = mapped_column(String(40), unique=True)

    precinct: Mapped[Precinct | None] = relationship()

    def __repr__(self) -> str:
        return f"<WeeklyReport {self.week} precinct {self.precinct_id}>"

    @property
    def scheduled(self) -> bool:
        return self.scheduled_key is not None
