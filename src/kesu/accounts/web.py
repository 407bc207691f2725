"""Who is calling: bearer token or session cookie (with CSRF on changes)."""

from __future__ import annotations

import hmac

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from kesu.accounts import sessions, tokens
from kesu.accounts.roles import Principal
from kesu.problems import Problem
from kesu.runtime import Runtime
from kesu.web.http import runtime

SESSION_COOKIE = "kesu_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _unauthenticated(
    detail: str = "请先登录，或在 Authorization 头中提供令牌（Bearer）。",
) -> Problem:
    return Problem(
        401, "unauthenticated", "Unauthenticated", detail, headers={"WWW-Authenticate": "Bearer"}
    )


# Declared for the OpenAPI document (Swagger UI's "Authorize"); checked below.
_bearer = HTTPBearer(auto_error=False, description="kesu token create USER 或 POST /api/v1/tokens")
_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, description="POST /api/v1/auth/login")


async def optional_principal(
    request: Request,
    rt: Runtime = Depends(runtime),
    _b: HTTPAuthorizationCredentials | None = Depends(_bearer),
    _c: str | None = Depends(_cookie),
) -> Principal | None:
    ip = client_ip(request)
    auth = request.headers.get("authorization", "")
    if auth:
        scheme, _, raw = auth.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise _unauthenticated("Authorization 头应为“Bearer 令牌”。")
        p = await run_in_threadpool(tokens.token_principal, rt, raw.strip(), ip)
        if p is None:
            raise _unauthenticated("令牌无效、已过期或已吊销。")
        return p
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    found = await run_in_threadpool(sessions.session_principal, rt, cookie, ip)
    if found is None:
        raise _unauthenticated("登录已过期，请重新登录。")
    principal, csrf = found
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent and "form" in request.headers.get("content-type", ""):
            form = await request.form()
            sent = str(form.get("csrf_token", ""))
        if not sent or not hmac.compare_digest(sent, csrf):
            raise Problem(
                403,
                "csrf_failed",
                "CSRF check failed",
                "缺少或错误的 CSRF 令牌：页面已过期，请刷新后重试。",
            )
    return principal


async def principal(p: Principal | None = Depends(optional_principal)) -> Principal:
    if p is None:
        raise _unauthenticated()
    return p
