"""Reading a posted form (a MultiDict or the API's JSON) field by field, collecting one message per field."""
from __future__ import annotations

from collections.abc import Mapping

from flask_babel import gettext as _

#: The largest id or page number a request may name: what an INTEGER column holds on PostgreSQL. A larger one names
#: no row, and SQLite cannot even compare it (OverflowError: a 500).
MAX_WHOLE = 2**31 - 1


def whole(value) -> int:
    """A whole number from 0 to MAX_WHOLE; ValueError otherwise. As `type=` of request.args.get, a number out of
    range is taken as not given (the default)."""
    number = int(value)
    if not 0 <= number <= MAX_WHOLE:
        raise ValueError(value)
    return number


def id_of(value) -> int | None:
    """An id from a form or query field; None when there is none (missing, not a number, out of range)."""
    try:
        return whole(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def text_of(data: Mapping, key: str) -> str:
    """The field's text, stripped; '' when it is missing."""
    value = data.get(key)
    return "" if value is None else str(value).strip()


def choice(data: Mapping, key: str, enum_cls, errors: dict, required: str | None = None):
    """An enum member by its key; '' is None, or an error when `required` (the message) is given."""
    value = text_of(data, key)
    if not value:
        if required:
            errors[key] = required
        return None
    if value not in enum_cls._value2member_map_:
        errors[key] = _("“%(v)s”不是可选的值。", v=value[:40])
        return None
    return enum_cls(value)
