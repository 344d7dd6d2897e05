"""Reading a posted form (a MultiDict or the API's JSON) field by field, collecting one message per field."""
from __future__ import annotations

from collections.abc import Mapping

from flask_babel import gettext as _


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
