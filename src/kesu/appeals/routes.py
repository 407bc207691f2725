"""/api/v1/appeals: the appeal centre's API (appeals.service): receive an appeal, read
one or the queue, take an action on it, ask a connected operator for the appellant's
complaint record."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from kesu.accounts.roles import Principal
from kesu.accounts.web import principal
from kesu.appeals import exchange, lifecycle, operator_record, operators, service
from kesu.appeals.schemas import AppealIn, TransitionIn
from kesu.channels import sources
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


_ANSWER_SCHEMA = exchange.AnswerIn.model_json_schema()
_ANSWER_SCHEMA["properties"]["operator_complaint"] = _ANSWER_SCHEMA.pop("$defs")[
    "OperatorComplaint"
]  # inlined: the document has no $defs of its own
_TAKEN = {
    "type": "object",
    "properties": {
        "result": {"type": "string", "enum": ["recorded", "already_recorded", "noted"]},
        "number": {"type": "string"},
        "status": {"type": "string"},
    },
}


@router.post(
    "/appeals/operator-answers",
    summary="接收企业对转办申诉的答复（签名） The operator's answer (signed)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _ANSWER_SCHEMA}},
        }
    },
    responses={200: {"description": "已登记", "content": {"application/json": {"schema": _TAKEN}}}},
)
async def take_operator_answer(
    request: Request,
    x_kesu_source: Annotated[
        str | None,
        Header(alias=sources.SOURCE_HEADER, max_length=40, description="企业代码（可省略）"),
    ] = None,
    x_kesu_timestamp: Annotated[
        str | None, Header(alias=sources.TIMESTAMP_HEADER, description="Unix 秒")
    ] = None,
    x_kesu_signature: Annotated[
        str | None,
        Header(alias=sources.SIGNATURE_HEADER, description="sha256=<HMAC-SHA256 of ts.body>"),
    ] = None,
    rt: Runtime = Depends(runtime),
) -> dict[str, Any]:
    """The `referral.replied` callback of an operator's kesu, signed with the secret the
    centre keeps for that operator (no sign-in): recorded on the appeal it names."""
    body = await request.body()
    return await run_in_threadpool(
        exchange.take, rt, x_kesu_source, x_kesu_timestamp, x_kesu_signature, body
    )


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


@router.get(
    "/appeals/{number}/referral-letter",
    summary="申诉转办函（可打印） The referral letter",
    response_class=HTMLResponse,
)
async def referral_letter(
    number: Number, rt: Runtime = Depends(runtime), p: Principal = Depends(principal)
) -> HTMLResponse:
    return HTMLResponse(await run_in_threadpool(service.referral_letter, rt, number, p))


@router.post("/appeals/{number}/transitions", summary="办理申诉 Take an action on an appeal")
async def act_on_appeal(
    number: Number,
    body: TransitionIn,
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
) -> dict[str, Any]:
    return await run_in_threadpool(service.act, rt, number, body.action, body.params, p)


@router.post(
    "/appeals/{number}/operator-record",
    summary="向被申诉企业查询投诉记录 Ask the operator for the appellant's complaints",
)
async def fetch_operator_record(
    number: Number, rt: Runtime = Depends(runtime), p: Principal = Depends(principal)
) -> dict[str, Any]:
    """Asks the connected operator's kesu now (signed, its POST /api/v1/complaint-records)
    and keeps the answer as evidence for 第十条（四）; answers the appeal as it now reads."""
    await run_in_threadpool(operator_record.fetch, rt, number, p)
    return await run_in_threadpool(service.view, rt, number, p)


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
