"""The admin page of webhooks out (/admin/webhooks): subscriptions with their state (and
why one was paused), a form to subscribe a URL (its secret shown once), test-send,
pause/resume, delete, and each subscription's delivery log. Everything goes through
kesu.channels.webhook_admin (permission, checks, audit)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from kesu.channels import webhook_admin, webhooks
from kesu.problems import Problem
from kesu.web.pages import Page, PageRoute, redirect, render, staff

router = APIRouter(route_class=PageRoute, include_in_schema=False)
DONE = ("tested", "paused", "resumed", "deleted")


async def _page(pg: Page, status: int = 200, **extra: Any) -> Response:
    data = await run_in_threadpool(webhook_admin.listing, pg.rt, pg.p)
    q = pg.request.query_params
    for key in DONE:
        if (sid := q.get(key)) and sid.isdigit() and len(sid) < 10:
            pg.flash.append(("ok", pg.t(f"webhooks.{key}", id=sid)))
    for s in data["items"]:
        if s["paused_automatically"]:
            pg.flash.append(("error", pg.t("webhooks.auto_paused", id=s["id"], url=s["url"])))
    ctx = {"created": None, "f": {"url": "", "events": list(webhooks.EVENTS)}, **extra}
    return render(pg, "admin/webhooks.html", status, data=data, events=webhooks.EVENTS, **ctx)


@router.get("/admin/webhooks")
async def webhooks_page(pg: Page = Depends(staff)) -> Response:
    return await _page(pg)


@router.post("/admin/webhooks")
async def webhooks_create(pg: Page = Depends(staff)) -> Response:
    form = await pg.form()
    url = str(form.get("url") or "").strip()
    chosen = [str(e) for e in form.getlist("events")]  # type: ignore[attr-defined]
    secret = str(form.get("secret") or "").strip() or None
    try:
        made = await run_in_threadpool(webhook_admin.create, pg.rt, pg.p, url, chosen, secret)
    except Problem as e:
        if e.status == 403:
            raise
        pg.flash.append(("error", e.detail))
        return await _page(pg, 422, f={"url": url, "events": chosen})
    pg.flash.append(("ok", pg.t("webhooks.created", id=made["id"])))
    return await _page(pg, 201, created=made)


async def _act(pg: Page, done: str, call: Callable[..., Any], *args: Any) -> Response:
    await pg.form()
    try:
        await run_in_threadpool(call, pg.rt, pg.p, *args)
    except Problem as e:
        if e.status == 403:
            raise
        pg.flash.append(("error", e.detail))
        return await _page(pg, e.status)
    return redirect(f"/admin/webhooks?{done}={args[0]}", pg.request)


@router.post("/admin/webhooks/{webhook_id}/test")
async def webhooks_test(webhook_id: int, pg: Page = Depends(staff)) -> Response:
    return await _act(pg, "tested", webhook_admin.test, webhook_id)


@router.post("/admin/webhooks/{webhook_id}/pause")
async def webhooks_pause(webhook_id: int, pg: Page = Depends(staff)) -> Response:
    return await _act(pg, "paused", webhook_admin.change, webhook_id, None, None, False)


@router.post("/admin/webhooks/{webhook_id}/resume")
async def webhooks_resume(webhook_id: int, pg: Page = Depends(staff)) -> Response:
    return await _act(pg, "resumed", webhook_admin.change, webhook_id, None, None, True)


@router.post("/admin/webhooks/{webhook_id}/delete")
async def webhooks_delete(webhook_id: int, pg: Page = Depends(staff)) -> Response:
    return await _act(pg, "deleted", webhook_admin.delete, webhook_id)


@router.get("/admin/webhooks/{webhook_id}")
async def webhook_log(webhook_id: int, pg: Page = Depends(staff)) -> Response:
    sub = await run_in_threadpool(webhook_admin.one, pg.rt, pg.p, webhook_id)
    log = await run_in_threadpool(webhook_admin.deliveries, pg.rt, pg.p, webhook_id)
    return render(pg, "admin/webhook_log.html", sub=sub, log=log["items"])
