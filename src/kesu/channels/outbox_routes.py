"""/api/v1/outbox: the messages kesu sends, and /api/v1/notification-templates: what
customers are told, for admins (`outbox.manage`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from kesu.accounts.roles import Principal
from kesu.accounts.web import principal
from kesu.channels import outbox_admin, templates
from kesu.problems import not_found
from kesu.runtime import Runtime
from kesu.web.http import runtime

router = APIRouter(prefix="/api/v1", tags=["channels"], dependencies=[Depends(principal)])
MessageId = Annotated[int, Path(ge=1, description="消息编号 Message id")]
_MAX_ID = 2**63 - 1


@router.get("/outbox", summary="外发消息 Outgoing messages")
async def outbox_list(
    status: Annotated[Literal["pending", "sent", "dead"] | None, Query()] = None,
    channel: Annotated[Literal["sms", "email", "webhook"] | None, Query()] = None,
    before: Annotated[int | None, Query(ge=1, le=_MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
) -> dict[str, Any]:
    """Newest first, filtered by state and channel; recipients masked, codes hidden."""
    return await run_in_threadpool(outbox_admin.listing, rt, p, status, channel, before, limit)


@router.get("/outbox/{message_id}", summary="一条外发消息 One outgoing message")
async def outbox_message(
    message_id: MessageId, rt: Runtime = Depends(runtime), p: Principal = Depends(principal)
) -> dict[str, Any]:
    if message_id > _MAX_ID:
        raise not_found("消息", str(message_id))
    return await run_in_threadpool(outbox_admin.message, rt, p, message_id)


@router.post("/outbox/{message_id}/resend", summary="重发失败的消息 Resend a dead message")
async def outbox_resend(
    message_id: MessageId, rt: Runtime = Depends(runtime), p: Principal = Depends(principal)
) -> dict[str, Any]:
    if message_id > _MAX_ID:
        raise not_found("消息", str(message_id))
    return await run_in_threadpool(outbox_admin.resend, rt, p, message_id)


# -- customer notification templates (channels.templates) ------------------------

TemplateKey = Annotated[str, Path(max_length=60, description="模板键 Template key")]


class TemplateIn(BaseModel):
    """A new text for the template (`text` null: back to the default of the file)."""

    text: Annotated[str, Field(max_length=1000)] | None
    note: Annotated[str, Field(max_length=200)] | None = None


@router.get("/notification-templates", summary="客户通知模板 Customer notification templates")
async def templates_list(
    rt: Runtime = Depends(runtime), p: Principal = Depends(principal)
) -> dict[str, Any]:
    return await run_in_threadpool(templates.listing, rt, p)


@router.get("/notification-templates/{key}", summary="一个通知模板及其历史 One template")
async def template_one(
    key: TemplateKey, rt: Runtime = Depends(runtime), p: Principal = Depends(principal)
) -> dict[str, Any]:
    return await run_in_threadpool(templates.one, rt, p, key)


@router.put("/notification-templates/{key}", summary="修改通知模板 Edit a template")
async def template_save(
    key: TemplateKey,
    body: TemplateIn,
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
) -> dict[str, Any]:
    """Saved as a new version (the history keeps every earlier text)."""
    return await run_in_threadpool(templates.save, rt, p, key, body.text, body.note)
