"""The appellant's web form at the appeal centre (网上申诉): /portal/appeal, for a user
signed in to the portal with their phone number. What may be submitted and what the
appellant is told is decided in `appeals.appellant`."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from kesu.appeals import appellant
from kesu.problems import Problem
from kesu.web.pages import Page, PageRoute, customer, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _form(pg: Page, values: dict[str, Any], errors=None, status: int = 200) -> Response:
    return render(
        pg,
        "portal/appeal.html",
        status=status,
        v=values,
        errors=errors or [],
        error_fields={e.get("field", "") for e in (errors or [])},
        operators=appellant.operator_choices(pg.rt),
        token=values.get("token") or secrets.token_urlsafe(18),
    )


@router.get("/portal/appeal")
async def appeal_form(pg: Page = Depends(customer)) -> Response:
    return _form(pg, {})


@router.post("/portal/appeal")
async def appeal_submit(pg: Page = Depends(customer)) -> Response:
    form = await pg.form()
    values = {k: str(form.get(k) or "")[:4000] for k in appellant.FIELDS}
    values["token"] = str(form.get("token") or "")[:40]
    try:
        result = await run_in_threadpool(appellant.submit, pg.rt, pg.p, values, values["token"])
    except Problem as problem:
        errors = problem.extra.get("errors") or [
            {"field": "", "code": problem.code, "detail": problem.detail}
        ]
        return _form(pg, values, errors, status=problem.status)
    return render(pg, "portal/appeal_submitted.html", r=result)
