"""Report weeks: ISO weeks, Monday 00:00 to the next Monday 00:00, Asia/Shanghai (SPEC "The weekly report")."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from ..core.timeutil import FIRST_YEAR, LAST_YEAR, SHANGHAI, UTC, now

WEEK_RE = re.compile(r"^(\d{4})-W(\d{2})$")


class WeekError(ValueError):
    """A week or period that cannot be read; the message says what was expected."""


@dataclass(frozen=True)
class Period:
    """A half-open span [start, end) of aware UTC times; `label` names it (2026-W47, or 2026-11-16..2026-11-22)."""

    label: str
    start: dt.datetime
    end: dt.datetime


def week_period(week: str) -> Period:
    """The period of an ISO week key such as 2026-W47."""
    match = WEEK_RE.match(week or "")
    if not match:
        raise WeekError(f"周次格式应为 2026-W47：{week!r}")
    if not FIRST_YEAR <= int(match[1]) <= LAST_YEAR:
        raise WeekError(f"没有这一周：{week}（年份应在 {FIRST_YEAR} 至 {LAST_YEAR} 之间）")
    try:
        monday = dt.date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError as exc:
        raise WeekError(f"没有这一周：{week}") from exc
    return days_period(monday, monday + dt.timedelta(days=6), label=week)


def days_period(first: dt.date, last: dt.date, label: str | None = None) -> Period:
    """Whole Asia/Shanghai days from `first` to `last`, both included."""
    if last < first:
        raise WeekError("结束日期早于开始日期。")
    start = dt.datetime.combine(first, dt.time(), SHANGHAI).astimezone(UTC)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), SHANGHAI).astimezone(UTC)
    return Period(label or f"{first.isoformat()}..{last.isoformat()}", start, end)


def week_of(at: dt.datetime) -> str:
    """The ISO week key of the Asia/Shanghai day `at` falls on."""
    year, week, _ = at.astimezone(SHANGHAI).isocalendar()
    return f"{year}-W{week:02d}"


def previous_week(week: str) -> str:
    """The week before: 2026-W01 -> 2025-W52 (or W53)."""
    return week_of(week_period(week).start - dt.timedelta(days=1))


def last_complete_week(at: dt.datetime | None = None) -> str:
    """The most recent week that has ended (on a Monday, the week that ended at midnight)."""
    return previous_week(week_of(at or now()))


def recent_weeks(count: int, at: dt.datetime | None = None) -> list[str]:
    """The last `count` complete weeks, newest first, for the week picker."""
    weeks = [last_complete_week(at)]
    while len(weeks) < count:
        weeks.append(previous_week(weeks[-1]))
    return weeks
