"""The admin pages for users and roles: list, add (with a one-time password), change a
user's role, disable or enable; the permission matrix of the roles.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from kesu.accounts import roles as r
from kesu.accounts import users as user_admin
from kesu.complaints import lifecycle
from kesu.data_files import load_yaml
from kesu.problems import Problem
from kesu.web.pages import Page, PageRoute, redirect, render, staff

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _done(pg: Page) -> None:
    """A message after a redirect (?done=role&user=li)."""
    q = pg.request.query_params
    done = q.get("done")
    if done in ("role", "enabled", "disabled", "created", "email"):
        pg.flash.append(("ok", pg.t(f"admin.done.{done}", user=q.get("user", "")[:64])))


def _users_page(
    pg: Page,
    status: int = 200,
    form: Mapping[str, str] | None = None,
    created: dict[str, Any] | None = None,
    password: str | None = None,
) -> Response:
    users = user_admin.list_users(pg.rt, pg.p)
    now = pg.rt.clock()
    for u in users:
        u["locked"] = bool(u["locked_until"] and datetime.fromisoformat(u["locked_until"]) > now)
    headers = {"Cache-Control": "no-store"} if password else None
    return render(
        pg,
        "admin/users.html",
        status=status,
        headers=headers,
        users=users,
        roles=r.roles(),
        f=form or {},
        created=created,
        password=password,
    )


@router.get("/admin/users")
async def users_page(pg: Page = Depends(staff)) -> Response:
    _done(pg)
    return await run_in_threadpool(_users_page, pg)


def _clean(form: Mapping[str, Any], key: str, limit: int = 100) -> str:
    return str(form.get(key) or "").strip()[:limit]


@router.post("/admin/users")
async def create_user(pg: Page = Depends(staff)) -> Response:
    form = await pg.form()
    # Sent back to the page on an error; the password never is.
    values = {k: _clean(form, k) for k in ("username", "display_name", "role", "org", "team")}
    password = str(form.get("password") or "") or None

    def work() -> Response:
        try:
            if values["team"] and values["team"] not in pg.rt.teams():
                raise Problem(
                    422, "unknown_team", "Unknown team", f"未知的班组“{values['team']}”。"
                )
            user, generated = user_admin.create_user(
                pg.rt,
                pg.p,
                values["username"],
                values["role"],
                password,
                org=values["org"] or None,
                team=values["team"] or None,
                display_name=values["display_name"] or None,
            )
        except Problem as problem:
            if problem.status in (401, 403):
                raise
            pg.flash.append(("error", problem.detail))
            return _users_page(pg, problem.status, values)
        pg.flash.append(("ok", pg.t("admin.done.created", user=user["username"])))
        return _users_page(pg, 200, None, user, generated)

    return await run_in_threadpool(work)


def _change(pg: Page, call, *args: Any) -> Response | None:
    """Run a change; a refusal the user can fix shows on the users page."""
    try:
        call(pg.rt, pg.p, *args)
    except Problem as problem:
        if problem.status in (401, 403):
            raise
        pg.flash.append(("error", problem.detail))
        return _users_page(pg, problem.status)
    return None


@router.post("/admin/users/{username}/role")
async def change_role(username: str, pg: Page = Depends(staff)) -> Response:
    form = await pg.form()
    role, org = _clean(form, "role", 20), _clean(form, "org") or None
    if role and r.roles().get(role, {}).get("scope") != "org":
        org = None  # the org field only means something for a reseller
    failed = await run_in_threadpool(_change, pg, user_admin.set_role, username, role, org)
    if failed is not None:
        return failed
    return redirect("/admin/users?" + urlencode({"done": "role", "user": username}), pg.request)


@router.post("/admin/users/{username}/active")
async def change_active(username: str, pg: Page = Depends(staff)) -> Response:
    form = await pg.form()
    active = str(form.get("active") or "") in ("1", "true", "on")
    failed = await run_in_threadpool(_change, pg, user_admin.set_active, username, active)
    if failed is not None:
        return failed
    done = "enabled" if active else "disabled"
    return redirect("/admin/users?" + urlencode({"done": done, "user": username}), pg.request)


@router.get("/admin/roles")
async def roles_page(pg: Page = Depends(staff)) -> Response:
    """The permission matrix, from roles.yaml (readable by all staff, as GET /api/v1/roles)."""
    data = load_yaml("accounts/roles.yaml")
    return render(
        pg,
        "admin/roles.html",
        roles=r.roles(),
        permissions=r.permissions(),
        actions=data.get("actions") or {},
        action_names=lifecycle.ACTIONS,
    )


@router.post("/admin/users/{username}/email")
async def change_email(username: str, pg: Page = Depends(staff)) -> Response:
    """The address staff notices are mailed to (empty: none); checked by users.set_email."""
    form = await pg.form()
    email = _clean(form, "email", 200) or None
    failed = await run_in_threadpool(_change, pg, user_admin.set_email, username, email)
    if failed is not None:
        return failed
    return redirect("/admin/users?" + urlencode({"done": "email", "user": username}), pg.request)
