"""The login policy (ASVS 2.2, MLPS 8.1.4.1): lockout after repeated failures, a per-IP throttle, TOTP.

Failures are counted in the database, so the limits hold across gunicorn workers and restarts: a known
account in users.failed_logins / locked_until, an unknown name and an IP address through the audit trail's
login_failed events. An unknown name gets exactly the answers a real account gets.
Operations flush and log; the view commits.
"""
import datetime as dt
import enum

import pyotp
import segno
from flask import current_app
from markupsafe import Markup
from sqlalchemy import func, select

from ..core.auditlog import AuditEvent, record
from ..core.enums import Role
from ..core.timeutil import now
from ..extensions import db
from .models import User
from .passwords import verify_password

LOCK_AFTER = 5
LOCK_FOR = dt.timedelta(minutes=15)
#: Failed logins from one IP address within IP_WINDOW before that address must wait (config LOGIN_IP_MAX_FAILURES).
IP_MAX_FAILURES = 20
IP_WINDOW = dt.timedelta(minutes=10)
#: Roles that must use a second factor; everyone else may enrol.
TOTP_ROLES = (Role.ADMIN, Role.CENTER)
TOTP_ISSUER = "预警劝阻"


class LoginStatus(enum.Enum):
    OK = "ok"
    WRONG = "wrong"
    LOCKED = "locked"
    THROTTLED = "throttled"


def _failures_since(since: dt.datetime, **where) -> int:
    stmt = select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "login_failed", AuditEvent.at >= since, *[getattr(AuditEvent, k) == v
                                                                       for k, v in where.items()])
    return db.session.scalar(stmt)


def ip_throttled(ip: str) -> bool:
    """Too many failed logins from this address lately (credential stuffing, password spraying)."""
    limit = current_app.config.get("LOGIN_IP_MAX_FAILURES", IP_MAX_FAILURES)
    return bool(ip) and _failures_since(now() - IP_WINDOW, ip=ip) >= limit


def is_locked(user: User | None, username: str) -> bool:
    """A known account until locked_until; an unknown name after as many recent failures as would lock one."""
    if user is None:
        return _failures_since(now() - LOCK_FOR, object_type="username", object_id=username[:64]) >= LOCK_AFTER
    if user.locked_until is not None and user.locked_until <= now():
        user.failed_logins, user.locked_until = 0, None  # the lock has run out: a fresh count
    return user.locked_until is not None


def record_failure(user: User | None, username: str, reason: str) -> None:
    """Count a failed attempt (password or second factor); the LOCK_AFTER-th locks the account."""
    if user is None:
        record("login_failed", "username", username[:64], success=False, reason=reason)
        return
    record("login_failed", "user", user.id, success=False, user=user, reason=reason)
    user.failed_logins += 1
    if user.failed_logins >= LOCK_AFTER:
        user.locked_until = now() + LOCK_FOR
        record("account_locked", "user", user.id, success=False, user=user, until=user.locked_until.isoformat())
    db.session.flush()


def check_password(username: str, password: str, ip: str) -> tuple[LoginStatus, User | None]:
    """First step of a login. The password is always verified, so every answer takes as long."""
    username = username.strip()
    if ip_throttled(ip):
        record("login_throttled", "username", username[:64], success=False)
        return LoginStatus.THROTTLED, None
    user = db.session.scalar(select(User).filter_by(username=username))
    ok = verify_password(user.password_hash if user else None, password)
    if is_locked(user, username):
        record("login_failed", "user" if user else "username", user.id if user else username[:64], success=False,
               reason="locked")
        return LoginStatus.LOCKED, None
    if not ok or user is None or not user.active:
        record_failure(user if user is not None and user.active else None, username, "password")
        return LoginStatus.WRONG, None
    return LoginStatus.OK, user


def needs_second_factor(user: User) -> bool:
    return user.totp_secret is not None or user.role in TOTP_ROLES


def totp_ok(secret: str, code: str) -> bool:
    """A 6-digit code for now, or the 30 s step either side (phone clocks drift)."""
    code = (code or "").strip().replace(" ", "")
    return code.isdigit() and pyotp.TOTP(secret).verify(code, for_time=now(), valid_window=1)


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, user: User) -> str:
    """The otpauth:// URI authenticator apps accept (typed in or scanned from one's own QR tool)."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=TOTP_ISSUER)


def totp_qr_svg(uri: str) -> Markup:
    """The otpauth:// URI as a QR code, drawn here as inline SVG (no outside service, nothing fetched), for the
    authenticator app's camera."""
    return Markup(segno.make(uri, error="m").svg_inline(scale=5, border=2, dark="#000", light="#fff",
                                                        title=TOTP_ISSUER))


def enrol_totp(user: User, secret: str) -> None:
    """Turn the second factor on with a secret the user has just proven to hold."""
    user.totp_secret = secret
    record("totp_enrol", "user", user.id, user=user)
    db.session.flush()


def complete_login(user: User) -> None:
    """Both factors passed: reset the failure count and write the login event."""
    user.failed_logins, user.locked_until = 0, None
    user.last_login_at = now()
    record("login", "user", user.id, user=user)
    db.session.flush()
