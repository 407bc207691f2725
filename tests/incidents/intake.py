"""Background arrivals into a real database: the history through the import (no
spike decisions: an import is not the arrival of complaints), live arrivals through
the one registration, each at its own time on the test's clock."""

from __future__ import annotations

from kesu.clock import as_utc
from kesu.complaints import registration
from kesu.complaints.schemas import ComplaintIn
from tests.incidents.background import Arrival

TEXTS = {
    "network": "家里宽带从早上开始断网，光猫红灯一直闪，要求尽快派人修复。",
    "billing": "本月账单多扣了三十元流量费，要求核实并退还多收的费用。",
}
OTHER = "对这次办理的业务不满意，要求运营商给出说明并尽快处理。"


def item(a: Arrival, **more) -> dict:
    customer = {"phone": a.phone, "name": "客户", "province": a.province}
    if a.city:
        customer["city"] = a.city
    body = {
        "channel": "hotline",
        "category": a.category,
        "received_at": a.at.isoformat(),
        "customer": customer,
        "description": TEXTS.get(a.category, OTHER),
        **more,
    }
    return ComplaintIn.model_validate(body).model_dump()


def history(rt, arrivals: list[Arrival], batch: int = 2000) -> None:
    """Past complaints imported (in batches), as an operator loads its history."""
    for i in range(0, len(arrivals), batch):
        registration.bulk_import(rt, [item(a) for a in arrivals[i : i + batch]], "system")


def live(rt, clock, arrivals: list[Arrival]) -> list[dict]:
    """Each arrival registered at its time (the clock moved there): the views."""
    out = []
    for a in arrivals:
        clock.now = as_utc(a.at)
        view, _ = registration.register(rt, item(a), "system")
        out.append(view)
    return out
