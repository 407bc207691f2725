"""The administration front page (/admin) and the gate of the admin area.

Every read and change on the admin pages goes through the service functions the API
uses, so the permission checks, the audit entries and the recomputation of deadlines
are theirs. What the pages add: forms, Chinese messages, and a few guards for form
input the services take on trust (a team code, a date).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from kesu.accounts import masking
from kesu.accounts import roles as r
from kesu.accounts import users as user_admin
from kesu.clock import BEIJING
from kesu.web.admin_calendar import calendar_status
from kesu.web.pages import Page, PageRoute, render, staff

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def admin_gate(pg: Page) -> None:
    if not (pg.can("users.manage") or pg.can("calendar.manage")):
        raise r.forbidden(pg.p, "进入系统管理（需要“用户、角色与令牌”或“维护工作日日历”权限）")


@router.get("/admin")
async def overview(pg: Page = Depends(staff)) -> Response:
    admin_gate(pg)
    today = pg.rt.clock().astimezone(BEIJING).date()
    users = None
    if pg.can("users.manage"):
        users = await run_in_threadpool(user_admin.list_users, pg.rt, pg.p)
    years = await run_in_threadpool(calendar_status, pg.rt, today)
    retention = None
    if pg.can("retention.run"):
        from kesu.complaints import retention as retention_mod

        retention = await run_in_threadpool(retention_mod.run, pg.rt, pg.p, True)
        for held in retention["held"]:
            held["reason"] = masking.text(held["reason"])
    return render(
        pg,
        "admin/overview.html",
        users=users,
        active_users=sum(1 for u in users or () if u["active"]),
        years=years,
        retention=retention,
        rules=len(pg.rt.rules),
        statutory=sum(1 for x in pg.rt.rules.values() if x.statutory),
    )
