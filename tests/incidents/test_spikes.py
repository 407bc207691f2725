"""The spike statistic alone (pure): the Poisson tail, the day profile's share, the
decision and its explanation, and a long seeded background that never makes a spike
while a burst on top of it does."""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from dataclasses import replace
from datetime import timedelta

import pytest

from kesu.incidents import spikes
from tests.incidents.background import background, burst, midnight


def test_the_poisson_tail_matches_the_sum_of_the_probabilities():
    def direct(k, lam):
        return 1 - sum(math.exp(-lam) * lam**i / math.factorial(i) for i in range(k))

    for lam in (0.05, 0.4, 1.0, 3.5, 12.0):
        for k in (0, 1, 2, 5, 9):
            assert spikes.poisson_tail(k, lam) == pytest.approx(direct(k, lam), abs=1e-12)
    # Far in the tail, where 1 − (sum) would be lost in rounding.
    assert spikes.poisson_tail(20, 0.5) == pytest.approx(
        sum(math.exp(-0.5) * 0.5**i / math.factorial(i) for i in range(20, 60)), rel=1e-9
    )
    assert 0 < spikes.poisson_tail(20, 0.5) < 1e-20


def test_a_morning_window_expects_more_than_a_night_one():
    prm = spikes.params()
    morning = spikes.window_share(
        midnight(2026, 12, 1) + timedelta(hours=12), 6, prm.hourly_profile
    )
    night = spikes.window_share(midnight(2026, 12, 1) + timedelta(hours=6), 6, prm.hourly_profile)
    whole = spikes.window_share(midnight(2026, 12, 2), 24, prm.hourly_profile)
    assert whole == pytest.approx(1.0)
    assert morning > 5 * night
    # Across midnight: 22:00–02:00 is the four hours' weights.
    four = spikes.window_share(midnight(2026, 12, 2) + timedelta(hours=2), 4, prm.hourly_profile)
    assert four == pytest.approx(sum(prm.hourly_profile[h] for h in (22, 23, 0, 1)))


def test_the_decision_explains_itself_in_chinese():
    at = midnight(2026, 12, 1) + timedelta(hours=11)
    earliest = at - timedelta(days=30)
    d = spikes.decide(spikes.Counts(9, 28, earliest), at, "郑州市·网络质量")
    assert d.spike and d.k == 10
    assert d.per_day == pytest.approx(2.0) and d.baseline_days == 14
    assert d.p == pytest.approx(spikes.poisson_tail(10, d.lam))
    for part in ("郑州市·网络质量", "近6小时同类投诉10件", "此前14天共28件", "日均2.00件",
                 f"λ={d.lam:.2f}", "P(X≥10", "判定为突增"):  # fmt: skip
        assert part in d.explanation, part
    usual = spikes.decide(spikes.Counts(2, 28, earliest), at, "郑州市·网络质量")
    assert not usual.spike and "不足最少件数5件" in usual.explanation
    busy = spikes.decide(spikes.Counts(9, 14 * 40, earliest), at, "郑州市·网络质量")
    assert not busy.spike and "属正常波动" in busy.explanation


def test_no_decision_without_enough_history():
    at = midnight(2026, 12, 1) + timedelta(hours=11)
    d = spikes.decide(spikes.Counts(30, 0, at - timedelta(days=2)), at, "郑州市·网络质量")
    assert not d.spike and "不足7天" in d.explanation
    assert not spikes.decide(spikes.Counts(30, 0, None), at, "郑州市·网络质量").spike


def test_a_quiet_cell_has_the_floor_rate():
    at = midnight(2026, 12, 1) + timedelta(hours=11)
    d = spikes.decide(spikes.Counts(5, 0, at - timedelta(days=60)), at, "鹤壁市·信息安全")
    assert d.per_day == pytest.approx(spikes.params().floor_per_day)
    assert "不足0.2件按0.2件计" in d.explanation


def test_parameters_are_checked():
    raw = {
        "window_hours": 6,
        "baseline_days": 14,
        "floor_per_day": 0.2,
        "min_count": 5,
        "p_threshold": 1e-6,
        "hourly_profile": [1] * 24,
    }
    assert spikes.Params.of(raw).hourly_profile[0] == pytest.approx(1 / 24)
    with pytest.raises(ValueError):
        spikes.Params.of({**raw, "hourly_profile": [1] * 23})
    with pytest.raises(ValueError):
        spikes.Params.of({**raw, "p_threshold": 0})


def _replay(arrivals, prm):
    """Every arrival decided against the ones before it, as registration does: the
    spikes decided (time, cell)."""
    by_cell: dict[tuple, list] = defaultdict(list)
    earliest = arrivals[0].at
    out = []
    for a in arrivals:
        key = (a.category, a.city or a.province)
        seen = by_cell[key]
        start = a.at - prm.window
        lo = bisect.bisect_left(seen, start - timedelta(days=prm.baseline_days))
        mid = bisect.bisect_left(seen, start)
        counts = spikes.Counts(len(seen) - mid, mid - lo, earliest)
        if spikes.decide(counts, a.at, "/".join(key), prm).spike:
            out.append((a.at, key))
        seen.append(a.at)
    return out


def test_ninety_days_of_background_make_no_spike_and_a_burst_does():
    prm = spikes.params()
    days = background(seed=18, start=midnight(2026, 9, 1), days=90, per_day=600)
    assert 45_000 < len(days) < 60_000  # tens of thousands of decisions
    assert _replay(days, prm) == []
    # A broadband outage in 洛阳市 on day 60: 25 complaints within two hours.
    outage = burst(
        7, midnight(2026, 10, 31) + timedelta(hours=9), 2, 25, "network", "洛阳市", "河南省"
    )
    found = _replay(sorted(days + outage, key=lambda a: a.at), prm)
    assert found and {cell for _, cell in found} == {("network", "洛阳市")}
    assert outage[0].at <= found[0][0] <= outage[-1].at


def test_a_looser_threshold_would_cry_wolf_on_the_same_background():
    """The threshold matters: the same background at p < 0.01 raises false alarms."""
    prm = replace(spikes.params(), p_threshold=0.01)
    days = background(seed=18, start=midnight(2026, 9, 1), days=30, per_day=600)
    assert len(_replay(days, prm)) > 0
