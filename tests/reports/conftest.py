"""Helpers for the reports tests: complaints made through the real service at chosen times.

`desk.register(when, ...)` sets the frozen clock to `when` and registers a complaint
received then; `desk.act(number, action, when, ...)` performs a transition at `when`.
The clock is put back to the tests' "now" (2026-11-28 10:00 Beijing) by `desk.done()`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from kesu.accounts.roles import Principal, for_role
from kesu.clock import BEIJING, as_utc
from kesu.complaints import queries, registration, transitions
from tests.conftest import NOW, with_cause

# Neutral texts: no risk signal (no media, legal or regulator threat) is raised from them.
TEXT = "用户反映宽带网速慢，要求核查处理。"


def bj(month: int, day: int, hour: int = 10, minute: int = 0, year: int = 2026) -> datetime:
    """A Beijing time in 2026."""
    return datetime(year, month, day, hour, minute, tzinfo=BEIJING)


class Desk:
    def __init__(self, rt, clock) -> None:
        self.rt = rt
        self.clock = clock
        self.phones = 0

    def phone(self) -> str:
        self.phones += 1
        return f"1390000{self.phones:04d}"

    def register(
        self,
        when: datetime,
        *,
        kind: str = "complaint",
        category: str | None = "network",
        channel: str = "hotline",
        phone: str | None = None,
        province: str | None = None,
        city: str | None = None,
        actor: Any = "system",
        **extra: Any,
    ) -> str:
        self.clock.now = as_utc(when)
        customer: dict[str, Any] = {"phone": phone or self.phone()}
        if province:
            customer["province"] = province
        if city:
            customer["city"] = city
        data = {
            "channel": channel,
            "kind": kind,
            "category": category,
            "customer": customer,
            "description": TEXT,
            "received_at": when,
            **extra,
        }
        view, created = registration.register(self.rt, data, actor)
        assert created
        return view["number"]

    def act(self, number: str, action: str, when: datetime, **params: Any) -> dict[str, Any]:
        self.clock.now = as_utc(when)
        recorded = None
        if action == "close" and "root_cause" not in params:  # keep a cause given before
            recorded = queries.get(self.rt, number, "system").get("root_cause")
        params = with_cause(action, params, recorded)
        return transitions.transition(self.rt, number, action, params, "system")

    def close(self, number: str, accepted: datetime, closed: datetime, result="satisfied"):
        """accept → reply → callback → close, the last three steps at `closed`."""
        self.act(number, "accept", accepted)
        self.act(number, "reply", closed, resolution="已核实并处理。")
        self.act(number, "callback", closed, result=result)
        return self.act(number, "close", closed)

    def done(self) -> None:
        self.clock.now = as_utc(NOW)


@pytest.fixture
def desk(rt, clock):
    return Desk(rt, clock)


def with_reports(p: Principal) -> Principal:
    """The same principal, also allowed to read reports (resellers are not, by default)."""
    return Principal(
        name=p.name,
        role=p.role,
        permissions=p.permissions | {"report.read"},
        kind=p.kind,
        org=p.org,
        scope=p.scope,
    )


def reseller(org: str) -> Principal:
    return for_role(f"r-{org}", "reseller", org=org)


def kpi(report: dict[str, Any], kid: str) -> dict[str, Any]:
    [k] = [k for k in report["kpis"] if k["id"] == kid]
    return k
