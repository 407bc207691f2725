"""/api/v1/notices: the caller's own staff notices (channels.staff_notices) and their
switches. Every staff user, about themselves only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, create_model

from kesu.accounts.roles import Principal
from kesu.accounts.web import principal
from kesu.channels import staff_notices
from kesu.problems import Problem
from kesu.runtime import Runtime
from kesu.web.http import runtime

router = APIRouter(prefix="/api/v1", tags=["channels"], dependencies=[Depends(principal)])


class ReadIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: (
        Annotated[list[Annotated[int, Field(ge=1, le=2**31 - 1)]], Field(max_length=500)] | None
    ) = None
    all: bool = False


class Switch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    off: bool | None = None
    email: bool | None = None


# Per kind (channels.staff_notices.KINDS): `off`, `email`; a field for every kind there is.
Prefs = create_model(  # type: ignore[call-overload]
    "Prefs",
    __config__=ConfigDict(extra="forbid"),
    __doc__="Per kind (channels.staff_notices.KINDS): `off`, `email`.",
    **{kind: (Switch | None, None) for kind in staff_notices.KINDS},
)


@router.get("/notices", summary="我的通知 My notices")
async def notices(
    rt: Runtime = Depends(runtime), p: Principal = Depends(principal)
) -> dict[str, Any]:
    """The caller's notices, newest first, and the unread count."""
    return await run_in_threadpool(staff_notices.mine, rt, p)


@router.post("/notices/read", summary="标为已读 Mark notices read")
async def notices_read(
    body: ReadIn, rt: Runtime = Depends(runtime), p: Principal = Depends(principal)
) -> dict[str, Any]:
    """`{"ids": [...]}` or `{"all": true}`; only the caller's own notices change."""
    if body.all == (body.ids is not None):
        raise Problem(
            422, "nothing_to_change", "Nothing to change", "请提供 ids 或 all（二选一）。"
        )
    return await run_in_threadpool(staff_notices.read_mine, rt, p, None if body.all else body.ids)


@router.get("/notices/prefs", summary="我的通知设置 My notice switches")
async def notice_prefs(
    rt: Runtime = Depends(runtime), p: Principal = Depends(principal)
) -> dict[str, Any]:
    return await run_in_threadpool(staff_notices.my_prefs, rt, p)


@router.put("/notices/prefs", summary="修改通知设置 Change my notice switches")
async def set_notice_prefs(
    body: Prefs, rt: Runtime = Depends(runtime), p: Principal = Depends(principal)
) -> dict[str, Any]:
    """Per kind: `off` (not told at all), `email` (told by email too, where I have one)."""
    wanted = {k: v.model_dump(exclude_none=True) for k, v in body if isinstance(v, Switch)}
    return await run_in_threadpool(staff_notices.set_my_prefs, rt, p, wanted)
