"""The admin page of the teams: each team's open and overdue complaints and its members.

Teams are defined in data/reference.yaml; this page shows them, it does not edit them.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from kesu.accounts import users as user_admin
from kesu.complaints import vocabulary as vocab
from kesu.complaints.teams import team_load
from kesu.web.admin_overview import admin_gate
from kesu.web.pages import Page, PageRoute, render, staff

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/admin/teams")
async def teams_page(pg: Page = Depends(staff)) -> Response:
    admin_gate(pg)
    load = await run_in_threadpool(team_load, pg.rt, pg.p)
    members: dict[str | None, list[dict[str, Any]]] = {}
    can_users = pg.can("users.manage")
    if can_users:
        for u in await run_in_threadpool(user_admin.list_users, pg.rt, pg.p):
            members.setdefault(u["team"], []).append(u)
    rows = [{**line, "members": members.pop(line["team"], [])} for line in load]
    for team, people in members.items():  # users of a team with no open complaints listed
        known = team in vocab.TEAMS
        rows.append({"team": team, "known": known, "open": 0, "overdue": 0, "members": people})
    return render(pg, "admin/teams.html", rows=rows, can_users=can_users)
