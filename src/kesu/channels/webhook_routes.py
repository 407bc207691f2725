"""/api/v1/webhooks: subscriptions of URLs to complaint events, for admins
(`outbox.manage`); a test delivery and each subscription's delivery log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import JsonDict

from kesu.accounts.roles import Principal
from kesu.accounts.web import principal
from kesu.channels import webhook_admin, webhooks
from kesu.problems import not_found
from kesu.runtime import Runtime
from kesu.web.http import runtime

router = APIRouter(prefix="/api/v1", tags=["channels"], dependencies=[Depends(principal)])
_MAX_ID = 2**31 - 1
WebhookId = Annotated[int, Path(ge=1, description="推送订阅编号 Subscription id")]


# The rules are checked in webhook_admin (stable codes, Chinese messages); the schema
# states them.
_URL: JsonDict = {"pattern": webhook_admin.URL_PATTERN, "maxLength": 500}
_EVENTS: JsonDict = {"minItems": 1, "items": {"type": "string", "enum": list(webhooks.EVENTS)}}


def _url(description: str, **default: Any) -> Any:
    return Field(description=description, json_schema_extra=_URL, **default)


def _events(description: str, **default: Any) -> Any:
    return Field(description=description, json_schema_extra=_EVENTS, **default)


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = _url("接收推送的网址（http/https）")
    events: list[str] = _events("订阅的事件")
    secret: str | None = Field(
        None,
        description="签名密钥；不填则由系统生成，仅在创建时返回一次",
        json_schema_extra={"pattern": webhook_admin.SECRET_PATTERN},
    )


class WebhookChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str | None = _url("新的网址", default=None)
    events: list[str] | None = _events("新的事件", default=None)
    active: bool | None = Field(None, description="false 暂停，true 恢复")


def _id(webhook_id: int) -> int:
    if webhook_id > _MAX_ID:
        raise not_found("推送订阅", str(webhook_id))
    return webhook_id


@router.get("/webhooks", summary="推送订阅 Webhook subscriptions")
async def webhooks_list(
    rt: Runtime = Depends(runtime), p: Principal = Depends(principal)
) -> dict[str, Any]:
    return await run_in_threadpool(webhook_admin.listing, rt, p)


@router.post("/webhooks", status_code=201, summary="新建推送订阅 Subscribe a URL")
async def webhooks_create(
    body: WebhookIn, rt: Runtime = Depends(runtime), p: Principal = Depends(principal)
) -> dict[str, Any]:
    """The answer carries the signing secret: it is shown this once."""
    return await run_in_threadpool(webhook_admin.create, rt, p, body.url, body.events, body.secret)


@router.get("/webhooks/{webhook_id}", summary="一个推送订阅 One subscription")
async def webhooks_one(
    webhook_id: WebhookId, rt: Runtime = Depends(runtime), p: Principal = Depends(principal)
) -> dict[str, Any]:
    return await run_in_threadpool(webhook_admin.one, rt, p, _id(webhook_id))


@router.patch("/webhooks/{webhook_id}", summary="修改、暂停或恢复 Change, pause, resume")
async def webhooks_change(
    webhook_id: WebhookId,
    body: WebhookChange,
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
) -> dict[str, Any]:
    return await run_in_threadpool(
        webhook_admin.change, rt, p, _id(webhook_id), body.url, body.events, body.active
    )


@router.delete("/webhooks/{webhook_id}", status_code=204, summary="删除订阅 Delete")
async def webhooks_delete(
    webhook_id: WebhookId, rt: Runtime = Depends(runtime), p: Principal = Depends(principal)
) -> Response:
    await run_in_threadpool(webhook_admin.delete, rt, p, _id(webhook_id))
    return Response(status_code=204)


@router.post("/webhooks/{webhook_id}/test", status_code=202, summary="测试推送 Test delivery")
async def webhooks_test(
    webhook_id: WebhookId, rt: Runtime = Depends(runtime), p: Principal = Depends(principal)
) -> dict[str, Any]:
    """A `ping` event queued for this subscription only."""
    return await run_in_threadpool(webhook_admin.test, rt, p, _id(webhook_id))


@router.get("/webhooks/{webhook_id}/deliveries", summary="推送记录 Delivery log")
async def webhooks_deliveries(
    webhook_id: WebhookId,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
) -> dict[str, Any]:
    return await run_in_threadpool(webhook_admin.deliveries, rt, p, _id(webhook_id), limit)
