"""API tokens: created for a user (shown once, only the sha256 kept) and looked up from the bearer header."""
from __future__ import annotations

import hashlib
import secrets
from typing import TYPE_CHECKING

from sqlalchemy import select

from ..auth.models import ApiToken
from ..core.auditlog import record
from ..core.timeutil import now
from ..extensions import db

if TYPE_CHECKING:
    from ..auth.models import User

MAX_NAME = 64


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(user: User, name: str, by: User | None = None) -> str:
    """A new token acting as `user`; returns the token itself, which is stored nowhere."""
    token = secrets.token_urlsafe(32)
    row = ApiToken(name=name[:MAX_NAME], user_id=user.id, token_hash=digest(token))
    db.session.add(row)
    db.session.flush()
    record("api_token_create", "api_token", row.id, user=by, for_user=user.username, name=row.name)
    return token


def token_user(header: str) -> User | None:
    """The active user of a valid, unrevoked `Bearer …` header (its last use noted), or None."""
    scheme, _sep, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    row = db.session.scalar(select(ApiToken).filter_by(token_hash=digest(token.strip()), revoked=False))
    if row is None or not row.user.active:
        return None
    row.last_used_at = now()
    return row.user
