"""HTTP routes for many complaints at once: POST /api/v1/complaints/bulk and the list's
exports GET /api/v1/complaints/export.csv | export.xlsx.

Included before `complaints.routes` (app.py), so `/complaints/export.csv` is not taken
for a complaint number by `/complaints/{number}`.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from kesu.accounts.roles import Principal
from kesu.accounts.web import principal
from kesu.complaints import bulk, export
from kesu.complaints.routes import list_filters
from kesu.complaints.schemas import BulkIn
from kesu.runtime import Runtime
from kesu.web.http import runtime

router = APIRouter(prefix="/api/v1", tags=["complaints"])


class BulkProblem(BaseModel):
    code: str
    detail: str
    status: int


class BulkResult(BaseModel):
    number: str
    status: Literal["done", "failed"]
    version: int | None = None
    complaint_status: str | None = None
    problem: BulkProblem | None = None


class BulkSummary(BaseModel):
    total: int
    done: int
    failed: int


class BulkOut(BaseModel):
    action: str
    results: list[BulkResult]
    summary: BulkSummary


@router.post(
    "/complaints/bulk",
    summary="批量操作 One action on several complaints",
    description=(
        "每件投诉单单独执行（各自一个事务、一条处理记录、一条审计）：失败的不受影响，"
        "也不撤销成功的。总是 200，逐件给出 `done`（新版本号）或 `failed`（与单件接口相同的"
        "code、detail、status）。Each complaint is its own transition; 200 with one result each."
    ),
    response_model=BulkOut,
    response_model_exclude_none=True,
)
async def post_bulk(
    body: BulkIn, rt: Runtime = Depends(runtime), p: Principal = Depends(principal)
) -> dict[str, Any]:
    params = body.params.model_dump(exclude_none=True)
    return await run_in_threadpool(bulk.run, rt, body.numbers, body.action, params, p, body.note)


def stream(file: export.Export) -> StreamingResponse:
    return StreamingResponse(
        file.chunks,
        media_type=file.media_type,
        headers={
            "Content-Disposition": "attachment; filename*=UTF-8''" + quote(file.filename),
            "X-Total-Count": str(file.rows),
            "Cache-Control": "no-store",
        },
    )


@router.get(
    "/complaints/export.csv",
    summary="导出投诉列表（CSV） Export the list as CSV",
    description="与列表相同的筛选条件；按角色脱敏；需要“查看投诉”与“查看报表与指标”权限；留痕。",
    responses={200: {"content": {"text/csv": {}}, "description": "CSV（UTF-8，带 BOM）"}},
)
async def export_csv(
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
    filters: dict[str, Any] = Depends(list_filters),
) -> StreamingResponse:
    return stream(await run_in_threadpool(export.export, rt, filters, "csv", p))


@router.get(
    "/complaints/export.xlsx",
    summary="导出投诉列表（Excel） Export the list as xlsx",
    description="与列表相同的筛选条件；按角色脱敏；需要“查看投诉”与“查看报表与指标”权限；留痕。",
    responses={200: {"content": {export.XLSX: {}}, "description": "xlsx 工作簿"}},
)
async def export_xlsx(
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
    filters: dict[str, Any] = Depends(list_filters),
) -> StreamingResponse:
    return stream(await run_in_threadpool(export.export, rt, filters, "xlsx", p))
