"""The queue's bulk bar, total and exports: act on the selected complaints (the same
`complaints.bulk.run` as POST /api/v1/complaints/bulk), the number of complaints the
queue's filters match, and the queue (or the selection) as CSV or Excel
(`complaints.export`, the same as GET /api/v1/complaints/export.*)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response, StreamingResponse

from kesu.accounts.roles import action_permissions
from kesu.complaints import bulk, export, lifecycle, queries
from kesu.complaints.bulk_routes import stream
from kesu.complaints.schemas import MAX_BULK
from kesu.problems import Problem, not_found
from kesu.web.complaint_page import ACTION_FIELDS
from kesu.web.pages import Page, PageRoute, render, staff
from kesu.web.workbench import _queue_filters

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# The bar's fields and their longest values (as the API's ActionParams takes them).
BAR_FIELDS = {"team": 40, "assignee": 64, "note": 2000}


@router.get("/workbench/total")
async def total(pg: Page = Depends(staff)) -> Response:
    f, _ = _queue_filters(pg, dict(pg.request.query_params))
    n = await run_in_threadpool(queries.count, pg.rt, f, pg.p)
    return render(pg, "workbench/_queue_total.html", n=n)


@router.get("/workbench/approvals-count")
async def approvals_count(pg: Page = Depends(staff)) -> Response:
    """The header's counter for those who may approve: complaints waiting for approval in
    their scope (the queue's 待审批 filter), nothing when there are none."""
    n = 0
    if pg.p.can_any(action_permissions("approve")):
        f = {"awaiting_approval": True}
        n = await run_in_threadpool(queries.count, pg.rt, f, pg.p)
    return render(pg, "workbench/_approvals_count.html", n=n)


def _format(fmt: str) -> str:
    if fmt not in export.FORMATS:
        raise not_found("导出格式", fmt)
    return fmt


@router.get("/workbench/export.{fmt}")
async def export_queue(fmt: str, pg: Page = Depends(staff)) -> StreamingResponse:
    """The queue as its filters (view, search, selects, due) show it, every page."""
    f, _ = _queue_filters(pg, dict(pg.request.query_params))
    file = await run_in_threadpool(export.export, pg.rt, f, _format(fmt), pg.p)
    return stream(file)


def _numbers(form) -> list[str]:
    numbers = list(dict.fromkeys(str(v).strip() for v in form.getlist("number") if v))
    if not numbers:
        raise Problem(422, "numbers_required", "Nothing selected", "请至少选择一件投诉单。")
    if len(numbers) > MAX_BULK:
        raise Problem(
            422,
            "too_many_items",
            "Too many",
            f"一次最多选择 {MAX_BULK} 件投诉单（已选 {len(numbers)} 件）。",
        )
    return numbers


@router.post("/workbench/export.{fmt}")
async def export_selected(fmt: str, pg: Page = Depends(staff)) -> StreamingResponse:
    """The selected complaints (the bar's 导出所选)."""
    form = await pg.form()
    f = {"numbers": _numbers(form)}
    file = await run_in_threadpool(export.export, pg.rt, f, _format(fmt), pg.p)
    return stream(file)


@router.post("/workbench/bulk")
async def bulk_action(pg: Page = Depends(staff)) -> Response:
    form = await pg.form()
    numbers = _numbers(form)
    action = str(form.get("action") or "")
    if action not in lifecycle.ACTIONS:
        raise Problem(
            422, "unknown_action", "Unknown action", f"请选择要执行的操作（“{action}”无效）。"
        )
    wanted = ACTION_FIELDS.get(action, tuple(BAR_FIELDS))
    params: dict[str, Any] = {}
    for name, longest in BAR_FIELDS.items():
        value = str(form.get(name) or "").strip()
        if value and name in wanted:
            params[name] = value[:longest]
    flag = str(form.get("flag") or "").strip()
    if action == "flag" and flag:
        params["add_flags"] = [flag]
    result = await run_in_threadpool(bulk.run, pg.rt, numbers, action, params, pg.p)
    back = str(form.get("back") or "")
    return render(
        pg,
        "workbench/bulk_result.html",
        result=result,
        action=action,
        lifecycle_actions=lifecycle.ACTIONS,
        back=back if back.startswith("/workbench") else "/workbench",
    )
