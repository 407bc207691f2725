"""The satisfaction survey page reached from the link in the reply SMS:
/portal/survey/{token}. No sign-in: the signed, one-time link is the credential (what it
allows and refuses is decided in `channels.portal_survey`). The form carries a token that
must match a cookie set with the page (double submit), like the sign-in forms."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from kesu.accounts.web import client_ip
from kesu.channels import portal_survey
from kesu.problems import Problem
from kesu.web.pages import Page, PageRoute, check_csrf, page, render, set_form_cookie

router = APIRouter(route_class=PageRoute, include_in_schema=False)

FORM_COOKIE = "kesu_survey_form"


def _page(pg: Page, token: str, data: dict[str, Any], **ctx: Any) -> Response:
    form_token = pg.request.cookies.get(FORM_COOKIE) or secrets.token_urlsafe(24)
    response = render(
        pg,
        "portal/survey.html",
        status=ctx.pop("status", 200),
        s=data,
        token=token,
        form_token=form_token,
        **ctx,
    )
    path = f"/portal/survey/{token}"
    set_form_cookie(response, FORM_COOKIE, form_token, path, pg.rt.settings.cookie_secure)
    return response


@router.get("/portal/survey/{token}")
async def survey_page(token: str, pg: Page = Depends(page)) -> Response:
    data = await run_in_threadpool(portal_survey.questions, pg.rt, token[:80], pg.lang)
    return _page(pg, token, data)


@router.post("/portal/survey/{token}")
async def survey_answer(token: str, pg: Page = Depends(page)) -> Response:
    form = await pg.request.form()
    check_csrf(str(form.get("csrf_token") or ""), pg.request.cookies.get(FORM_COOKIE))
    answers = {
        k.removeprefix("q."): str(v)[:40]
        for k, v in form.multi_items()
        if k.startswith("q.") and isinstance(v, str)
    }
    token = token[:80]
    try:
        result = await run_in_threadpool(
            portal_survey.answer, pg.rt, token, answers, client_ip(pg.request)
        )
    except Problem as problem:
        if problem.status not in (409, 422):
            raise
        data = await run_in_threadpool(portal_survey.questions, pg.rt, token, pg.lang)
        return _page(pg, token, data, error=problem.detail, chosen=answers, status=problem.status)
    return render(pg, "portal/survey_done.html", r=result)
