"""People's figures (人员绩效): /reports/people, a table per person and per team with a
bar per figure, and the xlsx of the same period. What each caller sees (every row, their
team, their own row) is decided in `reports.people`."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from kesu.clock import supported_date, to_beijing
from kesu.problems import Problem
from kesu.reports import people
from kesu.reports.routes import DEFAULT_DAYS
from kesu.web.pages import Page, PageRoute, render, staff

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _period(pg: Page, start: str | None, end: str | None) -> tuple[date, date]:
    today = to_beijing(pg.rt.clock()).date()
    try:
        hi = date.fromisoformat(end) if end else today
        lo = date.fromisoformat(start) if start else hi - timedelta(days=DEFAULT_DAYS - 1)
    except ValueError:
        raise Problem(
            422, "invalid_date", "Invalid date", "日期格式不对，应为 YYYY-MM-DD。"
        ) from None
    return supported_date(lo, "from"), supported_date(hi, "to")


def bars(report: dict[str, Any], rows: list[dict[str, Any]]) -> dict[str, float]:
    """Each figure's scale for its bars: 1 for rates (a bar is the share), else the
    largest value of the rows shown."""
    out = {}
    for f in report["figures"]:
        values = [r["figures"][f["id"]]["value"] or 0 for r in rows]
        out[f["id"]] = 1.0 if f["unit"] == "rate" else float(max(values, default=0) or 1)
    return out


@router.get("/reports/people")
async def people_page(
    pg: Page = Depends(staff), start: str | None = None, end: str | None = None
) -> Response:
    lo, hi = _period(pg, start, end)
    report = await run_in_threadpool(people.report, pg.rt, pg.p, lo, hi)
    return render(
        pg,
        "people.html",
        r=report,
        lo=lo.isoformat(),
        hi=hi.isoformat(),
        person_scale=bars(report, report["people"]),
        team_scale=bars(report, report["teams"]),
        xlsx=f"/api/v1/reports/people.xlsx?from={lo.isoformat()}&to={hi.isoformat()}",
    )
