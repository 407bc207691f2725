"""/api/v1/appeals: the appeal centre's API (appeals.service): receive an appeal, read
one or the queue, take an action on it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from kesu.accounts.roles import Principal
from kesu.accounts.web import principal
from kesu.appeals import lifecycle, operators, service
from kesu.appeals.schemas import AppealIn, TransitionIn
from kesu.runtime import Runtime
from kesu.web.http import one_of_pattern, runtime

router = APIRouter(prefix="/api/v1", tags=["appeals"])
Number = Annotated[
    str, Path(max_length=20, pattern=r"^SS[0-9]{14}$", description="申诉编号 Appeal number")
]


@router.post(
    "/appeals",
    status_code=201,
    summary="登记申诉 Receive an appeal",
    responses={200: {"description": "同一外部编号再次提交：返回已登记的申诉，不重复登记"}},
)
async def create_appeal(
    body: AppealIn,
    response: Response,
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
) -> dict[str, Any]:
    view, created = await run_in_threadpool(service.receive, rt, body, p)
    response.status_code = 201 if created else 200
    response.headers["Location"] = f"/api/v1/appeals/{view['number']}"
    return view


@router.get("/appeals", summary="申诉队列 The appeal queue")
async def list_appeals(
    queue: Literal["accept", "reply", "open", "all"] = "open",
    status: Annotated[
        str | None, Query(max_length=24, pattern=one_of_pattern(lifecycle.STATUSES))
    ] = None,
    operator: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
) -> dict[str, Any]:
    return await run_in_threadpool(service.listing, rt, p, queue, status, operator, limit)


@router.get("/appeals/{number}", summary="查看申诉 One appeal")
async def get_appeal(
    number: Number, rt: Runtime = Depends(runtime), p: Principal = Depends(principal)
) -> dict[str, Any]:
    return await run_in_threadpool(service.view, rt, number, p)


@router.post("/appeals/{number}/transitions", summary="办理申诉 Take an action on an appeal")
async def act_on_appeal(
    number: Number,
    body: TransitionIn,
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
) -> dict[str, Any]:
    return await run_in_threadpool(service.act, rt, number, body.action, body.params, p)


class OperatorIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: Annotated[str, Field(min_length=1, max_length=100)]
    address: Annotated[str, Field(max_length=300)] | None = None
    users: Annotated[int, Field(ge=0, le=10_000_000_000)] | None = None
    referral_url: Annotated[str, Field(max_length=500, pattern=r"^https?://[^/\s]+")] | None = None
    secret: Annotated[str, Field(min_length=16, max_length=200)] | None = None


@router.get("/appeal-operators", summary="被申诉企业 The operators")
async def list_operators(
    rt: Runtime = Depends(runtime), p: Principal = Depends(principal)
) -> list[dict[str, Any]]:
    return await run_in_threadpool(operators.listing, rt, p)


@router.put("/appeal-operators/{code}", summary="添加或修改被申诉企业 Save an operator")
async def save_operator(
    code: Annotated[str, Path(max_length=40, pattern=r"^[a-z][a-z0-9_-]{1,39}$")],
    body: OperatorIn,
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
) -> dict[str, Any]:
    return await run_in_threadpool(
        operators.save,
        rt,
        p,
        code,
        body.name,
        body.address,
        body.users,
        body.referral_url,
        body.secret,
    )
