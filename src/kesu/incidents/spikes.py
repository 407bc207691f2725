"""Spike detection for mass incidents (群体性事件/批量投诉): pure, no database, no clock.

A cell (a category in a city, or in a province when no city is known) is tested at
each registration: k complaints in the last `window_hours` (the new one included)
against the cell's own baseline, its count in the `baseline_days` before the window.
The expected count in the window is

    λ = max(baseline / covered days, floor_per_day) × share of a day's intake in the window
        × tolerance

(the share from the hourly profile, so a morning window expects more than a night one;
the tolerance allows for what a plain Poisson process ignores: real days wander, and
no day has exactly the profile's shape),
and the window is a spike when P(X ≥ k | λ) < p_threshold for X ~ Poisson(λ) and
k ≥ min_count. Every decision carries its numbers and a Chinese explanation.
Parameters: data/incidents/spikes.yaml (docs/incidents.md).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from kesu.clock import BEIJING
from kesu.data_files import load_yaml

DAY = timedelta(days=1)


@dataclass(frozen=True)
class Params:
    window_hours: float
    baseline_days: int
    min_history_days: float
    floor_per_day: float
    min_count: int
    p_threshold: float
    tolerance: float  # λ raised by this factor: the day-to-day wander Poisson ignores
    hourly_profile: tuple[float, ...]  # 24 weights, summing to 1

    @property
    def window(self) -> timedelta:
        return timedelta(hours=self.window_hours)

    @staticmethod
    def of(raw: Mapping[str, Any]) -> Params:
        profile = [float(x) for x in raw["hourly_profile"]]
        if len(profile) != 24 or min(profile) < 0 or sum(profile) <= 0:
            raise ValueError("hourly_profile: 24 weights, none negative, not all zero")
        p = Params(
            window_hours=float(raw["window_hours"]),
            baseline_days=int(raw["baseline_days"]),
            min_history_days=float(raw.get("min_history_days", 0)),
            floor_per_day=float(raw["floor_per_day"]),
            min_count=int(raw["min_count"]),
            p_threshold=float(raw["p_threshold"]),
            tolerance=float(raw.get("tolerance", 1.0)),
            hourly_profile=tuple(x / sum(profile) for x in profile),
        )
        if not (0 < p.window_hours <= 24 and p.baseline_days >= 1 and p.min_count >= 2):
            raise ValueError("window_hours in (0, 24], baseline_days ≥ 1, min_count ≥ 2")
        if not (0 < p.p_threshold < 1 and p.floor_per_day > 0 and p.tolerance >= 1):
            raise ValueError("p_threshold in (0, 1), floor_per_day > 0, tolerance ≥ 1")
        return p


@lru_cache(maxsize=1)
def params() -> Params:
    """The parameters in force (data/incidents/spikes.yaml)."""
    return Params.of(load_yaml("incidents/spikes.yaml"))


@dataclass(frozen=True)
class Counts:
    """What one aggregate query tells about a cell at `at`."""

    in_window: int  # the cell's complaints in the window, this one NOT included
    in_baseline: int  # the cell's complaints in the baseline days before the window
    earliest: datetime | None  # the database's earliest complaint (how much history)


@dataclass(frozen=True)
class Decision:
    spike: bool
    k: int
    lam: float
    p: float
    window_hours: float
    baseline_days: int
    baseline_count: int
    covered_days: float
    per_day: float
    share: float
    p_threshold: float
    min_count: int
    explanation: str  # Chinese, for the incident record and the flag's evidence

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def poisson_tail(k: int, lam: float) -> float:
    """P(X ≥ k) for X ~ Poisson(lam), summed upwards from k (no 1 − small difference)."""
    if k <= 0:
        return 1.0
    if lam <= 0:
        return 0.0
    if k <= lam:  # the upper tail is large: the complement is the accurate side
        head = sum(math.exp(i * math.log(lam) - lam - math.lgamma(i + 1)) for i in range(k))
        return max(0.0, 1.0 - head)
    log_term = k * math.log(lam) - lam - math.lgamma(k + 1)
    total, i = 0.0, k
    term = math.exp(log_term)
    while term > 0:
        total += term
        i += 1
        term *= lam / i
        if term < total * 1e-17:
            break
    return min(1.0, total)


def window_share(end: datetime, hours: float, profile: Sequence[float]) -> float:
    """The share of a Beijing day's intake expected in the `hours` before `end`."""
    start = end.astimezone(BEIJING) - timedelta(hours=hours)
    share, t = 0.0, start
    stop = end.astimezone(BEIJING)
    while t < stop:
        next_hour = t.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        piece = min(next_hour, stop) - t
        share += profile[t.hour] * piece.total_seconds() / 3600
        t = min(next_hour, stop)
    return share


def _fmt_p(p: float) -> str:
    return f"{p:.2g}" if p >= 1e-3 else f"{p:.1e}"


def decide(counts: Counts, at: datetime, label: str, prm: Params | None = None) -> Decision:
    """Whether a complaint registered at `at` in the cell `label` (e.g. 郑州市·网络质量)
    makes its window a spike, with the numbers and the reason in Chinese."""
    prm = prm or params()
    k = counts.in_window + 1
    window_start = at - prm.window
    if counts.earliest is None:
        covered = 0.0
    else:
        covered = min(float(prm.baseline_days), (window_start - counts.earliest) / DAY)
    covered = max(covered, 0.0)
    share = window_share(at, prm.window_hours, prm.hourly_profile)
    head = f"{label}：近{prm.window_hours:g}小时同类投诉{k}件（含本件）"
    if covered < prm.min_history_days:
        reason = (
            f"{head}；系统中的投诉历史仅{covered:.1f}天，不足{prm.min_history_days:g}天，"
            "没有可比的基线，不作突增判断。"
        )
        return Decision(
            False, k, 0.0, 1.0, prm.window_hours, prm.baseline_days, counts.in_baseline,
            covered, 0.0, share, prm.p_threshold, prm.min_count, reason,
        )  # fmt: skip
    observed = counts.in_baseline / covered
    per_day = max(observed, prm.floor_per_day)
    lam = per_day * share * prm.tolerance
    p = poisson_tail(k, lam)
    spike = p < prm.p_threshold and k >= prm.min_count
    floor = (
        f"（不足{prm.floor_per_day:g}件按{prm.floor_per_day:g}件计）" if observed < per_day else ""
    )
    basis = (
        f"；基线：此前{covered:.3g}天共{counts.in_baseline}件，日均{observed:.2f}件{floor}，"
        f"按日内分布这{prm.window_hours:g}小时约占全天的{share:.1%}，"
        f"再乘容差{prm.tolerance:g}倍，期望λ={lam:.2f}件；"
        f"泊松上尾概率 P(X≥{k} | λ={lam:.2f}) = {_fmt_p(p)}"
    )
    if spike:
        verdict = (
            f"，低于阈值{prm.p_threshold:g}，且不少于{prm.min_count}件：判定为突增（群体性事件）。"
        )
    elif k < prm.min_count:
        verdict = f"；不足最少件数{prm.min_count}件：不判定为突增。"
    else:
        verdict = f"，不低于阈值{prm.p_threshold:g}：属正常波动，不判定为突增。"
    return Decision(
        spike, k, lam, p, prm.window_hours, prm.baseline_days, counts.in_baseline, covered,
        per_day, share, prm.p_threshold, prm.min_count, head + basis + verdict,
    )  # fmt: skip


def cell(city: str | None, province: str | None) -> tuple[str, str] | None:
    """The place part of a cell: ("city", name) or ("province", name), None without one."""
    if city:
        return "city", city
    if province:
        return "province", province
    return None
