"""The admin page of outgoing messages (/admin/outbox): the states, the senders this
installation has, the messages newest first with their last error, and a resend button
for the dead ones. Everything goes through kesu.channels.outbox_admin (permission,
masking, audit)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from kesu.channels import outbox, outbox_admin
from kesu.channels.senders import senders_for
from kesu.problems import Problem
from kesu.web.pages import Page, PageRoute, redirect, render, staff

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _int(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() and len(raw) < 19 else None


@router.get("/admin/outbox")
async def outbox_page(pg: Page = Depends(staff)) -> Response:
    q = pg.request.query_params
    status = q.get("status") if q.get("status") in outbox.STATES else None
    channel = q.get("channel") if q.get("channel") in outbox_admin.CHANNELS else None
    before = _int(q.get("before"))
    data = await run_in_threadpool(outbox_admin.listing, pg.rt, pg.p, status, channel, before)
    if (done := _int(q.get("resent"))) is not None:
        pg.flash.append(("ok", pg.t("outbox.resent", id=done)))
    senders = senders_for(pg.rt.settings)
    keep = {k: v for k, v in (("status", status), ("channel", channel)) if v}
    older = "/admin/outbox?" + urlencode({**keep, "before": data["next"]}) if data["next"] else None
    return render(
        pg,
        "admin/outbox.html",
        data=data,
        f={"status": status or "", "channel": channel or ""},
        states=outbox.STATES,
        channels=outbox_admin.CHANNELS,
        senders={c: senders[c].name if c in senders else "none" for c in ("sms", "email")},
        older=older,
    )


@router.post("/admin/outbox/{message_id}/resend")
async def outbox_resend(message_id: int, pg: Page = Depends(staff)) -> Response:
    try:
        await run_in_threadpool(outbox_admin.resend, pg.rt, pg.p, message_id)
    except Problem as e:
        if e.status == 403:
            raise
        pg.flash.append(("error", e.detail))
        return await outbox_page(pg)
    return redirect(f"/admin/outbox?resent={message_id}", pg.request)
