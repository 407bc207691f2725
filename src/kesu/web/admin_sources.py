"""The admin page of message sources (/admin/channel-sources): each source with its
receiving URL, kind, state and how many messages it sent; a form to add one (its secret
shown once), pause/resume, a new secret (shown once), delete. Everything goes through
kesu.channels.source_admin (permission, checks, audit)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from kesu.channels import source_admin, sources
from kesu.problems import Problem
from kesu.web.pages import Page, PageRoute, redirect, render, staff

router = APIRouter(route_class=PageRoute, include_in_schema=False)
DONE = ("paused", "resumed", "deleted")
PATH = "/admin/channel-sources"


async def _page(pg: Page, status: int = 200, **extra: Any) -> Response:
    data = await run_in_threadpool(source_admin.listing, pg.rt, pg.p)
    q = pg.request.query_params
    for key in DONE:
        if (name := q.get(key)) and len(name) <= 40:
            pg.flash.append(("ok", pg.t(f"sources.{key}", name=name)))
    ctx = {"created": None, "f": {"name": "", "kind": "sms", "label": ""}, **extra}
    return render(pg, "admin/channel_sources.html", status, data=data, kinds=sources.KINDS, **ctx)


@router.get(PATH)
async def sources_page(pg: Page = Depends(staff)) -> Response:
    return await _page(pg)


@router.post(PATH)
async def sources_create(pg: Page = Depends(staff)) -> Response:
    form = await pg.form()
    f = {k: str(form.get(k) or "").strip() for k in ("name", "kind", "label", "secret")}
    try:
        made = await run_in_threadpool(
            source_admin.create, pg.rt, pg.p, f["name"], f["kind"], f["label"], f["secret"]
        )
    except Problem as e:
        if e.status == 403:
            raise
        pg.flash.append(("error", e.detail))
        return await _page(pg, e.status, f=f)
    pg.flash.append(("ok", pg.t("sources.created", name=made["name"])))
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
    return redirect(f"{PATH}?{done}={args[0]}", pg.request)


@router.post(PATH + "/{name}/pause")
async def sources_pause(name: str, pg: Page = Depends(staff)) -> Response:
    return await _act(pg, "paused", source_admin.change, name, None, False)


@router.post(PATH + "/{name}/resume")
async def sources_resume(name: str, pg: Page = Depends(staff)) -> Response:
    return await _act(pg, "resumed", source_admin.change, name, None, True)


@router.post(PATH + "/{name}/delete")
async def sources_delete(name: str, pg: Page = Depends(staff)) -> Response:
    return await _act(pg, "deleted", source_admin.delete, name)


@router.post(PATH + "/{name}/secret")
async def sources_secret(name: str, pg: Page = Depends(staff)) -> Response:
    """A new secret, shown on the page this once."""
    await pg.form()
    try:
        made = await run_in_threadpool(source_admin.change, pg.rt, pg.p, name, None, None, True)
    except Problem as e:
        if e.status == 403:
            raise
        pg.flash.append(("error", e.detail))
        return await _page(pg, e.status)
    return await _page(pg, created=made)
