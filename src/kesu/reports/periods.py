"""Reporting periods (pure): checks, the previous period, days, trend buckets, spans.

Dates are Beijing dates; a period includes both its first and its last day. Imports no
database, no framework and no clock.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

MAX_PERIOD_DAYS = 366
WEEKLY_AFTER_DAYS = 62


class PeriodError(ValueError):
    """A reporting period that cannot be computed: a stable code and a Chinese detail."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def check_period(start: date, end: date, max_days: int = MAX_PERIOD_DAYS) -> None:
    if start > end:
        raise PeriodError(
            "invalid_period",
            f"起始日期（{start.isoformat()}）不能晚于结束日期（{end.isoformat()}）。",
        )
    days = (end - start).days + 1
    if days > max_days:
        raise PeriodError(
            "period_too_long", f"统计期间最长 {max_days} 天，当前为 {days} 天，请缩短期间。"
        )


def period_days(start: date, end: date) -> int:
    return (end - start).days + 1


def previous_period(start: date, end: date) -> tuple[date, date]:
    """The period of equal length that ends the day before `start`."""
    n = period_days(start, end)
    return start - timedelta(days=n), start - timedelta(days=1)


def dates(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range(period_days(start, end))]


@dataclass(frozen=True)
class Bucket:
    start: date
    end: date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


def trend_unit(start: date, end: date, weekly_after: int = WEEKLY_AFTER_DAYS) -> str:
    return "week" if period_days(start, end) > weekly_after else "day"


def buckets(start: date, end: date, weekly_after: int = WEEKLY_AFTER_DAYS) -> list[Bucket]:
    """One bucket per day; per week (Monday–Sunday, clipped to the period) for long periods."""
    if trend_unit(start, end, weekly_after) == "day":
        return [Bucket(d, d) for d in dates(start, end)]
    out = []
    first = start
    while first <= end:
        last = min(end, first + timedelta(days=6 - first.weekday()))
        out.append(Bucket(first, last))
        first = last + timedelta(days=1)
    return out


# Rest days that can follow the last day of a period and push its end (Spring Festival,
# National Day: up to 8 days off in a row, plus the weekend around them).
HOLIDAY_SLACK_DAYS = 10


def max_span_days(spans: Iterable[tuple[str, int]]) -> int:
    """A bound on the days from a deadline's start to its due time, for (unit, length) rules.

    Hours run from the start; calendar days end at 24:00 of the last day, moved past rest
    days; working days are at most 7/5 as many calendar days, plus the holidays between.
    """
    out = 1
    for unit, length in spans:
        if unit == "hours":
            days = math.ceil(length / 24) + 1
        elif unit == "calendar_days":
            days = length + 1 + HOLIDAY_SLACK_DAYS
        else:
            days = math.ceil(length * 7 / 5) + 2 + HOLIDAY_SLACK_DAYS
        out = max(out, days)
    return out


def month_days(start: date, end: date) -> dict[str, int]:
    """How many days of the period fall in each month ("YYYY-MM" → days)."""
    out: dict[str, int] = {}
    first = start
    while first <= end:
        following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        last = min(end, following - timedelta(days=1))
        out[f"{first.year:04d}-{first.month:02d}"] = (last - first).days + 1
        first = following
    return out
