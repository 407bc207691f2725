"""HTTP routes of the reports slice (/api/v1/reports/…)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from fastapi.concurrency import run_in_threadpool

from kesu.accounts.roles import Principal
from kesu.accounts.web import principal
from kesu.clock import supported_date, to_beijing
from kesu.complaints import vocabulary as vocab
from kesu.problems import Problem
from kesu.reports import kpi_report, overview, people, people_xlsx, queues, regulator, xlsx
from kesu.runtime import Runtime
from kesu.web.http import DATE_SCHEMA, FastJSON, runtime

router = APIRouter(prefix="/api/v1", tags=["reports"])

DEFAULT_DAYS = 30
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

FromQ = Annotated[
    str | None,
    Query(
        alias="from",
        max_length=20,
        description="起始日期 YYYY-MM-DD（北京时间，含）",
        json_schema_extra=DATE_SCHEMA,
    ),
]
ToQ = Annotated[
    str | None,
    Query(
        max_length=20,
        description="结束日期 YYYY-MM-DD（北京时间，含）",
        json_schema_extra=DATE_SCHEMA,
    ),
]
RegionQ = Annotated[
    str | None,
    Query(
        max_length=20,
        description="省份（全称、简称或区划代码）",
        json_schema_extra=vocab.province_schema(),
    ),
]


def _date(value: str, field: str) -> date:
    value = value.strip()
    try:
        if not _DATE.fullmatch(value):
            raise ValueError
        day = date.fromisoformat(value)
    except ValueError:
        raise Problem(
            422, "invalid_date", "Invalid date", f"“{field}”不是合法的日期，应为 YYYY-MM-DD。"
        ) from None
    return supported_date(day, field)


def period(rt: Runtime, from_: str | None, to: str | None) -> tuple[date, date]:
    """The period asked for; by default the last 30 days ending today (Beijing)."""
    end = _date(to, "to") if to else None
    start = _date(from_, "from") if from_ else None
    if end is None:
        end = to_beijing(rt.clock()).date()
        if start is not None and start > end:
            end = start
    if start is None:
        start = end - timedelta(days=DEFAULT_DAYS - 1)
    return start, end


@router.get("/reports/kpis", summary="指标 KPIs over a period")
async def get_kpis(
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
    from_: FromQ = None,
    to: ToQ = None,
    region: RegionQ = None,
) -> dict[str, Any]:
    start, end = period(rt, from_, to)
    return FastJSON(await run_in_threadpool(kpi_report.kpis, rt, p, start, end, region))


@router.get(
    "/reports/kpis.xlsx",
    summary="指标导出 KPIs as an xlsx workbook",
    responses={200: {"content": {XLSX: {}}, "description": "xlsx 工作簿"}},
)
async def get_kpis_xlsx(
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
    from_: FromQ = None,
    to: ToQ = None,
    region: RegionQ = None,
) -> Response:
    start, end = period(rt, from_, to)
    content = await run_in_threadpool(kpi_report.kpis_xlsx, rt, p, start, end, region)
    name = xlsx.filename({"period": {"from": start.isoformat(), "to": end.isoformat()}})
    return Response(
        content,
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


MonthQ = Annotated[
    str | None,
    Query(max_length=7, pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="报表月份 YYYY-MM"),
]
QuarterQ = Annotated[
    str | None,
    Query(max_length=7, pattern=r"^\d{4}-[Qq][1-4]$", description="报表季度 YYYY-Q1…Q4"),
]


@router.get(
    "/reports/regulator", summary="管局月报/季报 The operator's statistics for the regulator"
)
async def get_regulator_report(
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
    month: MonthQ = None,
    quarter: QuarterQ = None,
) -> dict[str, Any]:
    """One month (`month`) or quarter (`quarter`): received by channel level and kind,
    valid/invalid, the ministry's categories, time limits, referrals, 万户投诉率 by
    province and city, top causes (reports.regulator)."""
    return FastJSON(await run_in_threadpool(regulator.report, rt, p, month, quarter))


@router.get(
    "/reports/regulator.xlsx",
    summary="管局报表导出 The regulator's report as xlsx",
    responses={200: {"content": {XLSX: {}}, "description": "xlsx 工作簿"}},
)
async def get_regulator_report_xlsx(
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
    month: MonthQ = None,
    quarter: QuarterQ = None,
) -> Response:
    content, name = await run_in_threadpool(regulator.report_xlsx, rt, p, month, quarter)
    return Response(
        content,
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/reports/overview", summary="今日概况 Intake today, open, near and past deadline")
async def get_overview(
    rt: Runtime = Depends(runtime), p: Principal = Depends(principal)
) -> dict[str, Any]:
    return FastJSON(await run_in_threadpool(overview.overview, rt, p))


@router.get("/reports/series", summary="图表数据 Per-day counts for the dashboard")
async def get_series(
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
    from_: FromQ = None,
    to: ToQ = None,
) -> dict[str, Any]:
    start, end = period(rt, from_, to)
    return FastJSON(await run_in_threadpool(overview.series, rt, p, start, end))


@router.get("/reports/about-to-breach", summary="临近超期 Open complaints near or past deadline")
async def get_about_to_breach(
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
    hours: Annotated[int, Query(ge=1, le=720)] = 24,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    items = await run_in_threadpool(queues.about_to_breach, rt, p, hours, limit)
    return FastJSON({"items": items})


@router.get("/reports/approvals", summary="待审批 Complaints waiting for approval")
async def get_approvals(
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    items = await run_in_threadpool(queues.approvals, rt, p, limit)
    return FastJSON({"items": items})


@router.get("/reports/people", summary="人员绩效 People's figures per person and team")
async def get_people(
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
    from_: FromQ = None,
    to: ToQ = None,
) -> dict[str, Any]:
    """Supervisors (report.read) see every person and team; a team lead (people.team)
    the people of their team and the team; an agent (people.own) their own row."""
    start, end = period(rt, from_, to)
    return FastJSON(await run_in_threadpool(people.report, rt, p, start, end))


@router.get(
    "/reports/people.xlsx",
    summary="人员绩效导出 People's figures as an xlsx workbook",
    responses={200: {"content": {XLSX: {}}, "description": "xlsx 工作簿"}},
)
async def get_people_xlsx(
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
    from_: FromQ = None,
    to: ToQ = None,
) -> Response:
    start, end = period(rt, from_, to)
    data = await run_in_threadpool(people.report, rt, p, start, end)
    return Response(
        people_xlsx.workbook(data),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{people_xlsx.filename(data)}"'},
    )
