"""/api/v1/incidents: mass incidents (incidents.service), their one reviewed message to
the linked customers and their closing."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from kesu.accounts.roles import Principal
from kesu.accounts.web import principal
from kesu.incidents import service
from kesu.runtime import Runtime
from kesu.web.http import runtime

router = APIRouter(prefix="/api/v1", tags=["incidents"])

IncidentId = Annotated[int, Path(ge=1, le=2**31 - 1, description="群体性事件编号")]


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=service.MAX_TEXT, description="统一答复的短信正文")


class CloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    summary: str = Field(min_length=1, max_length=service.MAX_SUMMARY, description="关闭总结")


@router.get("/incidents", summary="群体性事件 Mass incidents")
async def list_incidents(
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
    state: Annotated[Literal["open", "closed"] | None, Query(description="open / closed")] = None,
) -> dict[str, Any]:
    """Incidents, newest first: id, category, area, opened_at, state, complaints (numbers)."""
    items = await run_in_threadpool(service.listing, rt, p, state)
    return {"items": items}


@router.get("/incidents/{incident_id}", summary="群体性事件详情 One mass incident")
async def get_incident(
    incident_id: IncidentId, rt: Runtime = Depends(runtime), p: Principal = Depends(principal)
) -> dict[str, Any]:
    """The incident with the decision that opened it (explanation), message and history."""
    return await run_in_threadpool(service.one, rt, p, incident_id)


@router.post("/incidents/{incident_id}/message", summary="拟定统一答复 Draft the message")
async def draft_message(
    incident_id: IncidentId,
    body: MessageIn,
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
) -> dict[str, Any]:
    """The message to every linked customer, waiting for a supervisor's approval."""
    return await run_in_threadpool(service.draft, rt, p, incident_id, body.text)


@router.post(
    "/incidents/{incident_id}/message/approve", summary="审核并发送统一答复 Approve and send"
)
async def approve_message(
    incident_id: IncidentId, rt: Runtime = Depends(runtime), p: Principal = Depends(principal)
) -> dict[str, Any]:
    """Approved by a supervisor other than its author, and sent by SMS through the outbox."""
    return await run_in_threadpool(service.approve, rt, p, incident_id)


@router.post("/incidents/{incident_id}/close", summary="关闭群体性事件 Close the incident")
async def close_incident(
    incident_id: IncidentId,
    body: CloseIn,
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
) -> dict[str, Any]:
    """Closed with a summary: later complaints of the cell no longer join it."""
    return await run_in_threadpool(service.close, rt, p, incident_id, body.summary)
