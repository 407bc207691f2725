"""Time: stored in UTC, computed and shown in Beijing time, read from one injectable clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

from kesu.problems import Problem

BEIJING = ZoneInfo("Asia/Shanghai")
D = TypeVar("D", date, datetime)

# The dates kesu accepts as input (the calendar's years): outside them a date is refused
# with 422, so that date arithmetic near year 9999 never overflows.
DATE_MIN = date(2000, 1, 1)
DATE_MAX = date(2100, 12, 31)
OUT_OF_RANGE = f"日期须在 {DATE_MIN} 至 {DATE_MAX} 之间。"


def in_supported_range(value: date | datetime) -> bool:
    day = value.date() if isinstance(value, datetime) else value
    return DATE_MIN <= day <= DATE_MAX


def supported_date(value: D, field: str) -> D:
    """The date (or time) if kesu supports it, else a 422 Problem naming the field."""
    if not in_supported_range(value):
        raise Problem(
            422, "date_out_of_range", "Date out of range", f"“{field}”超出范围：{OUT_OF_RANGE}"
        )
    return value


Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Aware datetime in UTC; a naive value is taken to be UTC (how SQLite returns it)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def to_beijing(value: datetime) -> datetime:
    return as_utc(value).astimezone(BEIJING)


class FrozenClock:
    """A clock for tests and demos: returns a fixed instant until moved."""

    def __init__(self, now: datetime) -> None:
        self.now = as_utc(now)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        from datetime import timedelta

        self.now = self.now + timedelta(**kwargs)
