"""The supervisor's dashboard: today's load, KPIs with trends, charts, breaches, approvals."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from kesu.clock import to_beijing
from kesu.complaints import service as complaints
from kesu.problems import Problem
from kesu.reports import service as reports
from kesu.web.pages import Page, PageRoute, redirect, render, staff

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _period(pg: Page, start: str | None, end: str | None) -> tuple[date, date]:
    today = to_beijing(pg.rt.clock()).date()
    try:
        hi = date.fromisoformat(end) if end else today
        lo = date.fromisoformat(start) if start else hi - timedelta(days=29)
    except ValueError:
        raise Problem(
            422, "invalid_date", "Invalid date", "日期格式不对，应为 YYYY-MM-DD。"
        ) from None
    return lo, hi


def _data(pg: Page, lo: date, hi: date) -> dict[str, Any]:
    p = pg.p
    out: dict[str, Any] = {
        "overview": reports.overview(pg.rt, p),
        "k": reports.kpis(pg.rt, p, lo, hi),
        "series": reports.series(pg.rt, p, lo, hi),
        "breaching": reports.about_to_breach(pg.rt, p, hours=24, limit=30),
        "approvals": reports.approvals(pg.rt, p, limit=30) if p.can("complaint.approve") else [],
    }
    return out


@router.get("/dashboard")
async def dashboard(
    pg: Page = Depends(staff), start: str | None = None, end: str | None = None
) -> Response:
    lo, hi = _period(
        pg, start or pg.request.query_params.get("from"), end or pg.request.query_params.get("to")
    )
    data = await run_in_threadpool(_data, pg, lo, hi)
    done = pg.request.query_params.get("done")
    if done == "reassigned":
        pg.flash.append(("ok", pg.t("dash.reassigned")))
    return render(pg, "dashboard.html", lo=lo, hi=hi, **data)


@router.post("/dashboard/reassign")
async def reassign(pg: Page = Depends(staff)) -> Response:
    """One-click reassignment of a complaint about to breach (the lifecycle's transfer)."""
    form = await pg.form()
    number = str(form.get("number") or "")
    params = {"team": str(form.get("team") or "")}
    assignee = str(form.get("assignee") or "").strip()
    if assignee:
        params["assignee"] = assignee
    params["note"] = "监控看板一键转派（临近超期）"
    await run_in_threadpool(complaints.transition, pg.rt, number, "transfer", params, pg.p)
    back = str(form.get("back") or "/dashboard")
    return redirect(back if back.startswith("/dashboard") else "/dashboard", pg.request)
