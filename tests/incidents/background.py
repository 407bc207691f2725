"""A seeded generator of realistic background intake: complaints over days, across
cities and categories, at hourly rates shaped like a hotline's day.

Its own day profile (not the detector's), weekends quieter, and each cell's rate
wandering from day to day (a gamma-distributed factor), so the background is noisier
than a plain Poisson process: what the detector must not take for a spike.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from kesu.clock import BEIJING

# (province, city, share of the intake)
CITIES = [
    ("河南省", "郑州市", 0.30),
    ("河南省", "洛阳市", 0.16),
    ("河南省", "南阳市", 0.14),
    ("河南省", "新乡市", 0.10),
    ("河南省", "开封市", 0.08),
    ("河南省", "信阳市", 0.07),
    ("河南省", "周口市", 0.06),
    ("河南省", "鹤壁市", 0.04),
    ("河南省", None, 0.05),  # no city known: the province's cell
]
CATEGORIES = {
    "network": 0.30,
    "billing": 0.25,
    "unauthorized": 0.12,
    "marketing": 0.08,
    "handling": 0.08,
    "usage": 0.07,
    "service": 0.06,
    "security": 0.02,
    "other": 0.02,
}
# Arrivals per Beijing hour (relative): a hotline's day, busiest around 10:00 and 15:00.
HOURS = [0.3, 0.2, 0.1, 0.1, 0.1, 0.3, 0.8, 2.0, 4.5, 6.5, 7.0, 6.0,
         4.5, 5.5, 6.8, 6.6, 5.8, 4.8, 3.8, 4.2, 4.4, 3.2, 1.6, 0.8]  # fmt: skip
WEEKEND = 0.75


@dataclass(frozen=True)
class Arrival:
    at: datetime  # aware, Beijing
    category: str
    province: str
    city: str | None
    phone: str


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:  # normal approximation, plenty for a count of arrivals
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def background(seed: int, start: datetime, days: int, per_day: float) -> list[Arrival]:
    """Arrivals from `start` (a Beijing midnight) for `days`, about `per_day` a weekday."""
    rng = random.Random(seed)
    total = sum(HOURS)
    out: list[Arrival] = []
    phones = rng.sample(range(10**8), k=int(per_day * days * 2) + 100)
    for day in range(days):
        midnight = start + timedelta(days=day)
        level = WEEKEND if midnight.weekday() >= 5 else 1.0
        for province, city, share in CITIES:
            for category, cshare in CATEGORIES.items():
                wander = rng.gammavariate(25.0, 1 / 25.0)  # ±20 % from day to day
                daily = per_day * share * cshare * level * wander
                for hour, weight in enumerate(HOURS):
                    for _ in range(_poisson(rng, daily * weight / total)):
                        at = midnight + timedelta(hours=hour, seconds=rng.uniform(0, 3599))
                        phone = f"139{phones.pop():08d}"
                        out.append(Arrival(at, category, province, city, phone))
    out.sort(key=lambda a: a.at)
    return out


def burst(
    seed: int, at: datetime, hours: float, count: int, category: str, city: str, province: str
) -> list[Arrival]:
    """`count` complaints of one cell spread over `hours` from `at` (an outage)."""
    rng = random.Random(seed)
    phones = rng.sample(range(10**8), k=count)
    out = [
        Arrival(
            at + timedelta(seconds=rng.uniform(0, hours * 3600)),
            category,
            province,
            city,
            f"137{phones[i]:08d}",
        )
        for i in range(count)
    ]
    return sorted(out, key=lambda a: a.at)


def midnight(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=BEIJING)
