"""What the database knows of the keys: one verifier per key, so a host with other keys is refused (keycheck.py)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..core.dbtypes import UTCDateTime
from ..core.timeutil import now
from ..extensions import db


class KeyCheck(db.Model):
    """A key's verifier (an HMAC of a fixed text under the key: it tells whether a host holds the same key, and
    nothing of the key), written by the first process that started with it."""

    __tablename__ = "key_checks"

    #: Which key: PII_INDEX_KEY, or PII_KEYS:<key id>.
    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    verifier: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
