"""Column types shared by the models: enums by key, money in yuan, UTC times (protected numbers: privacy.pii)."""
from sqlalchemy import JSON, Enum, Numeric

from .timeutil import UTCDateTime  # noqa: F401

#: Yuan with two decimals, read back as Decimal; never float (STYLE habit 6).
Money = Numeric(14, 2, asdecimal=True)

#: Small structured values (flags, lists of days, report snapshots).
Json = JSON()


def enum_column(enum_cls):
    """Enums are stored by their SPEC key (e.g. 'extra_high'), as plain strings on every database."""
    return Enum(enum_cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e],
                validate_strings=True)
