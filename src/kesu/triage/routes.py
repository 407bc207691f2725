"""HTTP routes of the triage slice."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from kesu.accounts.roles import Principal
from kesu.accounts.web import principal
from kesu.complaints.schemas import MAX_DESCRIPTION
from kesu.runtime import Runtime
from kesu.triage import service
from kesu.web.http import runtime

router = APIRouter(prefix="/api/v1", tags=["triage"])


class TriageIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    text: Annotated[str, Field(min_length=1, max_length=MAX_DESCRIPTION)]
    customer_phone: Annotated[str, Field(max_length=32)] | None = None
    city: Annotated[str, Field(max_length=50)] | None = None
    province: Annotated[str, Field(max_length=20)] | None = None


@router.post("/triage", summary="文本分诊 Triage a text")
async def triage(
    body: TriageIn,
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
    k: Annotated[int, Query(ge=0, le=50, description="相似投诉条数")] = 5,
) -> dict[str, Any]:
    return await run_in_threadpool(
        service.triage, rt, body.text, body.customer_phone, body.city, body.province, k, p
    )
