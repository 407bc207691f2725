"""The arithmetic of the KPI figures (pure): rates, means, percentiles, per 10,000, trends.

Plain values in — counts, durations, dates — numbers out, rounded per unit (DIGITS).
Imports no database, no framework and no clock.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, Protocol

from kesu.reports.periods import Bucket, dates

DIGITS = {"rate": 6, "hours": 2, "per_10k": 4}


class Valued(Protocol):
    """What turns a numerator and a denominator into a value (a KPI definition)."""

    def value(self, numerator: float | None, denominator: float | None) -> float | None: ...


def ratio(numerator: float, denominator: float, digits: int = DIGITS["rate"]) -> float | None:
    """numerator / denominator rounded; None when the denominator is 0."""
    if not denominator:
        return None
    return round(numerator / denominator, digits)


def mean(values: Sequence[float], digits: int = DIGITS["hours"]) -> float | None:
    if not values:
        return None
    return round(math.fsum(values) / len(values), digits)


def percentile(values: Sequence[float], p: float, digits: int = DIGITS["hours"]) -> float | None:
    """The p-th percentile by the nearest-rank method: the ⌈p/100 × n⌉-th smallest value."""
    if not values:
        return None
    if not 0 < p <= 100:
        raise ValueError("p must be in (0, 100]")
    ordered = sorted(values)
    # p/100*n computed in integers where possible, so 90% of 10 is exactly rank 9.
    rank = max(1, math.ceil(round(p * len(ordered) / 100, 9)))
    return round(ordered[rank - 1], digits)


def per_10k(count: int, base: float | None, per: int = 10000) -> float | None:
    if not base:
        return None
    return round(count / base * per, DIGITS["per_10k"])


def rate_trend(
    kpi: Valued, per_day: Mapping[date, tuple[float, float]], bs: Sequence[Bucket]
) -> list[dict[str, Any]]:
    """A rate KPI per bucket from its per-day (numerator, denominator)."""
    out = []
    for b in bs:
        num = den = 0.0
        for d in dates(b.start, b.end):
            n, m = per_day.get(d, (0, 0))
            num += n
            den += m
        out.append(
            {
                "date": b.start.isoformat(),
                "to": b.end.isoformat(),
                "value": kpi.value(num, den),
                "numerator": _number(num),
                "denominator": _number(den),
            }
        )
    return out


def _number(x: float) -> float | int:
    return int(x) if float(x).is_integer() else round(x, 4)
