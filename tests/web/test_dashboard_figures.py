"""The dashboard's figures: kept a minute per scope and period, refreshed in the background."""

from __future__ import annotations

import time

import pytest

from kesu.accounts.roles import for_role
from kesu.problems import Problem
from kesu.web import dashboard


def _received(figures) -> int:
    kpi = {k["id"]: k for k in figures["k"]["kpis"]}["complaints_per_10k"]
    return kpi["numerator"]


def test_figures_are_reused_then_refreshed_and_the_permission_is_always_checked(rt, make_complaint):
    supervisor = for_role("boss", "supervisor")
    lo, hi = dashboard.default_period(rt.clock().date())
    cache = dashboard.Figures()
    make_complaint()
    first = cache.get(rt, supervisor, lo, hi)
    make_complaint()
    # Fresh: the same figures, not recomputed.
    assert cache.get(rt, supervisor, lo, hi) is first
    # Stale: the old figures once more, while a thread recomputes them.
    cache.FRESH = 0.0
    assert cache.get(rt, supervisor, lo, hi) is first
    for _ in range(100):
        newer = cache._entries[cache.key(supervisor, lo, hi)][1]
        if newer is not first:
            break
        time.sleep(0.05)
    assert newer is not first and _received(newer) == _received(first) + 1
    # A reseller has its own entry; an agent is refused even with figures cached.
    reseller = for_role("shop", "reseller", org="示例代理商甲")
    assert cache.key(reseller, lo, hi) != cache.key(supervisor, lo, hi)
    with pytest.raises(Problem) as refused:
        cache.get(rt, for_role("desk", "agent"), lo, hi)
    assert refused.value.status == 403
