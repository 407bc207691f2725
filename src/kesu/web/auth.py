"""Sign-in, sign-out, language and the front door."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from kesu.accounts import roles as r
from kesu.accounts import sessions, signin
from kesu.accounts.routes import _set_session
from kesu.accounts.web import SESSION_COOKIE, client_ip
from kesu.problems import Problem
from kesu.web.pages import (
    Page,
    PageRoute,
    check_csrf,
    home_for,
    login_redirect_target,
    page,
    redirect,
    render,
    set_form_cookie,
    set_lang_cookie,
    staff_any,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# Before a person has a session, the sign-in form carries a token that must match this
# cookie (double submit, as the portal's sign-in does), so another site cannot sign a
# visitor in under someone else's account.
FORM_COOKIE = "kesu_login_form"
DEMO_ROLES = ("agent", "handler", "supervisor", "quality", "legal", "admin", "auditor", "reseller")
CENTRE_DEMO_ROLES = ("appeal_officer", "appeal_supervisor")  # KESU_MODE=centre or both


def _demo(pg: Page) -> list[tuple[str, str]] | None:
    if not pg.rt.settings.demo:
        return None
    table = r.roles()
    mode = pg.rt.settings.mode
    shown = (DEMO_ROLES if mode != "centre" else ()) + (
        CENTRE_DEMO_ROLES if mode != "operator" else ()
    )
    return [(role, table[role]["name" if pg.lang == "zh" else "en"]) for role in shown]


@router.get("/")
async def home(pg: Page = Depends(page)) -> Response:
    if pg.principal is None:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse(home_for(pg.principal), status_code=303)


def _login_page(pg: Page, status: int = 200, **ctx) -> Response:
    """The sign-in form with its CSRF token, kept in a cookie until the person signs in."""
    token = pg.request.cookies.get(FORM_COOKIE) or secrets.token_urlsafe(24)
    response = render(pg, "login.html", status=status, form_token=token, demo=_demo(pg), **ctx)
    set_form_cookie(response, FORM_COOKIE, token, "/login", pg.rt.settings.cookie_secure)
    return response


@router.get("/login")
async def login_form(pg: Page = Depends(page), next: str | None = None) -> Response:
    if pg.principal is not None and pg.principal.kind != "customer":
        return RedirectResponse(login_redirect_target(next) or "/", status_code=303)
    return _login_page(pg, next=login_redirect_target(next))


@router.post("/login")
async def login(request: Request, pg: Page = Depends(page)) -> Response:
    form = await request.form()
    username = str(form.get("username", ""))[:64]
    password = str(form.get("password", ""))[:256]
    target = login_redirect_target(str(form.get("next", "")))
    try:
        # No session yet: the form's token must match the sign-in cookie (double submit).
        check_csrf(str(form.get("csrf_token") or ""), request.cookies.get(FORM_COOKIE))
        cookie, _csrf, principal, _user = await run_in_threadpool(
            signin.login,
            pg.rt,
            username,
            password,
            client_ip(request),
            request.headers.get("user-agent"),
        )
    except Problem as problem:
        return _login_page(
            pg, status=problem.status, error=problem.detail, username=username, next=target
        )
    if principal.extra.get("must_change_password"):
        target = "/account/password"
    response = RedirectResponse(target if target != "/" else home_for(principal), status_code=303)
    _set_session(response, pg.rt, cookie)
    response.delete_cookie(FORM_COOKIE, path="/login")
    return response


@router.post("/logout")
async def logout(request: Request, pg: Page = Depends(page)) -> Response:
    if pg.principal is not None:
        await pg.form()
        await run_in_threadpool(sessions.logout, pg.rt, pg.principal)
    response = redirect("/login", request)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/lang/{code}")
async def lang(code: str, next: str | None = None) -> Response:
    response = RedirectResponse(login_redirect_target(next), status_code=303)
    set_lang_cookie(response, code)
    return response


@router.get("/account/password")
async def password_form(pg: Page = Depends(staff_any)) -> Response:
    return render(pg, "password.html", forced=bool(pg.p.extra.get("must_change_password")))


@router.post("/account/password")
async def password_change(pg: Page = Depends(staff_any)) -> Response:
    form = await pg.form()
    old = str(form.get("old") or "")
    new = str(form.get("new") or "")
    forced = bool(pg.p.extra.get("must_change_password"))
    if new != str(form.get("confirm") or ""):
        return render(
            pg, "password.html", status=422, forced=forced, error=pg.t("password.mismatch")
        )
    try:
        await run_in_threadpool(signin.change_password, pg.rt, pg.p, old, new)
    except Problem as problem:
        return render(
            pg, "password.html", status=problem.status, forced=forced, error=problem.detail
        )
    pg.p.extra["must_change_password"] = False
    return RedirectResponse(home_for(pg.p), status_code=303)
