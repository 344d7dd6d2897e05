"""Pushes (推送批次) from the center and the row-level errors found in them."""
from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.dbtypes import Json, UTCDateTime, enum_column
from ..core.enums import WarningSource
from ..core.timeutil import now
from ..extensions import db
from ..privacy.pii import decrypt
from .rows import said

if TYPE_CHECKING:
    from ..auth.models import User

#: The counters a push keeps; also the keys of the import summary (SPEC "Fixed points").
COUNTERS = ("rows_total", "imported", "flagged", "rejected", "duplicates", "unrouted", "persons_created",
            "cases_created", "cases_updated", "cases_escalated")


class Push(db.Model):
    __tablename__ = "pushes"

    id: Mapped[int] = mapped_column(primary_key=True)
    file_name: Mapped[str] = mapped_column(String(255))
    #: sha256 of the file's bytes: the same file twice is recognised and changes nothing.
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[WarningSource] = mapped_column(enum_column(WarningSource), default=WarningSource.PUSH)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now, index=True)
    #: Excel row number of the header, and how each column was understood.
    header_row: Mapped[int | None]
    column_map: Mapped[dict] = mapped_column(Json, default=dict)
    #: The header row as written, in file order: the error report puts the original rows back under it.
    headers: Mapped[list] = mapped_column(Json, default=list)
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    flagged: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    unrouted: Mapped[int] = mapped_column(Integer, default=0)
    persons_created: Mapped[int] = mapped_column(Integer, default=0)
    cases_created: Mapped[int] = mapped_column(Integer, default=0)
    cases_updated: Mapped[int] = mapped_column(Integer, default=0)
    cases_escalated: Mapped[int] = mapped_column(Integer, default=0)

    uploaded_by: Mapped[User | None] = relationship()
    errors: Mapped[list[PushRowError]] = relationship(back_populates="push", order_by="PushRowError.row_number")

    def __repr__(self) -> str:
        return f"<Push {self.id} {self.file_name}>"

    def summary(self) -> dict:
        return {name: getattr(self, name) for name in COUNTERS}

    def mapping(self) -> list[tuple[str, str]]:
        """(header in the file, our field) for each column understood."""
        return [(header, label) for label, header in (self.column_map or {}).items()]

    def unknown_headers(self) -> list[str]:
        """Headers of the file no field matched (their cells were ignored)."""
        written = (self.column_map or {}).values()  # a field read from two columns names both: 预警原因、预警来源
        known = set(written).union(*(h.split("、") for h in written))
        return [h for h in self.headers or [] if h and h not in known]


class PushRowError(db.Model):
    """A rejected or flagged row, with the original cells so staff can fix and re-import it."""

    __tablename__ = "push_row_errors"

    id: Mapped[int] = mapped_column(primary_key=True)
    push_id: Mapped[int] = mapped_column(ForeignKey("pushes.id"), index=True)
    #: The row number as the user sees it in Excel.
    row_number: Mapped[int]
    #: The column's header as written in the file.
    column: Mapped[str] = mapped_column(String(100), default="")
    #: rejected or flagged
    verdict: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    #: What writes the message again in the reader's language (imports.rows.spec: its key and values); None for a
    #: row stored before it was kept (its Chinese message is shown).
    say: Mapped[dict | None] = mapped_column(Json)
    #: The original cells of the row, in file order, encrypted ({"enc": …}: they hold ID and phone numbers).
    raw: Mapped[dict] = mapped_column(Json, default=dict)

    push: Mapped[Push] = relationship(back_populates="errors")

    def __repr__(self) -> str:
        return f"<PushRowError push {self.push_id} row {self.row_number} {self.code}>"

    @property
    def text(self) -> str:
        """The message in the reader's language."""
        return said(self.say, self.message)

    @property
    def cells(self) -> list[str]:
        """The original cells, decrypted (for the error report staff fix and re-import)."""
        return json.loads(decrypt(self.raw["enc"])) if isinstance(self.raw, dict) and self.raw.get("enc") else []


class PendingUpload(db.Model):
    """A file uploaded for a preview, waiting for its commit: in the database, so the commit may land on any web
    host and runs on any worker; sealed with the PII key (it is names, ID and phone numbers). Removed on commit and
    after two hours (imports/uploads.py)."""

    __tablename__ = "pending_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The random token the preview's form carries.
    token: Mapped[str] = mapped_column(String(32), unique=True)
    file_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    #: Only this user may commit it.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now, index=True)
    #: The file's bytes, encrypted (privacy.pii.encrypt_bytes).
    data: Mapped[bytes] = mapped_column(LargeBinary)
    #: The preview's judgement of every row, encrypted, so the commit need not read and judge the file again.
    analysis: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: The code's analysis format when it was stored: another version is judged again.
    analysis_version: Mapped[str] = mapped_column(String(40), default="")

    def __repr__(self) -> str:
        return f"<PendingUpload {self.id} {self.file_name}>"
