"""HTTP routes of the accounts slice: sign-in, users, tokens, audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from kesu.accounts import audit, sessions, signin, tokens
from kesu.accounts import roles as r
from kesu.accounts import users as user_admin
from kesu.accounts.credentials import MIN_PASSWORD
from kesu.accounts.roles import Principal
from kesu.accounts.users import EMAIL, USERNAME
from kesu.accounts.web import SESSION_COOKIE, client_ip, principal
from kesu.clock import BEIJING, supported_date
from kesu.problems import Problem
from kesu.runtime import Runtime
from kesu.web.http import DATETIME_SCHEMA, runtime

router = APIRouter(prefix="/api/v1", tags=["accounts"])

Secret = Annotated[str, Field(min_length=1, max_length=200)]


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Secret


def _me(p: Principal) -> dict[str, Any]:
    return {
        "username": p.name,
        "role": p.role,
        "role_name": p.role_name,
        "org": p.org,
        "kind": p.kind,
        "permissions": sorted(p.permissions),
    }


def _set_session(response: Response, rt: Runtime, cookie: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        httponly=True,
        secure=rt.settings.cookie_secure,
        samesite="lax",
        max_age=int(sessions.SESSION_MAX.total_seconds()),
        path="/",
    )


@router.post("/auth/login", summary="登录 Sign in (session cookie)")
async def login(
    body: LoginIn, request: Request, response: Response, rt: Runtime = Depends(runtime)
) -> dict[str, Any]:
    cookie, csrf, p, user = await run_in_threadpool(
        signin.login,
        rt,
        body.username,
        body.password,
        client_ip(request),
        request.headers.get("user-agent"),
    )
    _set_session(response, rt, cookie)
    return {"user": user, "csrf_token": csrf, **_me(p)}


@router.post("/auth/logout", summary="退出登录 Sign out (ends the session on the server)")
async def logout(
    response: Response, p: Principal = Depends(principal), rt: Runtime = Depends(runtime)
) -> dict[str, Any]:
    await run_in_threadpool(sessions.logout, rt, p)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return {"ok": True}


@router.get("/auth/me", summary="当前用户 Who am I")
async def me(p: Principal = Depends(principal)) -> dict[str, Any]:
    return _me(p)


# The length rule is checked by credentials.check_password (code weak_password).
NewSecret = Annotated[
    str, Field(min_length=1, max_length=200, json_schema_extra={"minLength": MIN_PASSWORD})
]


class PasswordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    old_password: Secret
    new_password: NewSecret


@router.post("/auth/password", summary="修改密码 Change my password")
async def password(
    body: PasswordIn, p: Principal = Depends(principal), rt: Runtime = Depends(runtime)
) -> dict[str, Any]:
    await run_in_threadpool(signin.change_password, rt, p, body.old_password, body.new_password)
    return {"ok": True}


@router.get("/roles", summary="角色与权限 Roles and permissions")
async def roles(p: Principal = Depends(principal)) -> dict[str, Any]:
    return {"roles": r.roles(), "permissions": r.permissions()}


def _role_enum() -> dict[str, Any]:
    # Stated here, checked by users.set_role / create_user (codes unknown_role, invalid_username).
    return {"enum": sorted(r.roles())}


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    username: Annotated[
        str, Field(min_length=2, max_length=64, json_schema_extra={"pattern": USERNAME.pattern})
    ]
    role: Annotated[str, Field(max_length=20, json_schema_extra=_role_enum())]
    password: NewSecret | None = None
    org: Annotated[str, Field(max_length=100)] | None = None
    team: Annotated[str, Field(max_length=40)] | None = None
    display_name: Annotated[str, Field(max_length=100)] | None = None


@router.get("/users", summary="用户列表 Users")
async def users(p: Principal = Depends(principal), rt: Runtime = Depends(runtime)) -> dict:
    return {"items": await run_in_threadpool(user_admin.list_users, rt, p)}


@router.post("/users", status_code=201, summary="新建用户 Add a user")
async def add_user(
    body: UserIn, p: Principal = Depends(principal), rt: Runtime = Depends(runtime)
) -> dict[str, Any]:
    user, generated = await run_in_threadpool(
        user_admin.create_user,
        rt,
        p,
        body.username,
        body.role,
        body.password,
        body.org,
        body.team,
        body.display_name,
    )
    return {"user": user, "one_time_password": generated}


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    role: Annotated[str, Field(max_length=20, json_schema_extra=_role_enum())] | None = None
    org: Annotated[str, Field(max_length=100)] | None = None
    active: bool | None = None
    # Where staff notices are mailed; "" removes it (checked: invalid_email).
    email: (
        Annotated[str, Field(max_length=200, json_schema_extra={"pattern": f"^$|{EMAIL.pattern}"})]
        | None
    ) = None


@router.patch("/users/{username}", summary="修改角色、停用/启用、邮箱 Change role, disable, email")
async def patch_user(
    username: str,
    body: UserPatch,
    p: Principal = Depends(principal),
    rt: Runtime = Depends(runtime),
) -> dict[str, Any]:
    if body.role is None and body.active is None and body.email is None:
        raise Problem(
            422, "nothing_to_change", "Nothing to change", "请提供 role、active 或 email。"
        )
    user: dict[str, Any] = {}
    if body.email is not None:
        user = await run_in_threadpool(user_admin.set_email, rt, p, username, body.email)
    if body.role is not None:
        user = await run_in_threadpool(user_admin.set_role, rt, p, username, body.role, body.org)
    if body.active is not None:
        user = await run_in_threadpool(user_admin.set_active, rt, p, username, body.active)
    return user


def _permission_enum() -> dict[str, Any]:
    return {"enum": sorted(r.permissions())}


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    user: Annotated[str, Field(max_length=64)] | None = None
    name: Annotated[str, Field(min_length=1, max_length=100)] = "api"
    expires_days: Annotated[int, Field(ge=1, le=3650)] | None = 90
    scopes: (
        Annotated[
            list[Annotated[str, Field(max_length=40, json_schema_extra=_permission_enum())]],
            Field(max_length=30),
        ]
        | None
    ) = None


@router.post("/tokens", status_code=201, summary="创建令牌 Create a bearer token (shown once)")
async def create_token(
    body: TokenIn, p: Principal = Depends(principal), rt: Runtime = Depends(runtime)
) -> dict[str, Any]:
    raw, view = await run_in_threadpool(
        tokens.create_token, rt, p, body.user or p.name, body.name, body.expires_days, body.scopes
    )
    return {"token": raw, **view}


@router.delete("/tokens/{token_id}", summary="吊销令牌 Revoke a token")
async def revoke_token(
    token_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    p: Principal = Depends(principal),
    rt: Runtime = Depends(runtime),
) -> dict[str, Any]:
    return await run_in_threadpool(tokens.revoke_token, rt, p, token_id)


def _when(value: str | None, field: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Problem(
            422, "invalid_datetime", "Invalid time", f"“{field}”的时间格式不对。"
        ) from None
    return supported_date(parsed if parsed.tzinfo else parsed.replace(tzinfo=BEIJING), field)


@router.get("/audit", summary="审计日志 Audit log (auditors)")
async def audit_log(
    p: Principal = Depends(principal),
    rt: Runtime = Depends(runtime),
    actor: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=40)] = None,
    target_type: Annotated[str | None, Query(max_length=20)] = None,
    target_id: Annotated[str | None, Query(max_length=100)] = None,
    from_: Annotated[
        str | None, Query(alias="from", max_length=40, json_schema_extra=DATETIME_SCHEMA)
    ] = None,
    to: Annotated[str | None, Query(max_length=40, json_schema_extra=DATETIME_SCHEMA)] = None,
    before_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    f = {
        "actor": actor,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "from": _when(from_, "from"),
        "to": _when(to, "to"),
        "before_id": before_id,
        "limit": limit,
    }
    return await run_in_threadpool(audit.audit_entries, rt, p, f)


# -- legal hold and retention ---------------------------------------------------------


class HoldIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: Annotated[str, Field(min_length=2, max_length=500)]


@router.post("/complaints/{number}/legal-hold", summary="法律保全 Place a legal hold")
async def place_hold(
    number: str, body: HoldIn, p: Principal = Depends(principal), rt: Runtime = Depends(runtime)
) -> dict[str, Any]:
    from kesu.complaints import retention

    return await run_in_threadpool(retention.set_hold, rt, number, p, True, body.reason)


@router.delete("/complaints/{number}/legal-hold", summary="解除法律保全 Release a legal hold")
async def release_hold(
    number: str, p: Principal = Depends(principal), rt: Runtime = Depends(runtime)
) -> dict[str, Any]:
    from kesu.complaints import retention

    return await run_in_threadpool(retention.set_hold, rt, number, p, False, None)


@router.post("/retention/run", summary="执行保存期限清理 Run retention (dry_run to preview)")
async def retention_run(
    p: Principal = Depends(principal),
    rt: Runtime = Depends(runtime),
    dry_run: bool = True,
) -> dict[str, Any]:
    from kesu.complaints import retention

    return await run_in_threadpool(retention.run, rt, p, dry_run)


# -- the customer portal's sign-in ----------------------------------------------------------


# What customers.normalise accepts (stated here, checked there: code invalid_phone).
MOBILE_PATTERN = r"^(\+86)?[ ()-]*1[ ()-]*[3-9]([ ()-]*[0-9]){9}[ ()-]*$"


class CodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    # A mainland mobile number, as the portal's code is sent by SMS (channels/phones.py).
    phone: Annotated[
        str, Field(min_length=5, max_length=20, json_schema_extra={"pattern": MOBILE_PATTERN})
    ]


class CodeLoginIn(CodeIn):
    code: Annotated[str, Field(min_length=4, max_length=8)]


@router.post("/portal/code", summary="获取验证码 Send a one-time code to a phone")
async def portal_code(
    body: CodeIn, request: Request, rt: Runtime = Depends(runtime)
) -> dict[str, Any]:
    from kesu.accounts import customers

    return await run_in_threadpool(customers.request_code, rt, body.phone, client_ip(request))


@router.post("/portal/login", summary="验证码登录 Sign in with the code")
async def portal_login(
    body: CodeLoginIn, request: Request, response: Response, rt: Runtime = Depends(runtime)
) -> dict[str, Any]:
    from kesu.accounts import customers

    cookie, csrf, p = await run_in_threadpool(
        customers.verify,
        rt,
        body.phone,
        body.code,
        client_ip(request),
        request.headers.get("user-agent"),
    )
    _set_session(response, rt, cookie)
    return {"csrf_token": csrf, "kind": "customer"}


@router.get("/portal/complaints", summary="我的投诉 My complaints (customer session)")
async def portal_complaints(
    p: Principal = Depends(principal), rt: Runtime = Depends(runtime)
) -> dict[str, Any]:
    from kesu.complaints import queries

    if p.kind != "customer":
        raise Problem(
            403, "customers_only", "Customers only", "此接口供客户在门户中查询自己的投诉。"
        )
    return await run_in_threadpool(
        queries.list_complaints, rt, {"limit": 50, "sort": "received"}, p
    )
