"""The admin page of the SLA policies: every deadline rule as the runtime loaded it.

The rules are data (data/deadline_rules.yaml); this page shows them, it does not edit them.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from kesu.complaints import lifecycle
from kesu.data_files import load_yaml
from kesu.web.pages import Page, PageRoute, render, staff

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/admin/sla")
async def sla_page(pg: Page = Depends(staff)) -> Response:
    """Every deadline rule as the runtime loaded it (readable by all staff, as the API)."""
    warn = (load_yaml("deadline_rules.yaml") or {}).get("warn_before") or {}
    rules = list(pg.rt.rules.values())
    return render(
        pg,
        "admin/sla.html",
        rules=rules,
        warn_defaults=warn,
        warn_hours={x.id: f"{x.warn_before.total_seconds() / 3600:g}" for x in rules},
        action_names=lifecycle.ACTIONS,
        met_order=list(lifecycle.ACTIONS),
        areas={"urban": {"name": "城镇", "en": "Urban"}, "rural": {"name": "农村", "en": "Rural"}},
    )
