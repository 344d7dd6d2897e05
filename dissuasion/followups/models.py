"""Follow-ups (回访, retries, escalations): scheduled future contacts on a case."""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.dbtypes import UTCDateTime, enum_column
from ..core.enums import FollowUpKind, FollowUpStatus, Method
from ..core.timeutil import now
from ..extensions import db
from ..privacy.freetext import FreeText

if TYPE_CHECKING:
    from ..cases.models import Case


class FollowUp(db.Model):
    __tablename__ = "followups"
    __table_args__ = (Index("ix_followups_status_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[FollowUpKind] = mapped_column(enum_column(FollowUpKind))
    method: Mapped[Method] = mapped_column(enum_column(Method))
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    status: Mapped[FollowUpStatus] = mapped_column(enum_column(FollowUpStatus), default=FollowUpStatus.PENDING)
    #: Set when the rules created it, so running the rules twice creates it once.
    rule_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    note: Mapped[str] = mapped_column(FreeText, default="")
    #: Reports count follow-ups done by the week this falls in (indexed for them).
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    #: Set once the scheduler has told the assignee it is due.
    notified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)

    case: Mapped[Case] = relationship(back_populates="followups")

    def __repr__(self) -> str:
        return f"<FollowUp {self.kind.value} {self.status.value} on case {self.case_id}>"
