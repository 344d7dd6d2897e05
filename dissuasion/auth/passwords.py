"""Password hashing (argon2id with argon2-cffi's defaults, above ASVS's minimum) and the password rule.

The test suite sets PASSWORD_HASH_CHEAP: the same algorithm at its cheapest parameters, so the hundreds of accounts
its tests make and log in cost microseconds instead of a fifth of a second each. Production never sets it (the
default hasher's parameters are checked by a test), and a hash records its own parameters, so either hasher
verifies the other's hashes.
"""
from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context
from flask_babel import gettext as _

MIN_LENGTH = 12
#: argon2-cffi's defaults (RFC 9106's low-memory profile: t=3, m=64 MiB, p=4).
PRODUCTION = PasswordHasher()
#: Tests only (config PASSWORD_HASH_CHEAP): argon2id at its cheapest.
CHEAP = PasswordHasher.from_parameters(profiles.CHEAPEST)
#: Verified against when the user is unknown, so an unknown name costs as long as a wrong password; one per hasher,
#: made when first needed (a hash's cost is in the hash, so the dummy must come from the hasher in use).
_dummy_hashes: dict[int, str] = {}


def _hasher() -> PasswordHasher:
    return CHEAP if has_app_context() and current_app.config.get("PASSWORD_HASH_CHEAP") else PRODUCTION


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    hasher = _hasher()
    if password_hash is None and id(hasher) not in _dummy_hashes:
        _dummy_hashes[id(hasher)] = hasher.hash("not-a-real-password-0000")
    try:
        return hasher.verify(password_hash or _dummy_hashes[id(hasher)], password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str, username: str) -> str | None:
    """Why a new password is not acceptable, in words the user can act on; None if it is fine."""
    if len(password) < MIN_LENGTH:
        return _("密码至少需要 %(n)d 个字符。", n=MIN_LENGTH)
    if password.strip().lower() == username.strip().lower():
        return _("密码不能与用户名相同。")
    return None
