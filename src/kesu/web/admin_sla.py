"""The admin page of the time limits: the internal SLA policies (edited here, with their
history) and every deadline rule as the runtime loaded it (statutory ones read-only).

Reading is open to all staff (as the API); changing needs `sla.manage`, checked by the
service (kesu.deadlines.sla_policies), which also validates and audits.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from kesu.complaints import lifecycle
from kesu.data_files import load_yaml
from kesu.deadlines import sla_policies
from kesu.deadlines.rules import UNITS
from kesu.problems import Problem
from kesu.web.pages import Page, PageRoute, redirect, render, staff

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _sla_page(pg: Page, status: int = 200, values: dict[str, Any] | None = None) -> Response:
    warn = (load_yaml("deadline_rules.yaml") or {}).get("warn_before") or {}
    rules = list(pg.rt.rules.values())
    listing = sla_policies.listing(pg.rt)
    current = {
        x["rule"]: next(p for p in x["policies"] if not p["narrowed"])
        for x in listing["rules"]
        if any(not p["narrowed"] for p in x["policies"])
    }
    return render(
        pg,
        "admin/sla.html",
        status=status,
        rules=rules,
        warn_defaults=warn,
        warn_hours={x.id: f"{x.warn_before.total_seconds() / 3600:g}" for x in rules},
        action_names=lifecycle.ACTIONS,
        met_order=list(lifecycle.ACTIONS),
        areas={"urban": {"name": "城镇", "en": "Urban"}, "rural": {"name": "农村", "en": "Rural"}},
        listing=listing,
        current=current,
        reasons={x["rule"]: x["reason"] for x in listing["statutory"]},
        units=UNITS,
        values=values or {},
        can_edit=pg.can(sla_policies.PERMISSION),
    )


@router.get("/admin/sla")
async def sla_page(pg: Page = Depends(staff)) -> Response:
    """The policies, their history and every rule (readable by all staff, as the API)."""
    done = pg.request.query_params.get("done")
    if done in ("created", "changed", "removed"):
        pg.flash.append(("ok", pg.t(f"admin.sla.done.{done}")))
    return await run_in_threadpool(_sla_page, pg)


def _number(raw: Any, kind: type) -> Any:
    """A form field as a number; what is not one goes on as it is, for the service to name."""
    text = str(raw or "").strip()
    if not text:
        return None
    try:
        return kind(text)
    except ValueError:
        return text


def _period(form) -> dict[str, Any]:
    out = {
        "length": _number(form.get("length"), int),
        "unit": str(form.get("unit") or "").strip() or None,
        "warn_before_hours": _number(form.get("warn_before_hours"), float),
    }
    return {k: v for k, v in out.items() if v is not None}


async def _act(pg: Page, work, values: dict[str, Any], done: str) -> Response:
    def run() -> Response | None:
        try:
            work()
        except Problem as problem:
            if problem.status in (401, 403):
                raise
            pg.flash.append(("error", problem.detail))
            return _sla_page(pg, problem.status, values)
        return None

    failed = await run_in_threadpool(run)
    return failed if failed is not None else redirect(f"/admin/sla?done={done}", pg.request)


@router.post("/admin/sla/policies")
async def sla_policy_add(pg: Page = Depends(staff)) -> Response:
    form = await pg.form()
    body: dict[str, Any] = {
        k: str(form.get(k) or "").strip() or None for k in ("rule", "kind", "category", "priority")
    }
    body.update(_period(form))
    if "length" not in body:
        body["length"] = None
    return await _act(pg, lambda: sla_policies.create(pg.rt, pg.p, body), {"new": body}, "created")


@router.post("/admin/sla/policies/{policy_id}")
async def sla_policy_change(policy_id: int, pg: Page = Depends(staff)) -> Response:
    form = await pg.form()
    body = _period(form)
    return await _act(
        pg,
        lambda: sla_policies.change(pg.rt, pg.p, policy_id, body),
        {policy_id: body},
        "changed",
    )


@router.post("/admin/sla/policies/{policy_id}/delete")
async def sla_policy_remove(policy_id: int, pg: Page = Depends(staff)) -> Response:
    await pg.form()  # the CSRF token
    return await _act(pg, lambda: sla_policies.remove(pg.rt, pg.p, policy_id), {}, "removed")
