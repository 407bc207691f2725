"""What a KPI's figures are read from (pure): per-day counts, per-day hours, per-province counts.

A registered KPI function (registry.py) returns one of these tallies, filled by the query
that reads its rows; `report` turns it into the KPI's result over the period (value,
numerator, denominator, the previous period's value) and its trend per bucket (a day, or a
week for long periods). Each tally reports in the units it can (`units`). Imports no
database, no framework and no clock.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar, Protocol

from kesu.reports.arithmetic import mean, percentile, rate_trend
from kesu.reports.definitions import Kpi
from kesu.reports.periods import Bucket, dates
from kesu.reports.subscribers import Subscribers, region_rows, total_per_10k

Result = tuple[dict[str, Any], list[dict[str, Any]]]


@dataclass(frozen=True)
class Period:
    """The period reported (Beijing dates, both included), the previous one, the trend's
    buckets, the region asked for and the subscriber base."""

    start: date
    end: date
    previous: tuple[date, date]
    buckets: Sequence[Bucket]
    region: str | None
    subscribers: Subscribers


class Tally(Protocol):
    units: ClassVar[frozenset[str]]

    def report(self, kpi: Kpi, period: Period) -> Result: ...


class Daily:
    """A rate: (numerator, denominator) per day."""

    units: ClassVar[frozenset[str]] = frozenset({"rate"})

    def __init__(self) -> None:
        self.days: dict[date, list[float]] = defaultdict(lambda: [0.0, 0.0])

    def add(self, day: date, num: float, den: float) -> None:
        cell = self.days[day]
        cell[0] += num
        cell[1] += den

    def total(self, start: date, end: date) -> tuple[float, float]:
        num = den = 0.0
        for day, (n, m) in self.days.items():
            if start <= day <= end:
                num += n
                den += m
        return num, den

    def per_day(self) -> dict[date, tuple[float, float]]:
        return {d: (n, m) for d, (n, m) in self.days.items()}

    def report(self, kpi: Kpi, period: Period) -> Result:
        num, den = self.total(period.start, period.end)
        previous = kpi.value(*self.total(*period.previous))
        result = kpi.result(int(num), int(den), kpi.value(num, den), previous)
        return result, rate_trend(kpi, self.per_day(), period.buckets)


def _with_trend(
    kpi: Kpi, figures: Callable[[date, date], tuple[Any, Any, float | None]], period: Period
) -> Result:
    """The KPI over the period, its value per bucket, and the previous period's value."""
    num, den, value = figures(period.start, period.end)
    trend = [
        {"date": b.start.isoformat(), "to": b.end.isoformat()}
        | dict(zip(("numerator", "denominator", "value"), figures(b.start, b.end), strict=True))
        for b in period.buckets
    ]
    return kpi.result(num, den, value, figures(*period.previous)[2]), trend


class Hours:
    """Durations in hours per day: their mean, or a percentile (params.percentile), with the
    total hours as the numerator of the mean."""

    units: ClassVar[frozenset[str]] = frozenset({"hours"})

    def __init__(self) -> None:
        self.days: dict[date, list[float]] = defaultdict(list)

    def report(self, kpi: Kpi, period: Period) -> Result:
        pct = kpi.params.get("percentile")
        table = self.days

        def hours_in(a: date, b: date) -> list[float]:
            return [h for d in dates(a, b) for h in table.get(d, ())]

        def figures(a: date, b: date) -> tuple[float | None, int, float | None]:
            values = hours_in(a, b)
            value = mean(values) if pct is None else percentile(values, pct)
            return (round(math.fsum(values), 2) if pct is None else None), len(values), value

        return _with_trend(kpi, figures, period)


class PerProvince:
    """Complaints per day and customer province, for a rate per 10,000 subscribers; and per
    province (and city, with a region) over the period, for the table by region."""

    units: ClassVar[frozenset[str]] = frozenset({"per_10k"})

    def __init__(self, start: date, end: date, by_city: bool) -> None:
        self.start, self.end, self.by_city = start, end, by_city
        self.days: dict[date, dict[str | None, int]] = defaultdict(lambda: defaultdict(int))
        self.places: dict[tuple[str | None, str | None], int] = defaultdict(int)

    def add(self, day: date, province: str | None, city: str | None, n: int) -> None:
        if not n:
            return
        self.days[day][province] += n
        if self.start <= day <= self.end:
            self.places[(province, None)] += n
            if self.by_city:
                self.places[(province, city)] += n

    def _base(self, period: Period) -> Subscribers:
        subs = period.subscribers
        if period.region is None:
            return subs
        return Subscribers({k: v for k, v in subs.provinces.items() if k == period.region})

    def report(self, kpi: Kpi, period: Period) -> Result:
        per = int(kpi.params["per"])
        subs = self._base(period)

        def figures(a: date, b: date) -> tuple[int, float, float | None]:
            acc: dict[str | None, int] = defaultdict(int)
            for d in dates(a, b):
                for province, n in self.days.get(d, {}).items():
                    acc[province] += n
            return total_per_10k(subs, acc, a, b, per)

        return _with_trend(kpi, figures, period)

    def regions(self, kpi: Kpi, period: Period) -> list[dict[str, Any]]:
        """万户投诉率 by province (or, with a region, the province and its cities)."""
        per = int(kpi.params["per"])
        return region_rows(
            period.subscribers, self.places, period.start, period.end, period.region, per
        )
