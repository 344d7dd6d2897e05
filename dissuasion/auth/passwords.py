"""Password hashing (argon2id with argon2-cffi's defaults, above ASVS's minimum) and the password rule."""
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import gettext as _

MIN_LENGTH = 12
_hasher = PasswordHasher()
#: Verified against when the user is unknown, so an unknown name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password-0000")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str, username: str) -> str | None:
    """Why a new password is not acceptable, in words the user can act on; None if it is fine."""
    if len(password) < MIN_LENGTH:
        return _("密码至少需要 %(n)d 个字符。", n=MIN_LENGTH)
    if password.strip().lower() == username.strip().lower():
        return _("密码不能与用户名相同。")
    return None
