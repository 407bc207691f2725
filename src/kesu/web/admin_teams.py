"""The admin page of the teams: each team's open and overdue complaints, its members, its
assignment policy; create and rename teams, set members, a user's team and skills, the
history of changes. Changing needs `teams.manage`, checked (and audited) by the service
(kesu.accounts.teams); reading is open to the admin pages' visitors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from kesu.accounts import teams as team_admin
from kesu.accounts import users as user_admin
from kesu.complaints import vocabulary as vocab
from kesu.complaints.ownership import POLICIES
from kesu.complaints.teams import team_load
from kesu.problems import Problem
from kesu.web.admin_overview import admin_gate
from kesu.web.pages import Page, PageRoute, redirect, render, staff

router = APIRouter(route_class=PageRoute, include_in_schema=False)

DONE = ("created", "changed", "members", "user")


def _teams_page(pg: Page, status: int = 200) -> Response:
    load = team_load(pg.rt, pg.p)
    listing = team_admin.listing(pg.rt, pg.p)
    stored = {x["code"]: x for x in listing["teams"]}
    can_users = pg.can("users.manage")
    users = user_admin.list_users(pg.rt, pg.p) if can_users else []
    skills = {u["username"]: u for u in users}
    rows = []
    for line in load:
        team = stored.pop(line["team"], None) if line["team"] else None
        rows.append({**line, "stored": team, "members": _members(team, skills)})
    for code, team in stored.items():  # teams made here with no open complaints yet
        rows.append(
            {
                "team": code,
                "known": True,
                "open": 0,
                "overdue": 0,
                "stored": team,
                "members": _members(team, skills),
            }
        )
    return render(
        pg,
        "admin/teams.html",
        status=status,
        rows=rows,
        users=users,
        can_users=can_users,
        can_edit=pg.can(team_admin.PERMISSION),
        policies=POLICIES,
        history=listing["history"],
    )


def _members(team: dict[str, Any] | None, users: dict[str, dict[str, Any]]) -> list[dict]:
    if team is None:
        return []
    return [{**users.get(m["username"], {}), **m} for m in team["members"]]


@router.get("/admin/teams")
async def teams_page(pg: Page = Depends(staff)) -> Response:
    admin_gate(pg)
    done = pg.request.query_params.get("done")
    if done in DONE:
        pg.flash.append(("ok", pg.t(f"admin.teams.done.{done}")))
    return await run_in_threadpool(_teams_page, pg)


async def _act(pg: Page, work: Callable[[], Any], done: str) -> Response:
    def run() -> Response | None:
        try:
            work()
        except Problem as problem:
            if problem.status in (401, 403):
                raise
            pg.flash.append(("error", problem.detail))
            return _teams_page(pg, problem.status)
        return None

    failed = await run_in_threadpool(run)
    return failed if failed is not None else redirect(f"/admin/teams?done={done}", pg.request)


def _text(form, key: str, limit: int = 100) -> str:
    return str(form.get(key) or "").strip()[:limit]


@router.post("/admin/teams")
async def team_add(pg: Page = Depends(staff)) -> Response:
    form = await pg.form()
    body = {
        "code": _text(form, "code", 40),
        "name": _text(form, "name"),
        "name_en": _text(form, "name_en") or None,
        "policy": _text(form, "policy", 20) or "manual",
        "by_skill": bool(form.get("by_skill")),
    }
    return await _act(pg, lambda: team_admin.create(pg.rt, pg.p, body), "created")


@router.post("/admin/teams/{code}")
async def team_change(code: str, pg: Page = Depends(staff)) -> Response:
    form = await pg.form()
    body: dict[str, Any] = {"by_skill": bool(form.get("by_skill"))}
    for key in ("name", "name_en", "policy"):
        if key in form:
            body[key] = _text(form, key)
    return await _act(pg, lambda: team_admin.change(pg.rt, pg.p, code, body), "changed")


@router.post("/admin/teams/{code}/members")
async def team_members(code: str, pg: Page = Depends(staff)) -> Response:
    form = await pg.form()
    names = [str(v).strip()[:64] for v in form.getlist("member") if str(v).strip()]
    return await _act(pg, lambda: team_admin.set_members(pg.rt, pg.p, code, names), "members")


@router.post("/admin/users/{username}/team")
async def user_team(username: str, pg: Page = Depends(staff)) -> Response:
    form = await pg.form()
    changes = {
        "team": _text(form, "team", 40) or None,
        "skills": [str(v) for v in form.getlist("skill") if str(v) in vocab.CATEGORIES],
    }
    return await _act(pg, lambda: team_admin.set_user(pg.rt, pg.p, username, changes), "user")
