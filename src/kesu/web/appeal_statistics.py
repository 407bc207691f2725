"""The appeal centre's statistics (/appeals/statistics): a period (a quarter by default,
as the ministry's notices count), the totals, per operator, per category of the scheme
in force, charts, each figure's definition, and the xlsx download. The figures come from
appeals.reports (the same as GET /api/v1/reports/appeals); the permission is checked
there (appeal.report)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from kesu.appeals import reports, schemes
from kesu.web.pages import Page, PageRoute, render, staff

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/appeals/statistics")
async def appeal_statistics(pg: Page = Depends(staff)) -> Response:
    q = pg.request.query_params
    today = reports.today(pg.rt)
    quarter = (q.get("quarter") or "").strip()
    start_text, end_text = q.get("from"), q.get("to")
    if quarter and "/" in quarter and not (start_text or end_text):
        start_text, end_text = quarter.split("/", 1)
    start, end = reports.period(today, start_text, end_text)
    scheme = (q.get("scheme") or "").strip() or None
    fig = await run_in_threadpool(reports.figures, pg.rt, pg.p, start, end, scheme)
    params = {"from": start.isoformat(), "to": end.isoformat()}
    if scheme:
        params["scheme"] = scheme
    quarters = reports.quarters(today)
    chosen = f"{start.isoformat()}/{end.isoformat()}"
    return render(
        pg,
        "appeal_statistics.html",
        fig=fig,
        lo=start,
        hi=end,
        quarters=quarters,
        chosen=chosen,
        custom=chosen not in {f"{x['from']}/{x['to']}" for x in quarters},
        schemes=[{"id": s.id, "name": s.name} for s in schemes.load_all()],
        scheme=scheme,
        xlsx="/api/v1/reports/appeals.xlsx?" + urlencode(params),
    )
