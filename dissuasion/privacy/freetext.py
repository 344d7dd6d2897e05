"""Numbers typed into free text (notes, reasons, the case timeline): found, stored encrypted, shown masked.

The one mechanism for ID and mobile numbers outside their own columns: an officer's 备注 with the person's
daughter's number, a 移交原因 naming an ID, the import's note of a second phone column. A value holding one is
stored encrypted (`FreeText`, the PII keys, like `Protected`); pages, exports and the API show it through
`mask_numbers` unless the numbers were revealed, which is audited like the person's own numbers.
"""
import re

from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

from .pii import CIPHER_PREFIX, decrypt, encrypt, id_check_digit, mask_id, mask_phone

#: An ID number (18 characters, its check digit right) or a mainland mobile number inside any text, not part of a
#: longer run of digits (a 预警编号 or an account number is not a phone); written as people write them: in groups
#: with spaces or dashes (110105 19491231 002X, 138-0013-8000), a mobile after +86, 0086 or 86, in full-width digits.
_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])\d{6}[ -]?\d{4}[ -]?\d{4}[ -]?\d{3}[ -]?[\dXx](?![0-9A-Za-z])")
_MOBILE_IN_TEXT = re.compile(r"(?<![\d+])(?:(?:\+|00)?86[ -]?)?(1[3-9]\d(?:[ -]?\d){8})(?!\d)")
#: Full-width digits, plus, dash and X as their ASCII selves, one character for one (so positions stay).
_FOLD = str.maketrans("０１２３４５６７８９＋－Ｘｘ\u3000", "0123456789+-Xx ")
_SEPARATORS = str.maketrans("", "", " -")


def numbers_in_text(text: str | None) -> list[tuple[int, int, str]]:
    """(start, end, kind) of each ID number with a valid check digit and each mobile number in a text."""
    if not text:
        return []
    folded = text.translate(_FOLD)
    found = []
    for m in _ID_IN_TEXT.finditer(folded):
        digits = m.group().translate(_SEPARATORS)
        if id_check_digit(digits[:17]) == digits[17].upper():
            found.append((m.start(), m.end(), "id"))
    taken = [(s, e) for s, e, _k in found]
    found += [(m.start(), m.end(), "phone") for m in _MOBILE_IN_TEXT.finditer(folded)
              if not any(s <= m.start() < e or m.start() <= s < m.end() for s, e in taken)]
    return sorted(found)


def mask_numbers(text: str | None) -> str:
    """The text with every ID and mobile number in it masked as in their own fields (3399**********123X,
    138****5678): what a page, an export or the API shows of a note unless its numbers were revealed."""
    if not text:
        return text or ""
    out, at = [], 0
    for start, end, kind in numbers_in_text(text):
        number = _digits(text[start:end], kind)
        out += [text[at:start], mask_id(number) if kind == "id" else mask_phone(number)]
        at = end
    return "".join(out) + text[at:] if out else text


def has_numbers(text: str | None) -> bool:
    return bool(numbers_in_text(text))


class FreeText(TypeDecorator):
    """Column type for text people type (notes, reasons): a value holding an ID or mobile number is stored
    encrypted like the numbers' own columns; any other is stored as written (it stays readable to SQL, and
    costs nothing). Python always sees the plain text; pages show it through mask_numbers unless revealed."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value and (value.startswith(CIPHER_PREFIX) or has_numbers(value)):
            return encrypt(value)
        return value

    def bind_many(self, values: list) -> list:
        """process_bind_param for a whole column of a bulk insert (each ciphertext its own nonce). Whether a text
        holds a number is looked for once per distinct text: a push repeats its few reasons on every row."""
        plain: dict[str, bool] = {}
        out = []
        for value in values:
            if value:
                keep = plain.get(value)
                if keep is None:
                    keep = plain[value] = not (value.startswith(CIPHER_PREFIX) or has_numbers(value))
                if not keep:
                    value = encrypt(value)
            out.append(value)
        return out

    def process_result_value(self, value, dialect):
        return decrypt(value) if value else value


def numbers_of(text: str | None) -> list[str]:
    """The ID and mobile numbers written in a text, as their digits (an ID's x upper-cased; a mobile without +86)."""
    return [_digits(text[start:end], kind) for start, end, kind in numbers_in_text(text)]


def _digits(written: str, kind: str) -> str:
    """A number as found in a text, as its bare characters: 138-0013-8000 and +86 13800138000 are 13800138000."""
    number = written.translate(_FOLD).translate(_SEPARATORS).upper()
    return number[-11:] if kind == "phone" else number


def mask_within(value):
    """mask_numbers over every string in a structure of dicts and lists (a stored sentence's values)."""
    if isinstance(value, str):
        return mask_numbers(value)
    if isinstance(value, dict):
        return {k: mask_within(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_within(v) for v in value]
    return value
