"""Precincts (派出所) and their communities (社区/村), each with its community officer."""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.timeutil import UTCDateTime, now
from ..extensions import db

if TYPE_CHECKING:
    from ..auth.models import User


class Precinct(db.Model):
    __tablename__ = "precincts"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The center's code for the precinct (PCS01); reports and the API use it.
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)

    communities: Mapped[list[Community]] = relationship(back_populates="precinct", order_by="Community.name")

    def __repr__(self) -> str:
        return f"<Precinct {self.code} {self.name}>"


class Community(db.Model):
    __tablename__ = "communities"
    __table_args__ = (UniqueConstraint("precinct_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    precinct_id: Mapped[int] = mapped_column(ForeignKey("precincts.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    #: The community officer (社区民警): new cases of this community go to them while their account is active.
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    precinct: Mapped[Precinct] = relationship(back_populates="communities")
    officer: Mapped[User | None] = relationship(foreign_keys=[officer_id])

    def __repr__(self) -> str:
        return f"<Community {self.name} of precinct {self.precinct_id}>"


def place_name(precinct: Precinct, community: Community | None = None) -> str:
    """Where a case was sent, as its timeline says it: 城东派出所 · 东门社区 (the precinct alone for its pool)."""
    return precinct.name + (f" · {community.name}" if community else "")
