"""The login policy (ASVS 2.2, MLPS 8.1.4.1): lockout after repeated failures, throttles per address and per
(address, name) that an admin can clear, TOTP codes good once.

Failures are counted in the database, so the limits hold across gunicorn workers and restarts: a known
account in users.failed_logins / locked_until, an unknown name and an IP address through the audit trail's
login_failed events. An unknown name gets exactly the answers a real account gets.
Operations flush and log; the view commits.
"""
import datetime as dt
import enum
import hmac

import pyotp
from flask import current_app
from markupsafe import Markup
from sqlalchemy import func, or_, select, update

from ..core.auditlog import AuditEvent, record
from ..core.enums import Role
from ..core.timeutil import now
from ..extensions import db
from .models import User
from .passwords import verify_password

LOCK_AFTER = 5
LOCK_FOR = dt.timedelta(minutes=15)
#: Failed logins from one address within IP_WINDOW before that address must wait (config LOGIN_IP_MAX_FAILURES).
#: High: a station behind one NAT is dozens of officers, and their mistakes must not stop the others; spraying
#: many names from one address still meets it.
IP_MAX_FAILURES = 200
#: Failed logins for one name from one address within IP_WINDOW before that pair must wait (config
#: LOGIN_IP_USER_MAX_FAILURES): someone guessing one account is stopped without stopping their colleagues. Above
#: LOCK_AFTER, so the account's own lock speaks first; this one keeps holding that address back when the lock
#: has been lifted or has run out while the guessing goes on.
IP_USER_MAX_FAILURES = 2 * LOCK_AFTER
IP_WINDOW = dt.timedelta(minutes=10)
#: Roles that must use a second factor; everyone else may enrol.
TOTP_ROLES = (Role.ADMIN, Role.CENTER)
TOTP_ISSUER = "预警劝阻"


class LoginStatus(enum.Enum):
    OK = "ok"
    WRONG = "wrong"
    LOCKED = "locked"
    THROTTLED = "throttled"


def _failures_since(since: dt.datetime, *where) -> int:
    stmt = select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "login_failed", AuditEvent.at >= since, *where)
    return db.session.scalar(stmt)


def _who(user: User | None, username: str) -> tuple:
    """How a login's failures name the account: by id when it exists, by the name typed when it does not."""
    if user is None:
        return AuditEvent.object_type == "username", AuditEvent.object_id == username[:64]
    return AuditEvent.object_type == "user", AuditEvent.object_id == str(user.id)


#: The smallest step both databases store: failures counted are those strictly after a clearing.
_TICK = dt.timedelta(microseconds=1)


def throttle_cleared_at(ip: str) -> dt.datetime | None:
    """When an admin last cleared this address's throttle (failures before it no longer count)."""
    return db.session.scalar(select(func.max(AuditEvent.at)).where(
        AuditEvent.action == "login_throttle_clear", AuditEvent.object_type == "ip", AuditEvent.object_id == ip[:64]))


def ip_throttled(ip: str, user: User | None = None, username: str = "") -> bool:
    """Too many failed logins from this address lately (credential stuffing, password spraying), or for this name
    from this address (someone guessing one account); counted since the window began or an admin cleared it."""
    if not ip:
        return False
    cleared = throttle_cleared_at(ip)
    since = max(now() - IP_WINDOW, cleared + _TICK if cleared else now() - IP_WINDOW)  # failures after the clearing
    config = current_app.config
    if _failures_since(since, AuditEvent.ip == ip) >= config.get("LOGIN_IP_MAX_FAILURES", IP_MAX_FAILURES):
        return True
    return bool(username) and _failures_since(since, AuditEvent.ip == ip, *_who(user, username)) >= config.get(
        "LOGIN_IP_USER_MAX_FAILURES", IP_USER_MAX_FAILURES)


def throttled_addresses() -> list[dict]:
    """Addresses held back now, for the admin's users page: [{ip, failures, names}], most failures first."""
    since = now() - IP_WINDOW
    rows = db.session.execute(select(AuditEvent.ip, AuditEvent.object_type, AuditEvent.object_id, AuditEvent.at)
                              .where(AuditEvent.action == "login_failed", AuditEvent.at >= since,
                                     AuditEvent.ip != "")).all()
    per_ip: dict[str, list] = {}
    for ip, kind, object_id, at in rows:
        per_ip.setdefault(ip, []).append((kind, object_id, at))
    config = current_app.config
    ip_max = config.get("LOGIN_IP_MAX_FAILURES", IP_MAX_FAILURES)
    pair_max = config.get("LOGIN_IP_USER_MAX_FAILURES", IP_USER_MAX_FAILURES)
    held = []
    for ip, failures in per_ip.items():
        cleared = throttle_cleared_at(ip)
        failures = [f for f in failures if cleared is None or f[2] >= cleared + _TICK]
        per_name: dict[tuple, int] = {}
        for kind, object_id, _at in failures:
            per_name[(kind, object_id)] = per_name.get((kind, object_id), 0) + 1
        names = sorted(_name_of(kind, object_id) for (kind, object_id), n in per_name.items() if n >= pair_max)
        if len(failures) >= ip_max or names:
            held.append({"ip": ip, "failures": len(failures), "names": names, "whole": len(failures) >= ip_max})
    return sorted(held, key=lambda h: -h["failures"])


def _name_of(kind: str, object_id: str) -> str:
    if kind == "user" and object_id.isdigit():
        user = db.session.get(User, int(object_id))
        return user.username if user else object_id
    return object_id


def clear_throttle(ip: str, by: User) -> None:
    """An admin lets an address log in again at once (every name there): its earlier failures stop counting."""
    record("login_throttle_clear", "ip", ip[:64], user=by)
    db.session.flush()


def unlock_account(user: User, by: User) -> bool:
    """An admin lifts an account's lockout without giving it a new password; False when it was not locked."""
    if user.locked_until is None and not user.failed_logins:
        return False
    user.failed_logins, user.locked_until = 0, None
    record("account_unlock", "user", user.id, user=by, username=user.username)
    db.session.flush()
    return True


def is_locked(user: User | None, username: str) -> bool:
    """A known account until locked_until; an unknown name after as many recent failures as would lock one."""
    if user is None:
        return _failures_since(now() - LOCK_FOR, *_who(None, username)) >= LOCK_AFTER
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
    user = db.session.scalar(select(User).filter_by(username=username))
    if ip_throttled(ip, user, username):
        verify_password(None, password)  # as long as any other answer
        record("login_throttled", "username", username[:64], success=False)
        return LoginStatus.THROTTLED, None
    ok = verify_password(user.password_hash if user else None, password)
    if is_locked(user, username):
        record("login_failed", "user" if user else "username", user.id if user else username[:64], success=False,
               reason="locked")
        return LoginStatus.LOCKED, None
    if not ok or user is None or not user.active:
        record_failure(user if user is not None and user.active else None, username, "password")
        return LoginStatus.WRONG, None
    return LoginStatus.OK, user


def second_step_status(user: User, ip: str) -> LoginStatus:
    """Whether a code may be tried now for a login whose password was right: not while the account is locked or
    the address throttled (both may have happened since the password step)."""
    if ip_throttled(ip, user, user.username):
        record("login_throttled", "user", user.id, success=False, user=user, reason="totp")
        return LoginStatus.THROTTLED
    if is_locked(user, user.username):
        record("login_failed", "user", user.id, success=False, user=user, reason="locked")
        return LoginStatus.LOCKED
    return LoginStatus.OK


def needs_second_factor(user: User) -> bool:
    return user.totp_secret is not None or user.role in TOTP_ROLES


def totp_ok(secret: str, code: str, user: User | None = None) -> bool:
    """A 6-digit code for now, or the 30 s step either side (phone clocks drift). Given the user, a code is good
    once: its step must come after the last one this account used, and is then kept (a code seen over a shoulder
    or read off a phishing page cannot log in a second time)."""
    code = (code or "").strip().replace(" ", "")
    if not code.isdigit() or len(code) != 6:
        return False
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now())
    step = next((s for s in (current - 1, current, current + 1)
                 if hmac.compare_digest(totp.generate_otp(s), code)), None)
    if step is None:
        return False
    if user is not None:
        # one conditional UPDATE: two logins with the same code on two web hosts at once cannot both pass (the
        # second waits for the first's row lock, then finds the step used)
        taken = db.session.execute(update(User).where(
            User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step)).values(
            totp_last_step=step).execution_options(synchronize_session=False))
        if taken.rowcount != 1:
            return False
        user.totp_last_step = step
    return True


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, user: User) -> str:
    """The otpauth:// URI authenticator apps accept (typed in or scanned from one's own QR tool)."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=TOTP_ISSUER)


def totp_qr_svg(uri: str) -> Markup:
    """The otpauth:// URI as a QR code, drawn here as inline SVG (no outside service, nothing fetched), for the
    authenticator app's camera."""
    import segno  # only the TOTP page draws a QR code

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
