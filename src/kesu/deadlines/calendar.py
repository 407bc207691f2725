"""China's working-day calendar (pure).

Working days follow the State Council's yearly holiday schedule, including the
make-up working days (调休上班日) that fall on weekends. The `holidays` package
carries the published schedules; operators add or replace years through
overrides. A year whose schedule the calendar does not hold is *estimated*:
its fixed and lunar holidays are known, its make-up days are not.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

import holidays
from holidays.countries.china import ChinaStaticHolidays


@dataclass(frozen=True)
class YearOverride:
    """An operator's data for one year.

    `official=True` means the file carries the complete published schedule of
    the year: it replaces the package's data and the year is no longer
    estimated. Otherwise its dates are added on top of the package's.
    """

    year: int
    official: bool = False
    holidays: Mapping[date, str] = field(default_factory=dict)
    workdays: Mapping[date, str] = field(default_factory=dict)
    source: str = ""

    def as_json(self) -> dict:
        return {
            "year": self.year,
            "official": self.official,
            "holidays": {d.isoformat(): n for d, n in sorted(self.holidays.items())},
            "workdays": {d.isoformat(): n for d, n in sorted(self.workdays.items())},
            "source": self.source,
        }


@lru_cache(maxsize=256)
def _package_year(year: int) -> tuple[dict[date, str], dict[date, str]]:
    cn = holidays.China(years=year, language="zh_CN")
    rest = {d: str(n) for d, n in cn.items() if d.year == year}
    work = {d: "调休上班" for d in cn.weekend_workdays if d.year == year}
    return rest, work


def package_published_years() -> frozenset[int]:
    """Years whose official schedule the `holidays` package holds."""
    last = max(ChinaStaticHolidays.special_public_holidays)
    return frozenset(range(2001, last + 1))


@dataclass(frozen=True)
class DayInfo:
    day: date
    working: bool
    name: str | None
    estimated: bool


class WorkCalendar:
    """Answers whether a date is a working day and counts working days."""

    def __init__(self, overrides: Iterable[YearOverride] = ()) -> None:
        self._overrides = {o.year: o for o in overrides}
        self._published = package_published_years() | {
            y for y, o in self._overrides.items() if o.official
        }
        self._years: dict[int, tuple[dict[date, str], dict[date, str]]] = {}
        self.version = self._compute_version()

    def _compute_version(self) -> str:
        digest = hashlib.sha256(
            json.dumps(
                [o.as_json() for _, o in sorted(self._overrides.items())], ensure_ascii=False
            ).encode()
        ).hexdigest()[:10]
        return f"cn-holidays-{holidays.__version__}+{digest}"

    @property
    def overrides(self) -> list[YearOverride]:
        return [o for _, o in sorted(self._overrides.items())]

    def _year(self, year: int) -> tuple[dict[date, str], dict[date, str]]:
        cached = self._years.get(year)
        if cached is not None:
            return cached
        override = self._overrides.get(year)
        if override is not None and override.official:
            rest, work = dict(override.holidays), dict(override.workdays)
        else:
            base_rest, base_work = _package_year(year)
            rest, work = dict(base_rest), dict(base_work)
            if override is not None:
                for d, n in override.holidays.items():
                    rest[d] = n
                    work.pop(d, None)
                for d, n in override.workdays.items():
                    work[d] = n
                    rest.pop(d, None)
        self._years[year] = (rest, work)
        return rest, work

    def is_estimated(self, year: int) -> bool:
        return year not in self._published

    def is_working_day(self, day: date) -> bool:
        rest, work = self._year(day.year)
        if day in work:
            return True
        return day.weekday() < 5 and day not in rest

    def day_info(self, day: date) -> DayInfo:
        rest, work = self._year(day.year)
        name = work.get(day) or rest.get(day)
        return DayInfo(day, self.is_working_day(day), name, self.is_estimated(day.year))

    def next_working_day(self, day: date) -> date:
        """The first working day on or after `day`."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after `start` (the start day itself is not counted).

        With n == 0 the answer is `start` itself.
        """
        if n < 0:
            raise ValueError("n must not be negative")
        day = start
        remaining = n
        while remaining:
            day += timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return day

    def estimated_between(self, first: date, last: date) -> bool:
        return any(self.is_estimated(y) for y in range(first.year, last.year + 1))

    def year_days(self, year: int) -> list[DayInfo]:
        day = date(year, 1, 1)
        out = []
        while day.year == year:
            out.append(self.day_info(day))
            day += timedelta(days=1)
        return out
