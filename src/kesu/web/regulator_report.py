"""The operator's statistics for the regulator (/reports/regulator): a month (the last
complete one by default) or a quarter, the tables of reports.regulator (the same as
GET /api/v1/reports/regulator) and the xlsx download. The permission is checked there
(report.read, a user of the whole company)."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from kesu.clock import to_beijing
from kesu.complaints import vocabulary as vocab
from kesu.problems import Problem
from kesu.reports import regulator
from kesu.web.pages import Page, PageRoute, render, staff

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _last_month(today: date) -> str:
    first = today.replace(day=1) - timedelta(days=1)
    return f"{first.year}-{first.month:02d}"


@router.get("/reports/regulator")
async def regulator_page(pg: Page = Depends(staff)) -> Response:
    q = pg.request.query_params
    today = to_beijing(pg.rt.clock()).date()
    quarter = (q.get("quarter") or "").strip() or None
    month = None if quarter else ((q.get("month") or "").strip() or _last_month(today))
    try:
        report = await run_in_threadpool(regulator.report, pg.rt, pg.p, month, quarter)
    except Problem as problem:
        if problem.status != 422:
            raise
        pg.flash.append(("error", problem.detail))
        month, quarter = _last_month(today), None
        report = await run_in_threadpool(regulator.report, pg.rt, pg.p, month, None)
    chosen = f"quarter={quarter}" if quarter else f"month={month}"
    return render(
        pg,
        "reports/regulator.html",
        r=report,
        month=month or "",
        quarter=quarter or "",
        quarters=[f"{today.year - y}-Q{n}" for y in (0, 1) for n in (4, 3, 2, 1)],
        xlsx=f"/api/v1/reports/regulator.xlsx?{chosen}",
        kinds=vocab.KINDS,
    )
