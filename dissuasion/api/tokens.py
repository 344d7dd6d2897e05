"""API tokens: created for a user (shown once, only the sha256 kept) with an expiry, looked up from the bearer
header, revoked by their owner, an admin or the command line. A token used from an address it was not used from
before is written to the audit log; the ending of a user's tokens when an admin resets their password or stops
the account is auth's (auth.operations.revoke_tokens)."""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from functools import cache
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from ..auth.models import ApiToken
from ..auth.operations import UserError, revoke_token
from ..core.auditlog import record
from ..core.timeutil import now
from ..extensions import db

if TYPE_CHECKING:
    from ..auth.models import User

MAX_NAME = 64
#: A token's life unless chosen otherwise at its creation.
DEFAULT_DAYS = 90
#: The longest life a token may be given.
MAX_DAYS = 366

__all__ = ["DEFAULT_DAYS", "MAX_DAYS", "create_api_token", "digest", "revoke_token", "token_user", "tokens_of"]


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(user: User, name: str, by: User | None = None, days: int = DEFAULT_DAYS) -> str:
    """A new token acting as `user` for `days` days; returns the token itself, which is stored nowhere."""
    if not 1 <= days <= MAX_DAYS:
        raise UserError(_("令牌有效期须为 1 到 %(max)d 天。", max=MAX_DAYS))
    token = secrets.token_urlsafe(32)
    row = ApiToken(name=name[:MAX_NAME], user_id=user.id, token_hash=digest(token),
                   expires_at=now() + dt.timedelta(days=days))
    db.session.add(row)
    db.session.flush()
    record("api_token_create", "api_token", row.id, user=by, for_user=user.username, name=row.name,
           expires_at=row.expires_at.isoformat())
    return token


def tokens_of(user: User | None = None) -> list[ApiToken]:
    """A user's tokens (everyone's when None), newest first, revoked and expired ones included (shown as such)."""
    stmt = select(ApiToken).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    if user is not None:
        stmt = stmt.where(ApiToken.user_id == user.id)
    return list(db.session.scalars(stmt))


#: `last_used_at` is written at most this often: writing it on every request made each read a write and a commit.
#: The token's validity is read from its row on every request all the same (a revoked token is refused at once).
LAST_USED_EVERY = dt.timedelta(minutes=1)


@cache
def _by_hash():
    """The token of a hash, with its user: built once, so each request neither builds it nor its cache key again."""
    return select(ApiToken).where(ApiToken.token_hash == bindparam("token_hash")).options(joinedload(ApiToken.user))


def token_user(header: str, ip: str = "") -> User | None:
    """The active user of a valid, unexpired, unrevoked `Bearer …` header (its last use noted, to the minute), or
    None. A use from another address than the last one is audited (a token copied off the pushing system's host
    shows up)."""
    scheme, _sep, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    row = db.session.scalar(_by_hash(), {"token_hash": digest(token.strip())})
    at = now()
    if row is None or not row.usable(at):
        return None
    noted = {}
    if moved := bool(ip and ip != row.last_used_ip):
        noted["last_used_ip"] = ip[:64]
    if row.last_used_at is None or at - row.last_used_at >= LAST_USED_EVERY or at < row.last_used_at:
        noted["last_used_at"] = at
    previous_ip = row.last_used_ip
    if noted and _note_use(row, noted) and moved:  # (skipped: the request that holds the row, or the next, audits)
        record("api_token_new_address", "api_token", row.id, user=row.user, name=row.name, ip=ip,
               previous_ip=previous_ip or None)
    return row.user


def _note_use(row: ApiToken, values: dict) -> bool:
    """Write the token's last use, unless another request holds its row (PostgreSQL: a push with this token holds it
    until it commits): that one writes it, and this request neither waits for it nor is answered busy. Whether it
    was written."""
    free = select(ApiToken.id).where(ApiToken.id == row.id).with_for_update(skip_locked=True).scalar_subquery()
    if not db.session.execute(update(ApiToken).where(ApiToken.id == free).values(**values)).rowcount:
        return False
    for name, value in values.items():
        set_committed_value(row, name, value)
    return True
