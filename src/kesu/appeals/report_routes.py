"""/api/v1/reports/appeals: the appeal centre's statistics of a period (appeals.reports),
as JSON and as the ministry-style xlsx."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from fastapi.concurrency import run_in_threadpool

from kesu.accounts.roles import Principal
from kesu.accounts.web import principal
from kesu.appeals import reports
from kesu.runtime import Runtime
from kesu.web.http import DATE_SCHEMA, runtime

router = APIRouter(prefix="/api/v1", tags=["appeals"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

FromQ = Annotated[
    str | None,
    Query(
        alias="from",
        max_length=20,
        description="起始日期 YYYY-MM-DD（北京时间，含；按收到申诉日期）；默认本季度第一天",
        json_schema_extra=DATE_SCHEMA,
    ),
]
ToQ = Annotated[
    str | None,
    Query(
        max_length=20,
        description="结束日期 YYYY-MM-DD（北京时间，含）；默认本季度最后一天",
        json_schema_extra=DATE_SCHEMA,
    ),
]
SchemeQ = Annotated[
    str | None,
    Query(
        max_length=40,
        pattern=r"^[a-z0-9][a-z0-9_-]*$",
        description="分类口径（如 miit-2025q1）；默认统计期第一天适用的口径",
    ),
]


@router.get("/reports/appeals", summary="申诉统计 Appeal statistics of a period")
async def get_appeal_statistics(
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
    from_: FromQ = None,
    to: ToQ = None,
    scheme: SchemeQ = None,
) -> dict[str, Any]:
    start, end = reports.period(reports.today(rt), from_, to)
    return await run_in_threadpool(reports.figures, rt, p, start, end, scheme)


@router.get(
    "/reports/appeals.xlsx",
    summary="申诉统计导出 Appeal statistics as an xlsx workbook",
    responses={
        200: {"content": {XLSX: {}}, "description": "xlsx 工作簿（工业和信息化部通告格式）"}
    },
)
async def get_appeal_statistics_xlsx(
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
    from_: FromQ = None,
    to: ToQ = None,
    scheme: SchemeQ = None,
) -> Response:
    start, end = reports.period(reports.today(rt), from_, to)
    content, name = await run_in_threadpool(reports.workbook, rt, p, start, end, scheme)
    return Response(
        content,
        media_type=XLSX,
        headers={"Content-Disposition": reports.disposition(name, start, end)},
    )
