"""What every page shares: templates, the signed-in person, CSRF, language, errors.

Pages call the same service functions as the API, so authorisation, masking and
audit are the service layer's (DESIGN.md). A page route raises `Problem` like an
API route; `PageRoute` turns it into an HTML page (or, for an htmx request, a
message in the page's flash area) instead of problem+json.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError
from starlette.requests import ClientDisconnect

from kesu.accounts import sessions
from kesu.accounts.roles import Principal
from kesu.accounts.web import SESSION_COOKIE, client_ip
from kesu.clock import BEIJING
from kesu.complaints import vocabulary as vocab
from kesu.problems import Problem, control_characters, field_error, has_control_characters
from kesu.runtime import Runtime
from kesu.web import i18n
from kesu.web.http import database_problem, runtime, validation_problem

TEMPLATES = Path(__file__).parent / "templates"
log = logging.getLogger("kesu.web")

env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=jinja2.select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,
)


def _when(value: str | datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An ISO time (UTC or with offset) shown in Beijing time."""
    if not value:
        return "—"
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(BEIJING).strftime(fmt)


env.filters["when"] = _when
env.globals["vocab"] = vocab


class LoginNeeded(Exception):
    """Raised by a page that needs a signed-in person; answered with a redirect."""

    def __init__(self, login_path: str = "/login") -> None:
        self.login_path = login_path


def check_csrf(sent: str | None, expected: str | None) -> None:
    """The token a form sent against the one its session (or sign-in cookie) holds."""
    if not expected or not sent or not hmac.compare_digest(sent, expected):
        raise Problem(
            403,
            "csrf_failed",
            "CSRF check failed",
            "页面已过期（CSRF 校验失败），请刷新页面后重试。",
        )


@dataclass
class Page:
    """One page request: who, which language, the CSRF token of the session."""

    request: Request
    rt: Runtime
    principal: Principal | None
    csrf: str | None
    lang: str
    flash: list[tuple[str, str]] = field(default_factory=list)

    @property
    def t(self) -> Callable[..., str]:
        return i18n.translator(self.lang)

    @property
    def p(self) -> Principal:
        if self.principal is None:
            raise LoginNeeded()
        return self.principal

    def can(self, permission: str) -> bool:
        return self.principal is not None and self.principal.can(permission)

    async def form(self) -> Mapping[str, Any]:
        """The posted form, after the CSRF check every change of state needs."""
        form = await self.request.form()
        for key, value in form.multi_items():  # multipart fields (urlencoded: TextGuard)
            if isinstance(value, str) and (
                has_control_characters(key) or has_control_characters(value)
            ):
                raise control_characters(key)
        check_csrf(
            str(form.get("csrf_token") or self.request.headers.get("x-csrf-token", "")),
            self.csrf,
        )
        return form


async def page(request: Request, rt: Runtime = Depends(runtime)) -> Page:
    lang = i18n.pick(request.query_params.get("lang") or request.cookies.get(i18n.COOKIE))
    cookie = request.cookies.get(SESSION_COOKIE)
    principal = csrf = None
    if cookie:
        found = await run_in_threadpool(sessions.session_principal, rt, cookie, client_ip(request))
        if found is not None:
            principal, csrf = found
    pg = Page(request, rt, principal, csrf, lang)
    request.state.page = pg  # an error page later shows who is signed in, with the menu
    return pg


class PasswordChangeNeeded(Exception):
    """The user signed in with a one-time password: a new one comes first."""


async def staff(pg: Page = Depends(page)) -> Page:
    """A page for signed-in staff (customers have the portal)."""
    if pg.principal is None or pg.principal.kind == "customer":
        raise LoginNeeded()
    if pg.principal.extra.get("must_change_password"):
        raise PasswordChangeNeeded()
    return pg


async def staff_any(pg: Page = Depends(page)) -> Page:
    """Signed-in staff, even before they replace a one-time password."""
    if pg.principal is None or pg.principal.kind == "customer":
        raise LoginNeeded()
    return pg


async def customer(pg: Page = Depends(page)) -> Page:
    if pg.principal is None or pg.principal.kind != "customer":
        raise LoginNeeded("/portal/login")
    return pg


def render(
    pg: Page, template: str, status: int = 200, headers: dict[str, str] | None = None, **ctx: Any
) -> HTMLResponse:
    values = {
        "pg": pg,
        "t": pg.t,
        "name": i18n.namer(pg.lang),
        "lang": pg.lang,
        "user": pg.principal,
        "csrf": pg.csrf or "",
        "path": pg.request.url.path,
        "now": pg.rt.clock(),
        # The teams as stored (admins add and rename them), as the vocabulary states them.
        "teams": pg.rt.team_names(),
    }
    values.update(ctx)
    html = env.get_template(template).render(values)
    return HTMLResponse(html, status_code=status, headers=headers)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def redirect(url: str, request: Request | None = None) -> Response:
    """After a POST: go to the page (303), or tell htmx to go there."""
    if request is not None and is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def form_errors(err: ValidationError) -> list[dict[str, str]]:
    """Pydantic errors as {field, code, detail} with Chinese details, as the API gives them."""
    return [field_error(e) for e in err.errors()]  # type: ignore[arg-type]


def error_page(request: Request, status: int, code: str, detail: str) -> Response:
    known = getattr(request.state, "page", None)
    if isinstance(known, Page):
        pg = Page(request, known.rt, known.principal, known.csrf, known.lang)
    else:
        lang = i18n.pick(request.cookies.get(i18n.COOKIE))
        pg = Page(request, request.app.state.runtime, None, None, lang)
    if is_htmx(request):
        resp = render(pg, "_flash.html", kind="error", message=detail, code=code)
        resp.headers["HX-Retarget"] = "#flash"
        resp.headers["HX-Reswap"] = "innerHTML"
        return resp
    return render(pg, "error.html", status=status, code=code, message=detail, status_code=status)


class PageRoute(APIRoute):
    """A route that answers with pages: problems become an error page, not JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginNeeded as need:
                target = need.login_path + "?next=" + quote(str(request.url.path))
                return redirect(target, request)
            except PasswordChangeNeeded:
                return redirect("/account/password", request)
            except Problem as problem:
                if problem.code in ("unauthenticated",):
                    return redirect("/login", request)
                return error_page(request, problem.status, problem.code, problem.detail)
            except RequestValidationError as err:  # a page's query or path parameter
                problem = validation_problem(err)
                return error_page(request, problem.status, problem.code, problem.detail)
            except DBAPIError as err:  # busy or conflicting, said as the API says it
                problem = database_problem(err, request.url.path)
                return error_page(request, problem.status, problem.code, problem.detail)
            except ClientDisconnect:  # the client left, or BodyLimit refused the body (413)
                return Response(status_code=400)
            except Exception:
                log.exception("page %s failed", request.url.path)
                return error_page(
                    request, 500, "internal_error", "服务器内部错误，已记录，请稍后重试。"
                )

        return route


def set_form_cookie(response: Response, name: str, token: str, path: str, secure: bool) -> None:
    """The pre-session CSRF token of a sign-in form (double submit), for one hour."""
    response.set_cookie(
        name, token, httponly=True, samesite="strict", secure=secure, path=path, max_age=3600
    )


def set_lang_cookie(response: Response, lang: str) -> None:
    response.set_cookie(i18n.COOKIE, i18n.pick(lang), max_age=365 * 86400, samesite="lax")


def login_redirect_target(value: str | None) -> str:
    """Only local paths after sign-in (no open redirect)."""
    if (
        value
        and value.startswith("/")
        and not value.startswith("//")
        and not any(ch == "\\" or ord(ch) < 32 for ch in value)
    ):
        return value
    return "/"


def home_for(p: Principal) -> str:
    if p.kind == "customer":
        return "/portal"
    if p.can("users.manage") or p.can("calendar.manage"):
        return "/admin"
    if p.can("audit.read") and not p.can("complaint.register"):
        return "/admin/audit"
    if p.can("report.read") and p.role in ("supervisor", "quality", "legal"):
        return "/dashboard"
    if p.can("appeal.read") and not p.can("complaint.read"):
        return "/appeals"  # the appeal centre's staff (KESU_MODE=centre or both)
    return "/workbench"
