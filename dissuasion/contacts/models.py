"""Contact attempts (劝阻记录): method, who was reached, when, the result."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.dbtypes import Money, UTCDateTime, enum_column
from ..core.enums import AppStatus, FailureReason, FraudType, Method, Outcome, Reached
from ..core.timeutil import now
from ..extensions import db
from ..privacy.freetext import FreeText
from ..privacy.pii import Protected, mask_phone

if TYPE_CHECKING:
    from ..auth.models import User
    from ..cases.models import Case


class Contact(db.Model):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    method: Mapped[Method] = mapped_column(enum_column(Method))
    reached: Mapped[Reached] = mapped_column(enum_column(Reached))
    relative_relation: Mapped[str] = mapped_column(String(32), default="")
    relative_phone: Mapped[str | None] = mapped_column(Protected)
    failure_reason: Mapped[FailureReason | None] = mapped_column(enum_column(FailureReason))
    #: When the contact happened (the officer may log it afterwards); reports count by this time.
    contacted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    outcome: Mapped[Outcome | None] = mapped_column(enum_column(Outcome))
    amount_dissuaded: Mapped[Decimal | None] = mapped_column(Money)
    amount_defrauded: Mapped[Decimal | None] = mapped_column(Money)
    defrauded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    fraud_type: Mapped[FraudType | None] = mapped_column(enum_column(FraudType))
    app_status: Mapped[AppStatus | None] = mapped_column(enum_column(AppStatus))
    note: Mapped[str] = mapped_column(FreeText, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)

    case: Mapped[Case] = relationship(back_populates="contacts")
    officer: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<Contact {self.method.value} {self.reached.value} on case {self.case_id}>"

    @property
    def relative_phone_masked(self) -> str:
        return mask_phone(self.relative_phone)

    @property
    def succeeded(self) -> bool:
        return self.reached != Reached.NONE
