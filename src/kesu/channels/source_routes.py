"""Messages in: `POST /api/v1/channels/{source}/messages` (signed by the source, no
sign-in: channels.messages_in) and `/api/v1/channel-sources`, the sources for admins
(`channel_sources.manage`: channels.source_admin)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import JsonDict

from kesu.accounts.roles import Principal
from kesu.accounts.web import principal
from kesu.channels import messages_in, source_admin, sources
from kesu.runtime import Runtime
from kesu.web.http import runtime

router = APIRouter(prefix="/api/v1", tags=["channels"], dependencies=[Depends(principal)])
signed_router = APIRouter(prefix="/api/v1", tags=["channels"])
SourceName = Annotated[str, Path(description="消息来源名称 Source name")]

_MESSAGE_SCHEMA = messages_in.MessageIn.model_json_schema(by_alias=True)
_ANSWER = {
    "type": "object",
    "properties": {
        "result": {"type": "string", "enum": ["registered", "supplemented"]},
        "number": {"type": "string"},
        "already_received": {"type": "boolean"},
    },
}


@signed_router.post(
    "/channels/{source}/messages",
    summary="接收短信、微信、App 消息（签名） Take in a customer's message (signed)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _MESSAGE_SCHEMA}},
        }
    },
    responses={
        200: {
            "description": "补充到已有投诉，或此前已收到",
            "content": {"application/json": {"schema": _ANSWER}},
        },
        201: {"description": "登记为新投诉", "content": {"application/json": {"schema": _ANSWER}}},
    },
)
async def take_message(
    source: SourceName,
    request: Request,
    x_kesu_timestamp: Annotated[
        str | None, Header(alias=sources.TIMESTAMP_HEADER, description="Unix 秒")
    ] = None,
    x_kesu_signature: Annotated[
        str | None,
        Header(alias=sources.SIGNATURE_HEADER, description="sha256=<HMAC-SHA256 of ts.body>"),
    ] = None,
    rt: Runtime = Depends(runtime),
) -> Response:
    """Signed with the source's secret: `X-Kesu-Signature: sha256=<hex>` of
    `<X-Kesu-Timestamp>.<body>`, the timestamp within 5 minutes; each signed request is
    taken once. The message is added to the open complaint it refers to, or registered."""
    body = await request.body()
    answer, created = await run_in_threadpool(
        messages_in.take, rt, source, x_kesu_timestamp, x_kesu_signature, body
    )
    return JSONResponse(answer, status_code=201 if created else 200)


_KINDS: JsonDict = {"enum": list(sources.KINDS)}


class SourceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(
        description="来源名称（用在接收地址中）",
        json_schema_extra={"pattern": source_admin.NAME_PATTERN},
    )
    kind: str = Field(description="sms 短信 / wechat 微信 / app", json_schema_extra=_KINDS)
    label: str | None = Field(None, max_length=100, description="说明")
    secret: str | None = Field(
        None,
        description="签名密钥；不填则由系统生成，仅在创建时返回一次",
        json_schema_extra={"pattern": source_admin.SECRET_PATTERN},
    )


class SourceChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str | None = Field(None, max_length=100, description="新的说明")
    active: bool | None = Field(None, description="false 暂停，true 恢复")
    new_secret: bool = Field(False, description="true：换一个新的密钥（仅在本次返回）")


@router.get("/channel-sources", summary="消息接入来源 Message sources")
async def sources_list(
    rt: Runtime = Depends(runtime), p: Principal = Depends(principal)
) -> dict[str, Any]:
    return await run_in_threadpool(source_admin.listing, rt, p)


@router.post("/channel-sources", status_code=201, summary="新建消息来源 Add a source")
async def sources_create(
    body: SourceIn, rt: Runtime = Depends(runtime), p: Principal = Depends(principal)
) -> dict[str, Any]:
    """The answer carries the signing secret: it is shown this once."""
    return await run_in_threadpool(
        source_admin.create, rt, p, body.name, body.kind, body.label, body.secret
    )


@router.get("/channel-sources/{source}", summary="一个消息来源 One source")
async def sources_one(
    source: SourceName, rt: Runtime = Depends(runtime), p: Principal = Depends(principal)
) -> dict[str, Any]:
    return await run_in_threadpool(source_admin.one, rt, p, source)


@router.patch("/channel-sources/{source}", summary="修改、暂停、恢复或换密钥 Change a source")
async def sources_change(
    source: SourceName,
    body: SourceChange,
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
) -> dict[str, Any]:
    return await run_in_threadpool(
        source_admin.change, rt, p, source, body.label, body.active, body.new_secret
    )


@router.delete("/channel-sources/{source}", status_code=204, summary="删除消息来源 Delete")
async def sources_delete(
    source: SourceName, rt: Runtime = Depends(runtime), p: Principal = Depends(principal)
) -> Response:
    await run_in_threadpool(source_admin.delete, rt, p, source)
    return Response(status_code=204)
