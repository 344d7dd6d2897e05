"""ID and phone numbers: normalise, validate, store, match, mask. The one place that touches them.

Stored values go through the `Protected` column type and are matched through `blind_index()`,
so encrypting them at rest changes this module only.
"""
import datetime as dt
import hashlib
import hmac
import re
import unicodedata

from flask import current_app
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

from .enums import DataFlag

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{9,11}$")
_PHONE_JUNK = re.compile(r"[\s\-()（）.]")
_SCIENTIFIC = re.compile(r"^\d(\.\d+)?E\+\d+$")


def clean_text(value) -> str:
    """Fold full-width characters (digits, letters, spaces) to ASCII and strip; None becomes ''."""
    if value is None:
        return ""
    text = str(value)
    if text.isascii():
        return text.strip()
    return unicodedata.normalize("NFKC", text).strip()


def normalize_id(value) -> str:
    """The ID number as it should be written: no spaces, upper-case X, full-width folded."""
    text = clean_text(value).replace(" ", "").upper()
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    return text


def id_check_digit(body17: str) -> str:
    """GB 11643 check character for the first 17 digits."""
    return ID_CHECK[sum(int(c) * w for c, w in zip(body17, ID_WEIGHTS, strict=True)) % 11]


def id_problem(number: str, today: dt.date | None = None) -> DataFlag | None:
    """Why a normalised ID number is invalid, or None. Area codes are deliberately not judged (SPEC)."""
    # Excel keeps 15 significant digits: an ID typed as a number comes back as 3.39901E+17. (One that
    # ends in 000 may have lost digits too, but a text cell cannot tell that from a mistyped check digit.)
    if _SCIENTIFIC.match(number):
        return DataFlag.ID_LOST_DIGITS
    if len(number) != 18:
        return DataFlag.ID_LENGTH
    if not _ID_SHAPE.match(number):
        return DataFlag.ID_FORMAT
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return DataFlag.ID_BIRTH_DATE
    if birth > (today or dt.date.today()) or birth.year < 1880:
        return DataFlag.ID_BIRTH_DATE
    if id_check_digit(number[:17]) != number[17]:
        return DataFlag.ID_CHECKSUM
    return None


def normalize_phone(value) -> str:
    """Digits of a phone number without spaces, dashes, brackets or a +86 / 0086 prefix."""
    text = clean_text(value)
    if text.endswith(".0") and text[:-2].isdigit():  # a number cell read as float
        text = text[:-2]
    text = _PHONE_JUNK.sub("", text)
    for prefix in ("+86", "0086"):
        if text.startswith(prefix):
            text = text[len(prefix):]
    if text.startswith("86") and len(text) == 13:
        text = text[2:]
    return text


def phone_valid(number: str) -> bool:
    """A mainland mobile number, or a landline with its area code."""
    return bool(_MOBILE.match(number) or _LANDLINE.match(number))


def mask_id(number: str | None) -> str:
    """3399**********123X: enough to tell two people apart on a list, not enough to misuse."""
    if not number:
        return ""
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_phone(number: str | None) -> str:
    """138****5678."""
    if not number:
        return ""
    if len(number) <= 7:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


def blind_index(kind: str, value: str) -> str:
    """A keyed hash for exact lookup and matching, so the plain number is never needed to search."""
    key = current_app.config["PII_INDEX_KEY"].encode()
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:40]


def person_match_key(id_number: str, id_ok: bool, name: str, phone: str, address: str) -> str:
    """Who a row is: the valid ID number; else name + phone; else name + address (SPEC "Person")."""
    if id_number and id_ok:
        return "i" + blind_index("id", id_number)
    if phone:
        return "p" + blind_index("name-phone", f"{name}|{phone}")
    return "a" + blind_index("name-address", f"{name}|{address}")


class Protected(TypeDecorator):
    """Column type for ID and phone numbers. Plain text for now; encryption at rest goes here."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return value

    def process_result_value(self, value, dialect):
        return value
