"""The passes KPIs share: one query over the complaints received in the period, one over
those closed in it.

A KPI function adds what it counts to a pass — `received(ask).rate(k, num=..., den=...)`
— and gets an empty tally back; once every KPI function has run, each pass sends its one
query and fills the tallies (registry.Ask.run). However many KPIs count the complaints
received (or closed) in the period, the database reads those rows once. Both passes read
only the rows of the reporting and the previous period, found through the indexed time
column, narrowed by what every population asking implies, in the caller's scope.
"""

from __future__ import annotations

import functools
import operator
from collections import defaultdict
from collections.abc import Callable, Collection
from datetime import date
from typing import Any

from sqlalchemy import Connection, case, select

from kesu.reports.definitions import Kpi, Population
from kesu.reports.queries import C, common, day_of, millis, to_date, where
from kesu.reports.registry import Ask, Pass
from kesu.reports.tallies import Daily, Hours, PerProvince

Fill = Callable[[date, Any], None]
Unless = Callable[[Connection], set[int]]


def received(ask: Ask) -> Received:
    """The pass over the complaints received in the period, for this question."""
    return ask.shared(Received)


def closed(ask: Ask) -> Closed:
    """The pass over the complaints closed in the period, for this question."""
    return ask.shared(Closed)


class Received(Pass):
    """Complaints received in [lo, hi), grouped by day of receipt (Beijing) and customer
    province (and city, with a region): one column per count a KPI added (SQL aggregates,
    e.g. queries.flag(condition))."""

    def __init__(self, ask: Ask) -> None:
        super().__init__(ask)
        self.columns: list[Any] = []
        self.populations: list[Population] = []
        self.fills: list[Fill] = []

    def _column(self, kpi: Kpi, name: str, expr: Any) -> str:
        label = f"{kpi.id}__{name}"
        self.columns.append(expr.label(label))
        return label

    def rate(self, kpi: Kpi, den: Any, num: Any = None) -> Daily:
        """A rate by day of receipt: aggregates for its denominator and numerator (None:
        the KPI adds its numerator to the tally itself)."""
        self.populations.append(kpi.population)
        tally = Daily()
        n = self._column(kpi, "num", num) if num is not None else None
        d = self._column(kpi, "den", den)
        if n is None:
            self.fills.append(lambda day, row: tally.add(day, 0, getattr(row, d)))
        else:
            self.fills.append(lambda day, row: tally.add(day, getattr(row, n), getattr(row, d)))
        return tally

    def per_province(self, kpi: Kpi, count: Any) -> PerProvince:
        """An aggregate counted per day and customer province (and city, with a region)."""
        self.populations.append(kpi.population)
        ask = self.ask
        tally = PerProvince(ask.start, ask.end, ask.by_city)
        c = self._column(kpi, "n", count)
        if ask.by_city:
            self.fills.append(
                lambda day, row: tally.add(day, row.province, row.city, getattr(row, c))
            )
        else:
            self.fills.append(lambda day, row: tally.add(day, row.province, None, getattr(row, c)))
        return tally

    def run(self) -> None:
        ask = self.ask
        day = day_of(ask.dialect, C.received_at).label("day")
        keys = [day, C.customer_province.label("province")]
        if ask.by_city:
            keys.append(C.customer_city.label("city"))
        stmt = (
            select(*keys, *self.columns)
            .where(
                C.received_at >= ask.lo,
                C.received_at < ask.hi,
                *where(ask.p, ask.region),
                *common(self.populations),
            )
            .group_by(*keys)
        )
        for row in ask.conn.execute(stmt).all():
            d = to_date(row.day)
            for fill in self.fills:
                fill(d, row)


class Closed(Pass):
    """Complaints closed in [lo, hi), one row each (a percentile needs every value): the day
    of closing (Beijing), the handling time (closed_at − received_at), the id, and one bit
    per condition a KPI added (SQL conditions on the complaint row)."""

    def __init__(self, ask: Ask) -> None:
        super().__init__(ask)
        self.bits: list[Any] = []
        self.populations: list[Population] = []
        self.hours_of: list[tuple[int, Hours]] = []
        self.rates: list[tuple[int, int, Daily, Unless | None]] = []

    def _bit(self, cond: Any) -> int:
        value = 1 << len(self.bits)
        self.bits.append(case((cond, value), else_=0))
        return value

    def hours(self, kpi: Kpi, cond: Any) -> Hours:
        """The handling hours of the complaints where `cond` holds, by day of closing."""
        self.populations.append(kpi.population)
        tally = Hours()
        self.hours_of.append((self._bit(cond), tally))
        return tally

    def rate(self, kpi: Kpi, den: Any, num: Any, unless: Unless | None = None) -> Daily:
        """A rate by day of closing: the complaints where `den` holds, and those of them
        where `num` holds too, except the ids `unless(conn)` returns (asked after the pass,
        in the same transaction)."""
        self.populations.append(kpi.population)
        tally = Daily()
        self.rates.append((self._bit(den), self._bit(num), tally, unless))
        return tally

    def run(self) -> None:
        ask = self.ask
        dialect, conn = ask.dialect, ask.conn
        bits = functools.reduce(operator.add, self.bits)
        stmt = select(
            day_of(dialect, C.closed_at), millis(dialect, C.closed_at, C.received_at), bits, C.id
        ).where(
            C.closed_at >= ask.lo,
            C.closed_at < ask.hi,
            *where(ask.p, ask.region),
            *common(self.populations),
        )
        rows = conn.execute(stmt).all()
        hours = [(bit, tally.days) for bit, tally in self.hours_of]
        # per rate: its bits, per day [numerator, denominator], the ids left out, its tally
        rates: list[tuple[int, int, dict[date, list[int]], Collection[int], Daily]] = [
            (den, num, defaultdict(lambda: [0, 0]), unless(conn) if unless else (), tally)
            for den, num, tally, unless in self.rates
        ]
        days: dict[Any, date] = {}
        for day_, ms, row_bits, cid in rows:
            d = days.get(day_) or days.setdefault(day_, to_date(day_))
            for bit, table in hours:
                if row_bits & bit:
                    table[d].append(ms / 3_600_000)
            for den, num, cells, excluded, _tally in rates:
                if row_bits & den:
                    cell = cells[d]
                    cell[1] += 1
                    if row_bits & num and cid not in excluded:
                        cell[0] += 1
        for _den, _num, cells, _excluded, tally in rates:
            for d, (n, m) in cells.items():
                tally.add(d, n, m)
