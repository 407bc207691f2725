"""The centre's operators (/admin/appeal-operators, appeal.manage): each with its name and
address (第十二条（二）), its user base (the per-million rate) and, where it runs kesu, the
URL its referrals are posted to; a form to add or change one. A secret made for a new
connection is shown once. Everything goes through kesu.appeals.operators (permission,
checks, audit)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from kesu.accounts.roles import require
from kesu.appeals import operators
from kesu.problems import Problem
from kesu.web.pages import Page, PageRoute, render, staff

router = APIRouter(route_class=PageRoute, include_in_schema=False)
PATH = "/admin/appeal-operators"
FIELDS = ("code", "name", "address", "users", "referral_url")


async def _page(pg: Page, status: int = 200, **extra: Any) -> Response:
    require(pg.p, "appeal.manage")  # the list itself is readable by officers (API)
    items = await run_in_threadpool(operators.listing, pg.rt, pg.p)
    code = pg.request.query_params.get("edit")
    editing = next((o for o in items if o["code"] == code), None)
    f = {k: "" if editing is None or editing[k] is None else str(editing[k]) for k in FIELDS}
    ctx: dict[str, Any] = {"created": None, "f": f, "editing": editing is not None, **extra}
    return render(pg, "admin/appeal_operators.html", status, items=items, **ctx)


@router.get(PATH)
async def operators_page(pg: Page = Depends(staff)) -> Response:
    return await _page(pg)


@router.post(PATH)
async def operators_save(pg: Page = Depends(staff)) -> Response:
    form = await pg.form()
    f = {k: str(form.get(k) or "").strip() for k in FIELDS}
    editing = form.get("editing") == "1"
    users: int | None = None
    if f["users"]:
        if not f["users"].isdigit() or len(f["users"]) > 11:
            pg.flash.append(("error", pg.t("appeal.ops.bad_users")))
            return await _page(pg, 422, f=f, editing=editing)
        users = int(f["users"])
    try:
        saved = await run_in_threadpool(
            operators.save,
            pg.rt,
            pg.p,
            f["code"],
            f["name"],
            f["address"] or None,
            users,
            f["referral_url"] or None,
            None,
        )
    except Problem as e:
        if e.status == 403:
            raise
        pg.flash.append(("error", e.detail))
        return await _page(pg, e.status, f=f, editing=editing)
    pg.flash.append(("ok", pg.t("appeal.ops.saved", name=saved["name"])))
    return await _page(pg, 200, created=saved if saved.get("secret") else None)
