"""/api/v1/corrective-actions: open an action (from a complaint or a group), list them
(filters state, owner, overdue), read one (history, linked complaints, effect), record
progress, take a lifecycle action."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.concurrency import run_in_threadpool

from kesu.accounts.roles import Principal
from kesu.accounts.web import principal
from kesu.corrective import lifecycle, service, views
from kesu.corrective.schemas import ActionIn, ProgressIn, TransitionIn
from kesu.runtime import Runtime
from kesu.web.http import one_of_pattern, runtime

router = APIRouter(prefix="/api/v1", tags=["corrective-actions"])
ActionId = Annotated[int, Path(ge=1, le=2**62, description="整改任务编号 Action id")]


@router.post("/corrective-actions", status_code=201, summary="整改立项 Open a corrective action")
async def open_action(
    body: ActionIn,
    response: Response,
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
) -> dict[str, Any]:
    def run() -> dict[str, Any]:
        action_id = service.open_action(rt, body.as_body(), p)
        return views.get(rt, action_id, p)

    view = await run_in_threadpool(run)
    response.headers["Location"] = f"/api/v1/corrective-actions/{view['id']}"
    return view


@router.get("/corrective-actions", summary="整改任务列表 Corrective actions")
async def list_actions(
    state: Annotated[
        str | None, Query(max_length=16, pattern=one_of_pattern(lifecycle.STATES))
    ] = None,
    owner: Annotated[str | None, Query(max_length=64)] = None,
    overdue: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=views.MAX_LIMIT)] = 100,
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
) -> dict[str, Any]:
    f = {"state": state, "owner": owner, "overdue": overdue, "limit": limit}
    return await run_in_threadpool(views.listing, rt, p, f)


@router.get("/corrective-actions/{action_id}", summary="查看整改任务 One corrective action")
async def get_action(
    action_id: ActionId, rt: Runtime = Depends(runtime), p: Principal = Depends(principal)
) -> dict[str, Any]:
    return await run_in_threadpool(views.get, rt, action_id, p)


@router.post("/corrective-actions/{action_id}/progress", summary="记录整改进展 Record progress")
async def record_progress(
    action_id: ActionId,
    body: ProgressIn,
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
) -> dict[str, Any]:
    def run() -> dict[str, Any]:
        service.progress(rt, action_id, body.note, p)
        return views.get(rt, action_id, p)

    return await run_in_threadpool(run)


@router.post(
    "/corrective-actions/{action_id}/transitions",
    summary="整改任务流转 Start, close, cancel or reassign",
)
async def act_on_action(
    action_id: ActionId,
    body: TransitionIn,
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
) -> dict[str, Any]:
    params = body.model_dump(exclude={"action", "expected_version"}, exclude_none=True)

    def run() -> dict[str, Any]:
        service.transition(rt, action_id, body.action, params, p, body.expected_version)
        return views.get(rt, action_id, p)

    return await run_in_threadpool(run)
