"""HTTP routes of intake: `POST /api/v1/complaints`, the API channel into the one
registration (channels.intake). Reading and changing complaints stay in
complaints/routes.py.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.concurrency import run_in_threadpool

from kesu.accounts.roles import Principal
from kesu.accounts.web import principal
from kesu.channels import intake
from kesu.complaints.schemas import ComplaintIn
from kesu.runtime import Runtime
from kesu.web.http import runtime

router = APIRouter(prefix="/api/v1", tags=["complaints"])


@router.post(
    "/complaints",
    status_code=201,
    summary="登记投诉 Register a complaint",
    responses={200: {"description": "同一 Idempotency-Key 再次提交：返回已登记的投诉，不重复登记"}},
)
async def create_complaint(
    body: ComplaintIn,
    request: Request,
    response: Response,
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> dict[str, Any]:
    fingerprint = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
    view, created = await run_in_threadpool(
        intake.receive, rt, body, p, idempotency_key, fingerprint
    )
    response.status_code = 201 if created else 200
    response.headers["Location"] = f"/api/v1/complaints/{view['number']}"
    return view
