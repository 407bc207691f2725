"""HTTP routes of the teams: list, one, create, rename and policy, members, a user's team
and skills (/api/v1/teams, /api/v1/users/{username}/team)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from kesu.accounts import teams
from kesu.accounts.roles import Principal
from kesu.accounts.web import principal
from kesu.complaints import vocabulary as vocab
from kesu.complaints.ownership import POLICIES
from kesu.problems import Problem
from kesu.runtime import Runtime
from kesu.web.http import runtime

router = APIRouter(prefix="/api/v1", tags=["teams"])

Code = Annotated[str, Field(min_length=1, max_length=40)]
Name = Annotated[str, Field(min_length=1, max_length=100)]
# Stated here, checked by accounts.teams (codes unknown_policy, unknown_category).
Policy = Annotated[str, Field(max_length=20, json_schema_extra={"enum": list(POLICIES)})]
Skill = Annotated[str, Field(max_length=40, json_schema_extra={"enum": list(vocab.CATEGORIES)})]
Username = Annotated[str, Field(min_length=1, max_length=64)]


class TeamIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: Annotated[str, Field(min_length=2, max_length=40, pattern=r"^[a-z][a-z0-9_]{1,39}$")]
    name: Name
    name_en: Annotated[str, Field(max_length=100)] | None = None
    policy: Policy = "manual"
    by_skill: bool = False


class TeamPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Name | None = None
    name_en: Annotated[str, Field(max_length=100)] | None = None
    policy: Policy | None = None
    by_skill: bool | None = None


class MembersIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    members: Annotated[list[Username], Field(max_length=500)]


class UserTeamIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    # Documented as the file's teams; the teams admins add are accepted too (checked by
    # accounts.teams: unknown_team).
    team: (
        Annotated[str, Field(max_length=40, json_schema_extra={"enum": list(vocab.TEAMS)})] | None
    ) = None
    skills: Annotated[list[Skill], Field(max_length=50)] | None = None


@router.get("/teams", summary="班组 Teams (policy, members, history)")
async def team_list(
    rt: Runtime = Depends(runtime), p: Principal = Depends(principal)
) -> dict[str, Any]:
    return await run_in_threadpool(teams.listing, rt, p)


@router.post("/teams", status_code=201, summary="新建班组 Create a team")
async def team_create(
    body: TeamIn, rt: Runtime = Depends(runtime), p: Principal = Depends(principal)
) -> dict[str, Any]:
    return await run_in_threadpool(teams.create, rt, p, body.model_dump())


@router.get("/teams/{code}", summary="一个班组 One team")
async def team_one(
    code: Code, rt: Runtime = Depends(runtime), p: Principal = Depends(principal)
) -> dict[str, Any]:
    return await run_in_threadpool(teams.one, rt, p, code)


@router.patch("/teams/{code}", summary="改名、分配方式 Rename, assignment policy")
async def team_change(
    code: Code, body: TeamPatch, rt: Runtime = Depends(runtime), p: Principal = Depends(principal)
) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        raise Problem(
            422,
            "nothing_to_change",
            "Nothing to change",
            "请提供 name、name_en、policy 或 by_skill。",
        )
    return await run_in_threadpool(teams.change, rt, p, code, changes)


@router.put("/teams/{code}/members", summary="设置班组成员 Set the team's members")
async def team_members(
    code: Code, body: MembersIn, rt: Runtime = Depends(runtime), p: Principal = Depends(principal)
) -> dict[str, Any]:
    return await run_in_threadpool(teams.set_members, rt, p, code, body.members)


@router.put("/users/{username}/team", summary="用户的班组与技能 A user's team and skills")
async def user_team(
    username: Username,
    body: UserTeamIn,
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        raise Problem(422, "nothing_to_change", "Nothing to change", "请提供 team 或 skills。")
    return await run_in_threadpool(teams.set_user, rt, p, username, changes)
