"""The held-mail page (/mail/held): mail that reached the service mailbox without a
phone number (or failed too often), for an agent to register with the number or for a
handler to discard with a reason. Everything goes through kesu.channels.mail_held
(permissions, the one conditional update, audit)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from kesu.channels import mail_held
from kesu.problems import Problem
from kesu.web.pages import Page, PageRoute, redirect, render, staff

router = APIRouter(route_class=PageRoute, include_in_schema=False)
_DONE = {"registered", "supplement", "discarded"}


async def _page(pg: Page, status: int = 200, **extra: Any) -> Response:
    items = await run_in_threadpool(mail_held.listing, pg.rt, pg.p)
    done, number = pg.request.query_params.get("done"), pg.request.query_params.get("number")
    if done in _DONE:
        fit = number if number and len(number) <= 40 and number.isalnum() else ""
        pg.flash.append(("ok", pg.t(f"mail_held.done_{done}", number=fit)))
    return render(pg, "mail/held.html", status, items=items, **extra)


@router.get("/mail/held")
async def mail_held_page(pg: Page = Depends(staff)) -> Response:
    return await _page(pg)


async def _act(pg: Page, mail_id: int, what: str) -> Response:
    mail_id = mail_id if 0 < mail_id < 2**62 else 0  # no such mail (and no overflow in SQL)
    form = await pg.form()
    value = str(form.get(what) or "").strip()
    try:
        if what == "phone":
            out = await run_in_threadpool(mail_held.register, pg.rt, mail_id, value, pg.p)
        else:
            out = await run_in_threadpool(mail_held.discard, pg.rt, mail_id, value, pg.p)
    except Problem as e:
        if e.status == 403:
            raise
        pg.flash.append(("error", e.detail))
        return await _page(pg, e.status)
    if out["status"] not in _DONE:  # held again: the number did not make a valid complaint
        pg.flash.append(("error", out.get("note") or pg.t("mail_held.still_held")))
        return await _page(pg, 422)
    number = out.get("complaint_number") or ""
    return redirect(f"/mail/held?done={out['status']}&number={number}", pg.request)


@router.post("/mail/held/{mail_id}/register")
async def mail_held_register(mail_id: int, pg: Page = Depends(staff)) -> Response:
    return await _act(pg, mail_id, "phone")


@router.post("/mail/held/{mail_id}/discard")
async def mail_held_discard(mail_id: int, pg: Page = Depends(staff)) -> Response:
    return await _act(pg, mail_id, "reason")
