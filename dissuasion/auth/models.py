"""Users with their role and precinct, and API tokens that act as a user."""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.dbtypes import UTCDateTime, enum_column
from ..core.enums import Role
from ..core.timeutil import now
from ..extensions import db
from ..privacy.pii import Protected

if TYPE_CHECKING:
    from ..directory.models import Precinct


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64), default="")
    role: Mapped[Role] = mapped_column(enum_column(Role))
    #: Leads and officers belong to one precinct; center staff and admins to none.
    precinct_id: Mapped[int | None] = mapped_column(ForeignKey("precincts.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    #: argon2id hash; None for accounts that have no password yet (community officers loaded from the directory).
    password_hash: Mapped[str | None] = mapped_column(String(255))
    must_change_password: Mapped[bool] = mapped_column(default=False)
    #: Part of the login session; raising it ends every session of this user (logout, password change).
    session_version: Mapped[int] = mapped_column(default=1)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: The TOTP seed, encrypted like ID and phone numbers: a copy of the database must not hand out second factors.
    totp_secret: Mapped[str | None] = mapped_column(Protected())
    #: The TOTP time step (30 s) of the last code accepted: a code is good for one login only.
    totp_last_step: Mapped[int | None]
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)

    precinct: Mapped[Precinct | None] = relationship()

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role.value}>"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def label(self) -> str:
        return self.display_name or self.username


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    #: The token acts with this user's role and precinct.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: sha256 of the token; the token itself is shown once and never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=now)
    #: The token stops working then (90 days after creation unless chosen otherwise).
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: The address it was last used from; a use from another one is written to the audit log.
    last_used_ip: Mapped[str] = mapped_column(String(64), default="")
    revoked: Mapped[bool] = mapped_column(default=False)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    def usable(self, at: dt.datetime) -> bool:
        """Not revoked, not expired, and its user still in use."""
        return not self.revoked and (self.expires_at is None or self.expires_at > at) and self.user.active

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<ApiToken {self.name} of user {self.user_id}>"
