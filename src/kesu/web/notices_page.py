"""The signed-in user's staff notices (/notices): the header's unread counter (an
htmx-loaded fragment), the list newest first with "mark read" (one or all), and the
user's switches per kind (off, email). Everything goes through channels.staff_notices,
which only ever touches the caller's own notices."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from kesu.channels import staff_notices
from kesu.web.pages import Page, PageRoute, redirect, render, staff

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/notices/count")
async def notices_count(pg: Page = Depends(staff)) -> Response:
    """The header's counter: the user's unread notices (nothing when there are none)."""
    n = await run_in_threadpool(staff_notices.unread_count, pg.rt, pg.p)
    return render(pg, "notices/_count.html", n=n)


@router.get("/notices")
async def notices_page(pg: Page = Depends(staff)) -> Response:
    data = await run_in_threadpool(staff_notices.mine, pg.rt, pg.p)
    prefs = await run_in_threadpool(staff_notices.my_prefs, pg.rt, pg.p)
    done = pg.request.query_params.get("done")
    if done in ("read", "prefs"):
        pg.flash.append(("ok", pg.t(f"notices.done.{done}")))
    return render(pg, "notices/list.html", data=data, prefs=prefs["prefs"])


@router.post("/notices/read")
async def notices_read(pg: Page = Depends(staff)) -> Response:
    form = await pg.form()
    raw = str(form.get("id") or "")
    ids = None if form.get("all") else [int(raw)] if raw.isdigit() and len(raw) < 10 else []
    await run_in_threadpool(staff_notices.read_mine, pg.rt, pg.p, ids)
    return redirect("/notices?done=read", pg.request)


@router.post("/notices/prefs")
async def notices_prefs(pg: Page = Depends(staff)) -> Response:
    """Checkboxes: `on.<kind>` (told at all), `email.<kind>` (by email too)."""
    form = await pg.form()
    wanted = {
        kind: {"off": not form.get(f"on.{kind}"), "email": bool(form.get(f"email.{kind}"))}
        for kind in staff_notices.KINDS
    }
    await run_in_threadpool(staff_notices.set_my_prefs, pg.rt, pg.p, wanted)
    return redirect("/notices?done=prefs", pg.request)
