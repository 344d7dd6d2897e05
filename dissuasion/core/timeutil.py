"""Time: stored in UTC, shown in Asia/Shanghai. `now()` is the one clock, so tests can freeze it."""
import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

UTC = dt.UTC
SHANGHAI = ZoneInfo("Asia/Shanghai")


#: Set by tests (freeze()) to stop the clock; None in production.
_frozen: dt.datetime | None = None


#: The years a date someone types may name: outside them it is a typing mistake (and a date of year 1 or 9999 cannot
#: even be moved between time zones or given its next day: a server error).
FIRST_YEAR, LAST_YEAR = 2000, 2099


def typed_day(text: str) -> dt.date:
    """A day typed as 2026-11-16, in FIRST_YEAR..LAST_YEAR; ValueError otherwise."""
    return within_years(dt.date.fromisoformat(text))


def typed_time(text: str) -> dt.datetime:
    """A time typed as 2026-11-16T09:30 or 2026-11-16 09:30 (Asia/Shanghai), or ISO 8601 with an offset, as aware
    UTC, in FIRST_YEAR..LAST_YEAR; ValueError otherwise."""
    at = within_years(dt.datetime.fromisoformat(text.strip().replace(" ", "T")))
    return from_local(at) if at.tzinfo is None else at.astimezone(UTC)


def within_years(value):
    """The date or time itself when its year is in FIRST_YEAR..LAST_YEAR; ValueError otherwise."""
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"{value.year} is out of range")
    return value


def now() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    return _frozen if _frozen is not None else dt.datetime.now(UTC)


def freeze(at: dt.datetime | None) -> None:
    """Stop the clock at `at` (aware), or restart it with None. For tests and benchmarks."""
    global _frozen
    if at is not None and at.tzinfo is None:
        raise ValueError("freeze() needs an aware datetime")
    _frozen = at


def local(value: dt.datetime | None) -> dt.datetime | None:
    """A stored time as Asia/Shanghai wall-clock time, for display."""
    return value.astimezone(SHANGHAI) if value else None


def from_local(value: dt.datetime) -> dt.datetime:
    """A naive Asia/Shanghai time (what people type and what files carry) as aware UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=SHANGHAI)
    return value.astimezone(UTC)


class UTCDateTime(TypeDecorator):
    """Stores naive UTC on every database; hands back aware UTC datetimes."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; use timeutil.now() or from_local()")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return value.replace(tzinfo=UTC) if value is not None else None

    def bulk_bind_processor(self, dialect):
        """process_bind_param and SQLite's own DATETIME text in one step per value, for a bulk insert (core/bulk.py,
        which runs it once per distinct value): the same text SQLAlchemy writes ('2026-12-06 08:00:00.000000').
        None elsewhere (the driver takes the datetime)."""
        if dialect.name != "sqlite":
            return None
        bind = self.process_bind_param
        return lambda value: bind(value, dialect).isoformat(" ", "microseconds")


def end_of_today(at: dt.datetime | None = None) -> dt.datetime:
    """Midnight at the end of today in Asia/Shanghai (the officers' day), as aware UTC: what is due before it is
    due today."""
    day = local(at or now()).date() + dt.timedelta(days=1)
    return from_local(dt.datetime.combine(day, dt.time()))
