"""The admin page of customer notification templates (/admin/notification-templates):
each template with the event that sends it, its text in force and a preview as the
customer receives it; an edit form, "restore the default", and the history of versions.
Everything goes through kesu.channels.templates (permission, checks, audit)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from kesu.channels import templates
from kesu.problems import Problem
from kesu.web.pages import Page, PageRoute, redirect, render, staff

router = APIRouter(route_class=PageRoute, include_in_schema=False)
PATH = "/admin/notification-templates"


@router.get(PATH)
async def templates_page(pg: Page = Depends(staff)) -> Response:
    data = await run_in_threadpool(templates.listing, pg.rt, pg.p)
    if saved := pg.request.query_params.get("saved"):
        key = f"tpl.name.{saved}"
        shown = pg.t(key) if pg.t(key) != key else saved
        pg.flash.append(("ok", pg.t("tpl.saved", name=shown)))
    return render(pg, "admin/notification_templates.html", data=data)


@router.get(PATH + "/{key}")
async def template_page(key: str, pg: Page = Depends(staff), draft: str | None = None) -> Response:
    tpl = await run_in_threadpool(templates.one, pg.rt, pg.p, key)
    return render(pg, "admin/notification_template.html", tpl=tpl, draft=draft)


@router.post(PATH + "/{key}")
async def template_save(key: str, pg: Page = Depends(staff)) -> Response:
    form = await pg.form()
    restore = form.get("restore") == "1"
    text = None if restore else str(form.get("text") or "")
    note = str(form.get("note") or "")
    try:
        await run_in_threadpool(templates.save, pg.rt, pg.p, key, text, note)
    except Problem as e:
        if e.status in (403, 404):
            raise
        pg.flash.append(("error", e.detail))
        tpl = await run_in_threadpool(templates.one, pg.rt, pg.p, key)
        return render(pg, "admin/notification_template.html", tpl=tpl, draft=text, status=422)
    return redirect(f"{PATH}?saved={key}", pg.request)
