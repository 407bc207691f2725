"""The customer portal: sign in with a code, submit, follow, add to and rate complaints.

Pages only: what a customer may do and see is decided in `complaints.portal`.
Simplified Chinese by default, usable on a phone (body class "portal").
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from kesu.accounts import customers, masking, sessions
from kesu.accounts.routes import _set_session
from kesu.accounts.web import SESSION_COOKIE, client_ip
from kesu.appeals import recourse
from kesu.channels import portal, portal_track, portal_words
from kesu.problems import Problem
from kesu.web.pages import (
    Page,
    PageRoute,
    check_csrf,
    customer,
    page,
    redirect,
    render,
    set_form_cookie,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# Before a customer has a session, their sign-in forms carry a token that must match
# this cookie (double submit), so another site cannot sign a visitor in or send codes.
FORM_COOKIE = "kesu_portal_form"
DONE = ("info", "rated", "uploaded")


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.0f} MB" if n >= 1024 * 1024 else f"{n // 1024} KB"


def _max_file() -> int:
    from kesu.complaints import attachments

    return attachments.MAX_BYTES


def _form_limit(pg: Page) -> int:
    """The largest file the new-complaint form can carry: the form is an upload path for
    the body-size limit (app.BodyLimit), so the evidence limit itself."""
    return _max_file()


def _provinces() -> list[dict[str, str]]:
    from kesu.data_files import load_yaml

    return [{"name": p["name"], "en": p["en"]} for p in load_yaml("provinces.yaml")]


def _next(value: str | None) -> str:
    """Only portal pages after sign-in (no open redirect)."""
    if value and value.startswith("/portal") and not value.startswith("//"):
        return value
    return "/portal/complaints"


# -- landing -----------------------------------------------------------------------------


@router.get("/portal")
async def home(pg: Page = Depends(page)) -> Response:
    appeal = recourse.appeal_info(pg.rt)
    signed_in = pg.principal is not None and pg.principal.kind == "customer"
    return render(pg, "portal/home.html", appeal=appeal, signed_in=signed_in)


# -- sign-in -----------------------------------------------------------------------------


def _login_page(
    pg: Page,
    *,
    step: str = "phone",
    phone: str = "",
    next_url: str = "/portal/complaints",
    error: str | None = None,
    info: str | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    token = pg.request.cookies.get(FORM_COOKIE) or secrets.token_urlsafe(24)
    response = render(
        pg,
        "portal/login.html",
        status=status,
        headers=headers,
        step=step,
        phone=phone,
        next=next_url,
        error=error,
        info=info,
        form_token=token,
        demo=pg.rt.settings.demo,
    )
    set_form_cookie(response, FORM_COOKIE, token, "/portal", pg.rt.settings.cookie_secure)
    return response


async def _anonymous_form(pg: Page) -> Mapping[str, Any]:
    """A sign-in form, checked against the form cookie (there is no session yet)."""
    form = await pg.request.form()
    check_csrf(str(form.get("csrf_token") or ""), pg.request.cookies.get(FORM_COOKIE))
    return form


@router.get("/portal/login")
async def login_form(pg: Page = Depends(page), next: str | None = None) -> Response:
    if pg.principal is not None and pg.principal.kind == "customer":
        return RedirectResponse(_next(next), status_code=303)
    return _login_page(pg, next_url=_next(next))


@router.post("/portal/login")
async def login(request: Request, pg: Page = Depends(page)) -> Response:
    form = await _anonymous_form(pg)
    step = str(form.get("step") or "code")
    phone = str(form.get("phone") or "").strip()[:20]
    target = _next(str(form.get("next") or ""))
    ip = client_ip(request)
    if step == "verify":
        code = str(form.get("code") or "").strip()[:8]
        try:
            cookie, _csrf, _p = await run_in_threadpool(
                customers.verify, pg.rt, phone, code, ip, request.headers.get("user-agent")
            )
        except Problem as problem:
            back = "phone" if problem.code == "invalid_phone" else "verify"
            return _login_page(
                pg,
                step=back,
                phone=phone,
                next_url=target,
                error=problem.detail,
                status=problem.status,
            )
        response = RedirectResponse(target, status_code=303)
        _set_session(response, pg.rt, cookie)
        response.delete_cookie(FORM_COOKIE, path="/portal")
        return response
    try:
        await run_in_threadpool(customers.request_code, pg.rt, phone, ip)
    except Problem as problem:
        # A code sent a moment ago is still good: stay on the code step.
        back = "verify" if problem.code == "code_too_soon" else "phone"
        retry = problem.extra.get("retry_after")
        return _login_page(
            pg,
            step=back,
            phone=phone,
            next_url=target,
            error=problem.detail,
            status=problem.status,
            headers={"Retry-After": str(retry)} if retry else None,
        )
    shown = masking.phone(customers.normalise(phone))
    return _login_page(
        pg,
        step="verify",
        phone=phone,
        next_url=target,
        info=pg.t("portal.login.sent", phone=shown, minutes=customers.CODE_TTL.seconds // 60),
    )


@router.post("/portal/logout")
async def logout(request: Request, pg: Page = Depends(page)) -> Response:
    if pg.principal is not None and pg.principal.kind == "customer":
        await pg.form()
        await run_in_threadpool(sessions.logout, pg.rt, pg.principal)
    response = redirect("/portal", request)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# -- submit ------------------------------------------------------------------------------

NEW_FIELDS = ("phone", "name", "province", "category", "description", "demands")


def _new_page(pg: Page, values: dict[str, Any], errors=None, status: int = 200, headers=None):
    return render(
        pg,
        "portal/new.html",
        status=status,
        headers=headers,
        v=values,
        errors=errors or [],
        error_fields={e.get("field", "") for e in (errors or [])},
        categories=portal_words.categories(),
        provinces=_provinces(),
        token=values.get("token") or secrets.token_urlsafe(18),
        form_limit=_form_limit(pg),
        form_limit_text=_mb(_form_limit(pg)),
        max_file_text=_mb(_max_file()),
    )


@router.get("/portal/new")
async def new_form(pg: Page = Depends(customer)) -> Response:
    return _new_page(pg, {})


@router.post("/portal/new")
async def new_submit(pg: Page = Depends(customer)) -> Response:
    from kesu.complaints import attachments

    form = await pg.form()
    values = {k: str(form.get(k) or "")[:6000] for k in NEW_FIELDS}
    values["token"] = str(form.get("token") or "")[:64]
    upload = form.get("evidence")
    data = b""
    if upload is not None and not isinstance(upload, str) and upload.filename:
        data = await upload.read(attachments.MAX_BYTES + 1)
    try:
        result = await run_in_threadpool(portal.submit, pg.rt, pg.p, values, values["token"])
    except Problem as problem:
        errors = problem.extra.get("errors") or [
            {"field": _field_of(problem.code), "code": problem.code, "detail": problem.detail}
        ]
        retry = problem.extra.get("retry_after")
        return _new_page(
            pg,
            values,
            errors,
            status=problem.status,
            headers={"Retry-After": str(retry)} if retry else None,
        )
    attached = attach_error = None
    if data and result["created"]:
        try:
            attached = await run_in_threadpool(
                attachments.add,
                pg.rt,
                result["number"],
                upload.filename or "file",
                data,
                pg.p,
                "customer",
            )
        except Problem as problem:
            attach_error = problem.detail
    return render(
        pg,
        "portal/submitted.html",
        r=result,
        attached=attached,
        attach_error=attach_error,
    )


def _field_of(code: str) -> str:
    return {
        "phone_mismatch": "customer.phone",
        "invalid_phone": "customer.phone",
        "unknown_category": "category",
    }.get(code, "")


# -- my complaints ---------------------------------------------------------------------


@router.get("/portal/complaints")
async def mine(pg: Page = Depends(customer), saved: str | None = None) -> Response:
    items = await run_in_threadpool(portal_track.my_complaints, pg.rt, pg.p)
    only = await run_in_threadpool(portal.essential_only, pg.rt, pg.p)
    if saved == "messages":
        pg.flash.append(("ok", pg.t("portal.messages.saved")))
    return render(pg, "portal/list.html", items=items, essential_only=only)


@router.post("/portal/messages")
async def choose_messages(pg: Page = Depends(customer)) -> Response:
    """Every step by SMS, or only acceptance and the answer."""
    form = await pg.form()
    only = str(form.get("messages") or "") == "essential"
    await run_in_threadpool(portal.choose_messages, pg.rt, pg.p, only)
    return redirect("/portal/complaints?saved=messages", pg.request)


async def _detail_page(pg: Page, number: str, status: int = 200) -> Response:
    c = await run_in_threadpool(portal_track.detail, pg.rt, pg.p, number)
    return render(
        pg,
        "portal/detail.html",
        status=status,
        c=c,
        stages=portal_words.STAGES,
        max_file_text=_mb(_max_file()),
    )


@router.get("/portal/complaints/{number}")
async def complaint(number: str, pg: Page = Depends(customer), done: str | None = None) -> Response:
    if done in DONE:
        pg.flash.append(("ok", pg.t(f"portal.flash.{done}")))
    return await _detail_page(pg, number)


async def _change(pg: Page, number: str, done: str, call) -> Response:
    """Run a change; a refusal shows on the complaint's page, not on a bare error page."""
    try:
        await call()
    except Problem as problem:
        if problem.status == 404:
            raise
        pg.flash.append(("error", problem.detail))
        return await _detail_page(pg, number, status=problem.status)
    return redirect(f"/portal/complaints/{number}?done={done}", pg.request)


@router.post("/portal/complaints/{number}/info")
async def add_info(number: str, pg: Page = Depends(customer)) -> Response:
    form = await pg.form()
    text = str(form.get("text") or "")[: portal_words.MAX_INFO + 100]

    async def call():
        await run_in_threadpool(portal.add_information, pg.rt, pg.p, number, text)

    return await _change(pg, number, "info", call)


@router.post("/portal/complaints/{number}/rate")
async def rate(number: str, pg: Page = Depends(customer)) -> Response:
    form = await pg.form()
    result = str(form.get("result") or "")
    comment = str(form.get("comment") or "")[: portal_words.MAX_COMMENT + 100]

    async def call():
        await run_in_threadpool(portal.rate, pg.rt, pg.p, number, result, comment)

    return await _change(pg, number, "rated", call)


@router.post("/portal/complaints/{number}/attachments")
async def upload(number: str, pg: Page = Depends(customer)) -> Response:
    from kesu.complaints import attachments

    form = await pg.form()
    file = form.get("file")

    async def call():
        if file is None or isinstance(file, str) or not file.filename:
            raise Problem(422, "attachment_missing", "No file", "请选择要上传的文件。")
        data = await file.read(attachments.MAX_BYTES + 1)
        await run_in_threadpool(
            attachments.add, pg.rt, number, file.filename, data, pg.p, "customer"
        )

    return await _change(pg, number, "uploaded", call)
