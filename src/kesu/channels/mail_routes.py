"""/api/v1/mail/held: mail held for an agent (channels.mail_held) listed with the sender
masked, registered once the agent gives the customer's phone number, or discarded with
a reason."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from kesu.accounts.roles import Principal
from kesu.accounts.web import principal
from kesu.channels import mail_held
from kesu.complaints.schemas import PHONE_PATTERN
from kesu.runtime import Runtime
from kesu.web.http import runtime

router = APIRouter(prefix="/api/v1", tags=["channels"])
MailId = Annotated[int, Path(ge=1, le=2**62, description="邮件编号 Mail id")]


class PhoneIn(BaseModel):
    """The customer's phone number the agent found (in the mail, or by calling)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    # The pattern is documented; the service checks the number (422 invalid_phone).
    phone: Annotated[
        str, Field(min_length=1, max_length=32, json_schema_extra={"pattern": PHONE_PATTERN})
    ]


class ReasonIn(BaseModel):
    """Why the held mail is no complaint (spam, a wrong address …)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: Annotated[
        str,
        Field(min_length=1, max_length=mail_held.MAX_REASON, json_schema_extra={"pattern": r"\S"}),
    ]


@router.get("/mail/held", summary="待人工处理的邮件 Mail held for an agent")
async def held_mail(
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    items = await run_in_threadpool(mail_held.listing, rt, p, limit)
    return {"items": items}


@router.post(
    "/mail/held/{mail_id}/register",
    summary="补充电话后登记 Register a held mail with the phone number",
)
async def register_held_mail(
    mail_id: MailId,
    body: PhoneIn,
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
) -> dict[str, Any]:
    return await run_in_threadpool(mail_held.register, rt, mail_id, body.phone, p)


@router.post("/mail/held/{mail_id}/discard", summary="作废待处理邮件 Discard a held mail")
async def discard_held_mail(
    mail_id: MailId,
    body: ReasonIn,
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
) -> dict[str, Any]:
    return await run_in_threadpool(mail_held.discard, rt, mail_id, body.reason, p)
