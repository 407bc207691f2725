"""HTTP routes of complaint attachments (/api/v1/complaints/{number}/attachments)."""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Path, Response, UploadFile
from fastapi.concurrency import run_in_threadpool

from kesu.accounts.roles import Principal
from kesu.accounts.web import principal
from kesu.complaints import attachments
from kesu.runtime import Runtime
from kesu.web.http import runtime

router = APIRouter(prefix="/api/v1", tags=["complaints"])

# The request body an upload may send (app.py lets POST …/attachments through up to it).
UPLOAD_BODY_MAX = attachments.UPLOAD_BODY_MAX


@router.post(
    "/complaints/{number}/attachments",
    status_code=201,
    summary="添加附件 Add evidence (image, PDF, audio)",
)
async def upload_attachment(
    number: str,
    response: Response,
    file: Annotated[
        UploadFile,
        File(description=f"证据文件（{attachments.ALLOWED_TEXT}），单个最大 10 MB"),
    ],
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
) -> dict[str, Any]:
    # One byte more than allowed is enough to know the file is too large.
    data = await file.read(attachments.MAX_FILE_BYTES + 1)
    await file.close()
    meta = await run_in_threadpool(attachments.add, rt, number, file.filename or "", data, p)
    response.headers["Location"] = meta["url"]
    return meta


@router.get("/complaints/{number}/attachments", summary="附件列表 Evidence of a complaint")
async def list_attachments(
    number: str, rt: Runtime = Depends(runtime), p: Principal = Depends(principal)
) -> dict[str, Any]:
    return {"items": await run_in_threadpool(attachments.list_for, rt, number, p)}


def _disposition(filename: str) -> str:
    """`attachment` with the UTF-8 name (RFC 6266/5987) and a plain ASCII fallback."""
    stem, dot, ext = filename.rpartition(".")
    fallback = re.sub(r"[^A-Za-z0-9._-]", "_", stem if dot else filename).strip("_")
    fallback = (fallback or "attachment") + (dot + re.sub(r"[^A-Za-z0-9]", "", ext) if dot else "")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@router.get(
    "/complaints/{number}/attachments/{attachment_id}",
    summary="下载附件 Download evidence (audited)",
    response_class=Response,
    responses={200: {"content": {t: {} for t in attachments.TYPES}}},
)
async def download_attachment(
    number: str,
    attachment_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
) -> Response:
    meta, data = await run_in_threadpool(attachments.fetch, rt, number, attachment_id, p)
    return Response(
        content=data,
        media_type=meta["content_type"],
        headers={
            "Content-Disposition": _disposition(meta["filename"]),
            "X-Content-Type-Options": "nosniff",
            # Evidence holds personal data: not kept by shared caches, never run as a page.
            "Cache-Control": "private, no-store",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )
