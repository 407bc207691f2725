"""Mass incidents (/incidents, /incidents/{id}): the list, and one incident with the
decision that opened it (k, λ, p, window, baseline — in Chinese), its complaints, the
one message to their customers (an agent drafts, a supervisor approves and it is sent)
and closing with a summary. Everything goes through kesu.incidents.service."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from kesu.accounts.roles import require
from kesu.incidents import service
from kesu.problems import Problem
from kesu.web.pages import Page, PageRoute, redirect, render, staff

router = APIRouter(route_class=PageRoute, include_in_schema=False)
DONE = ("drafted", "approved", "closed")


@router.get("/incidents")
async def incidents_list(pg: Page = Depends(staff)) -> Response:
    state = pg.request.query_params.get("state")
    state = state if state in service.STATES else None
    items = await run_in_threadpool(service.listing, pg.rt, pg.p, state)
    return render(pg, "incidents/list.html", items=items, state=state, states=service.STATES)


async def _show(pg: Page, iid: int, status: int = 200, **typed: str) -> Response:
    incident = await run_in_threadpool(service.one, pg.rt, pg.p, iid)
    done = pg.request.query_params.get("done")
    if done in DONE:
        pg.flash.append(("ok", pg.t(f"incidents.done.{done}")))
    return render(pg, "incidents/incident.html", status, incident=incident, typed=typed)


@router.get("/incidents/{iid}")
async def incident_page(iid: int, pg: Page = Depends(staff)) -> Response:
    require(pg.p, service.READ)
    return await _show(pg, iid)


async def _act(pg: Page, iid: int, done: str, call, *args, **typed: str) -> Response:
    try:
        await run_in_threadpool(call, pg.rt, pg.p, iid, *args)
    except Problem as problem:
        if problem.status in (401, 403, 404):
            raise
        pg.flash.append(("error", problem.detail))
        return await _show(pg, iid, problem.status, **typed)
    return redirect(f"/incidents/{iid}?done={done}", pg.request)


@router.post("/incidents/{iid}/message")
async def incident_draft(iid: int, pg: Page = Depends(staff)) -> Response:
    form = await pg.form()
    text = str(form.get("text") or "")
    return await _act(pg, iid, "drafted", service.draft, text, text=text)


@router.post("/incidents/{iid}/message/approve")
async def incident_approve(iid: int, pg: Page = Depends(staff)) -> Response:
    await pg.form()
    return await _act(pg, iid, "approved", service.approve)


@router.post("/incidents/{iid}/close")
async def incident_close(iid: int, pg: Page = Depends(staff)) -> Response:
    form = await pg.form()
    summary = str(form.get("summary") or "")
    return await _act(pg, iid, "closed", service.close, summary, summary=summary)
