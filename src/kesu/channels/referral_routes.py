"""/api/v1/referrals: regulator referrals in (管局转办), the referral as recorded, the
operator's answer to the regulator and its printable document (channels.referrals); and
/api/v1/complaint-records, the appeal centre's signed question about a customer's
complaints here (channels.record_query)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Header, Path, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from kesu.accounts.roles import Principal
from kesu.accounts.web import optional_principal, principal
from kesu.channels import record_query, referral_signed, referrals, sources
from kesu.channels.referral_in import REF_PATTERN, ReferralIn
from kesu.complaints.schemas import MAX_DESCRIPTION
from kesu.runtime import Runtime
from kesu.web.http import runtime

router = APIRouter(prefix="/api/v1", tags=["channels"])
Ref = Annotated[
    str, Path(max_length=60, pattern=REF_PATTERN, description="转办编号 Regulator reference")
]
_TEXT = Field(min_length=1, max_length=MAX_DESCRIPTION, json_schema_extra={"pattern": r"\S"})


class ReplyIn(BaseModel):
    """The operator's answer to the regulator: how the complaint was handled, the result."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    handling: Annotated[str, _TEXT]
    result: Annotated[str, _TEXT]


async def referral_caller(
    request: Request,
    p: Principal | None = Depends(optional_principal),
    x_kesu_source: Annotated[
        str | None,
        Header(
            alias=sources.SOURCE_HEADER,
            max_length=40,
            description="转办来源代码（申诉受理中心的 kesu 签名发送时，不带令牌）",
        ),
    ] = None,
    x_kesu_timestamp: Annotated[
        str | None, Header(alias=sources.TIMESTAMP_HEADER, description="Unix 秒")
    ] = None,
    x_kesu_signature: Annotated[
        str | None,
        Header(alias=sources.SIGNATURE_HEADER, description="sha256=<HMAC-SHA256 of ts.body>"),
    ] = None,
    rt: Runtime = Depends(runtime),
) -> Principal:
    """A signed-in user (token or session), else a referral source's signed request."""
    if p is not None:
        return p
    if not x_kesu_source:
        return await principal(None)  # 401 unauthenticated, as on every other route
    body = await request.body()
    return await run_in_threadpool(
        referral_signed.verify, rt, x_kesu_source, x_kesu_timestamp, x_kesu_signature, body
    )


@router.post(
    "/referrals",
    status_code=201,
    summary="接收管局转办 Receive a regulator referral",
    responses={200: {"description": "同一转办编号再次提交：返回已登记的转办，不重复登记"}},
)
async def create_referral(
    body: ReferralIn,
    response: Response,
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(referral_caller),
) -> dict[str, Any]:
    """With a token (complaint.register), or without one when signed by a configured
    referral source (X-Kesu-Source, X-Kesu-Timestamp, X-Kesu-Signature; an appeal centre's
    kesu): channels.referral_signed."""
    if "referral_source" in p.extra:
        view, created = await run_in_threadpool(referral_signed.receive, rt, body, p)
    else:
        view, created = await run_in_threadpool(referrals.receive, rt, body, p)
    response.status_code = 201 if created else 200
    response.headers["Location"] = f"/api/v1/referrals/{quote(view['ref'], safe='')}"
    return view


@router.get("/referrals/{ref}", summary="查看转办 A referral and its complaint")
async def get_referral(
    ref: Ref, rt: Runtime = Depends(runtime), p: Principal = Depends(principal)
) -> dict[str, Any]:
    return await run_in_threadpool(referrals.view, rt, ref, p)


@router.post("/referrals/{ref}/reply", summary="答复管局 Answer the regulator")
async def reply_referral(
    ref: Ref, body: ReplyIn, rt: Runtime = Depends(runtime), p: Principal = Depends(principal)
) -> dict[str, Any]:
    return await run_in_threadpool(referrals.reply, rt, ref, body.handling, body.result, p)


@router.get(
    "/referrals/{ref}/reply",
    summary="答复管局的文书（可打印） The reply document",
    response_class=HTMLResponse,
)
async def reply_document(
    ref: Ref, rt: Runtime = Depends(runtime), p: Principal = Depends(principal)
) -> HTMLResponse:
    page = await run_in_threadpool(referrals.reply_document, rt, ref, p)
    return HTMLResponse(page)


@router.post(
    "/complaint-records", summary="查询客户的投诉记录（申诉受理中心） A customer's complaint record"
)
async def complaint_record(
    body: record_query.RecordQuery,
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(referral_caller),
) -> dict[str, Any]:
    """An appeal centre's kesu asks, signed as a referral source (X-Kesu-Source,
    X-Kesu-Timestamp, X-Kesu-Signature), whether and when the appellant complained here
    and was answered (电信用户申诉处理办法 第十条（四））; or a user with complaint.read.
    Only numbers, kinds, categories, statuses and days: channels.record_query."""
    return await run_in_threadpool(record_query.answer, rt, body, p)
