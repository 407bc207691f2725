"""Corrective actions' pages: the list with its filters and the form that opens an action
from a group (/corrective-actions), one action with its history, forms and effect
(/corrective-actions/{id}), and the complaint page's section (workbench/_corrective.html,
opening an action for that complaint posts here too). Everything goes through
kesu.corrective (permissions, checks, audit)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import ValidationError

from kesu.accounts.roles import require
from kesu.corrective import effect, lifecycle, service, views
from kesu.corrective.schemas import ActionIn
from kesu.problems import Problem
from kesu.web.pages import Page, PageRoute, form_errors, redirect, render, staff

router = APIRouter(route_class=PageRoute, include_in_schema=False)

OPEN_FIELDS = ("title", "description", "owner", "due_on")
DONE = {"opened", "action", "progress"}


def _filters(pg: Page) -> dict[str, Any]:
    q = pg.request.query_params
    state = q.get("state") if q.get("state") in lifecycle.STATES else None
    owner = (q.get("owner") or "")[:64] or None
    return {"state": state, "owner": owner, "overdue": True if q.get("overdue") else None}


async def _list_page(
    pg: Page, values: dict[str, Any], errors: list[dict[str, str]], status: int = 200
) -> Response:
    f = _filters(pg)
    found = await run_in_threadpool(views.listing, pg.rt, pg.p, {**f, "limit": 200})
    return render(
        pg,
        "corrective/list.html",
        items=found["items"],
        f=f,
        states=lifecycle.STATES,
        values=values,
        errors=errors,
        default_due=(service.today(pg.rt) + timedelta(days=30)).isoformat(),
        status=status,
    )


@router.get("/corrective-actions")
async def listing(pg: Page = Depends(staff)) -> Response:
    require(pg.p, "corrective.read")
    done = pg.request.query_params.get("done")
    if done in DONE:
        pg.flash.append(("ok", pg.t(f"corrective.done.{done}")))
    return await _list_page(pg, {}, [])


def _open_body(form) -> dict[str, Any]:
    body: dict[str, Any] = {k: str(form.get(k) or "").strip() for k in OPEN_FIELDS}
    number = str(form.get("complaint") or "").strip()
    if number:
        body["complaint"] = number
    else:
        body["group"] = {k: str(form.get(k) or "").strip() or None for k in effect.GROUP_KEYS}
    return body


@router.post("/corrective-actions")
async def open_action(pg: Page = Depends(staff)) -> Response:
    """Open from the list's group form or from a complaint page (its number in the form)."""
    form = await pg.form()
    raw = _open_body(form)
    back = raw.get("complaint")
    try:
        body = ActionIn.model_validate(raw).as_body()
        action_id = await run_in_threadpool(service.open_action, pg.rt, body, pg.p)
    except ValidationError as err:
        if back:
            first = form_errors(err)[0]
            raise Problem(422, first["code"], "Invalid", first["detail"]) from None
        values = {**raw, **(raw.get("group") or {})}
        return await _list_page(pg, values, form_errors(err), 422)
    except Problem as problem:
        if back or problem.status != 422:
            raise
        values = {**raw, **(raw.get("group") or {})}
        error = {"field": "", "code": problem.code, "detail": problem.detail}
        return await _list_page(pg, values, [error], 422)
    return redirect(f"/corrective-actions/{action_id}?done=opened", pg.request)


@router.get("/corrective-actions/{action_id}")
async def one(action_id: int, pg: Page = Depends(staff)) -> Response:
    a = await run_in_threadpool(views.get, pg.rt, action_id, pg.p)
    done = pg.request.query_params.get("done")
    if done in DONE:
        pg.flash.append(("ok", pg.t(f"corrective.done.{done}")))
    return render(
        pg,
        "corrective/one.html",
        a=a,
        actions=lifecycle.ACTIONS,
        states=lifecycle.STATES,
        may_progress=a["state"] in lifecycle.LIVE
        and (pg.p.can("corrective.manage") or a["owner"] == pg.p.name),
    )


@router.post("/corrective-actions/{action_id}/act")
async def act(action_id: int, pg: Page = Depends(staff)) -> Response:
    form = await pg.form()
    action = str(form.get("action") or "")
    params: dict[str, Any] = {}
    for name in ("outcome", "note", "owner"):
        value = str(form.get(name) or "").strip()
        if value:
            params[name] = value
    due = str(form.get("due_on") or "").strip()
    if due:
        try:
            params["due_on"] = date.fromisoformat(due)
        except ValueError:
            raise Problem(
                422, "invalid_date", "Invalid date", "日期格式不对，应为 YYYY-MM-DD。"
            ) from None
    version = str(form.get("expected_version") or "")
    expected = int(version) if version.isdigit() else None
    await run_in_threadpool(service.transition, pg.rt, action_id, action, params, pg.p, expected)
    return redirect(f"/corrective-actions/{action_id}?done=action", pg.request)


@router.post("/corrective-actions/{action_id}/progress")
async def progress(action_id: int, pg: Page = Depends(staff)) -> Response:
    form = await pg.form()
    note = str(form.get("note") or "")
    await run_in_threadpool(service.progress, pg.rt, action_id, note, pg.p)
    return redirect(f"/corrective-actions/{action_id}?done=progress", pg.request)
