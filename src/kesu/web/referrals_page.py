"""The referrals page (/referrals): the latest regulator referrals with their complaint,
due date and answer; an upload of the administration's referral list (xlsx: each bad row
reported with its problem, nothing of it written); the answer to the regulator (handling,
result) and its printable document. Everything goes through kesu.channels.referrals and
referral_import (permissions, checks, audit)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from kesu.channels import referral_import, referrals
from kesu.problems import Problem
from kesu.web.pages import Page, PageRoute, redirect, render, staff

router = APIRouter(route_class=PageRoute, include_in_schema=False)
MAX_UPLOAD = 10 * 1024 * 1024


async def _page(pg: Page, status: int = 200, **extra: Any) -> Response:
    items = await run_in_threadpool(referrals.listing, pg.rt, pg.p)
    if (done := pg.request.query_params.get("replied")) and len(done) <= 60:
        pg.flash.append(("ok", pg.t("referrals.replied", ref=done)))
    ctx = {"report": None, "summary": None, **extra}
    return render(pg, "referrals/list.html", status, items=items, quote=quote, **ctx)


@router.get("/referrals")
async def referrals_page(pg: Page = Depends(staff)) -> Response:
    return await _page(pg)


@router.post("/referrals/import")
async def referrals_import(pg: Page = Depends(staff)) -> Response:
    form = await pg.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        pg.flash.append(("error", pg.t("referrals.no_file")))
        return await _page(pg, 422)
    content = await upload.read(MAX_UPLOAD + 1)
    if len(content) > MAX_UPLOAD:
        pg.flash.append(("error", pg.t("referrals.too_large")))
        return await _page(pg, 413)
    source = str(form.get("source") or "").strip() or None
    try:
        report = await run_in_threadpool(referral_import.import_list, pg.rt, content, pg.p, source)
    except Problem as e:
        if e.status == 403:
            raise
        pg.flash.append(("error", e.detail))
        return await _page(pg, e.status)
    summary = referral_import.summary(report)
    pg.flash.append(("error" if report["errors"] else "ok", summary))
    return await _page(pg, 422 if report["errors"] else 200, report=report, summary=summary)


@router.post("/referrals/{ref}/reply")
async def referrals_reply(ref: str, pg: Page = Depends(staff)) -> Response:
    form = await pg.form()
    handling = str(form.get("handling") or "").strip()
    result = str(form.get("result") or "").strip()
    if not handling or not result:
        pg.flash.append(("error", pg.t("referrals.reply_missing")))
        return await _page(pg, 422)
    try:
        await run_in_threadpool(referrals.reply, pg.rt, ref, handling, result, pg.p)
    except Problem as e:
        if e.status == 403:
            raise
        pg.flash.append(("error", e.detail))
        return await _page(pg, e.status)
    return redirect(f"/referrals?replied={quote(ref, safe='')}", pg.request)
