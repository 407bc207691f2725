"""Teams as admins change them: create, rename, the assignment policy (manual, round robin,
least open work; optionally by the members' category skills), the members, a user's team
and skills. Each change writes its history row (who, when, before, after) and an audit
entry, in one transaction; reading is open to staff (the assign lists need the members).

data/reference.yaml `teams:` is what a new installation starts with (team_store.seed).
A changed policy applies to complaints routed to the team after the change.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, insert, select, update

from kesu.accounts import team_store
from kesu.accounts.audit import audit
from kesu.accounts.roles import Actor, Principal, as_principal, require
from kesu.accounts.team_store import T, Team, U
from kesu.accounts.users import normalise_username
from kesu.clock import to_beijing
from kesu.complaints import vocabulary as vocab
from kesu.complaints.ownership import POLICIES
from kesu.problems import Problem
from kesu.store import tables as t
from kesu.store.db import read, write

if TYPE_CHECKING:
    from kesu.runtime import Runtime

PERMISSION = "teams.manage"
CODE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


def _member_view(row) -> dict[str, Any]:
    return {
        "username": row.username,
        "display_name": row.display_name,
        "role": row.role,
        "skills": sorted(row.skills or ()),
        "active": bool(row.active),
    }


def _team_view(team: Team, members: list) -> dict[str, Any]:
    return {
        **team.as_json(),
        "policy_name": POLICIES[team.policy]["name"],
        "members": [_member_view(m) for m in members],
    }


def _history_view(h) -> dict[str, Any]:
    return {
        "id": h.id,
        "team": h.team,
        "action": h.action,
        "at": to_beijing(h.at).isoformat(),
        "actor": h.actor,
        "before": h.before,
        "after": h.after,
    }


def listing(rt: Runtime, actor: Actor, history_limit: int = 50) -> dict[str, Any]:
    """Every team with its policy and members, the policies, the latest changes."""
    require(as_principal(actor), "complaint.read")
    with read(rt.engine) as conn:
        teams = team_store.load(conn) or team_store.defaults()
        hist = conn.execute(
            select(t.team_history).order_by(team_store.H.id.desc()).limit(history_limit)
        ).all()
        items = [
            _team_view(team, team_store.members(conn, code, active_only=False))
            for code, team in teams.items()
        ]
    return {"teams": items, "policies": POLICIES, "history": [_history_view(h) for h in hist]}


def one(rt: Runtime, actor: Actor, code: str) -> dict[str, Any]:
    require(as_principal(actor), "complaint.read")
    with read(rt.engine) as conn:
        return _one(conn, code)


def _one(conn: Connection, code: str) -> dict[str, Any]:
    row = conn.execute(select(t.teams).where(T.code == code)).first()
    if row is None:
        raise _not_found(code)
    return _team_view(team_store.team_of(row), team_store.members(conn, code, active_only=False))


def _not_found(code: str) -> Problem:
    return Problem(404, "team_not_found", "Not found", f"班组“{code}”不存在。")


def _invalid(code: str, detail: str) -> Problem:
    return Problem(422, code, "Invalid team", detail)


def _checked(body: Mapping[str, Any], current: Team | None) -> Team:
    name = str(body.get("name") or (current.name if current else "")).strip()
    if not name or len(name) > 100:
        raise _invalid("team_name_required", "请填写班组名称（1到100个字）。")
    en = body.get("name_en", current.name_en if current else None)
    en = (str(en).strip()[:100] or None) if en is not None else None
    policy = body.get("policy") or (current.policy if current else "manual")
    if policy not in POLICIES:
        choices = "、".join(f"{k}（{v['name']}）" for k, v in POLICIES.items())
        raise _invalid("unknown_policy", f"未知的分配方式“{policy}”，可选：{choices}。")
    by_skill = body.get("by_skill")
    by_skill = bool(by_skill) if by_skill is not None else bool(current and current.by_skill)
    code = current.code if current else str(body.get("code") or "").strip()
    return Team(code, name, en, policy, by_skill)


def _changed(rt: Runtime) -> None:
    rt.invalidate_teams()


def create(rt: Runtime, actor: Actor, body: Mapping[str, Any]) -> dict[str, Any]:
    """A new team (201); its code is fixed once made (complaints carry it)."""
    p = as_principal(actor)
    require(p, PERMISSION)
    code = str(body.get("code") or "").strip()
    if not CODE.match(code):
        raise _invalid(
            "invalid_team_code",
            "班组代码以小写字母开头，只含小写字母、数字和下划线，2到40位（如 billing_north）。",
        )
    team = _checked({**body, "code": code}, None)
    now = rt.clock()
    with write(rt.engine) as conn:
        if conn.execute(select(T.id).where(T.code == code)).first():
            raise Problem(409, "team_exists", "Team exists", f"班组“{code}”已存在。")
        conn.execute(insert(t.teams).values(**team.as_json(), updated_at=now, updated_by=p.name))
        team_store.history(conn, code, "created", now, p.name, None, team.as_json())
        _audit(conn, p, now, "team.create", code, None, team.as_json())
        out = _one(conn, code)
    _changed(rt)
    return out


def change(rt: Runtime, actor: Actor, code: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """Rename a team, or set its assignment policy and skill routing."""
    p = as_principal(actor)
    require(p, PERMISSION)
    now = rt.clock()
    with write(rt.engine) as conn:
        row = team_store.locked(conn, code)
        if row is None:
            raise _not_found(code)
        before = team_store.team_of(row)
        after = _checked(body, before)
        if after != before:
            conn.execute(
                update(t.teams)
                .where(T.code == code)
                .values(
                    name=after.name,
                    name_en=after.name_en,
                    policy=after.policy,
                    by_skill=after.by_skill,
                    updated_at=now,
                    updated_by=p.name,
                )
            )
            action = "renamed" if before.policy == after.policy else "policy"
            team_store.history(conn, code, action, now, p.name, before.as_json(), after.as_json())
            _audit(conn, p, now, "team.change", code, before.as_json(), after.as_json())
        out = _one(conn, code)
    _changed(rt)
    return out


def _users(conn: Connection, names: Iterable[str]) -> list[str]:
    wanted = list(dict.fromkeys(normalise_username(n) for n in names if n))
    found = set(conn.execute(select(U.username).where(U.username.in_(wanted))).scalars())
    missing = [n for n in wanted if n not in found]
    if missing:
        raise _invalid("unknown_user", f"用户“{missing[0]}”不存在。")
    return wanted


def set_members(rt: Runtime, actor: Actor, code: str, usernames: Iterable[str]) -> dict[str, Any]:
    """The team's members are exactly these users (others leave it; a user has one team)."""
    p = as_principal(actor)
    require(p, PERMISSION)
    now = rt.clock()
    with write(rt.engine) as conn:
        if team_store.locked(conn, code) is None:
            raise _not_found(code)
        wanted = _users(conn, usernames)
        before = [m.username for m in team_store.members(conn, code, active_only=False)]
        if sorted(wanted) != before:
            conn.execute(
                update(t.users)
                .where(U.team == code, U.username.not_in(wanted or [""]))
                .values(team=None)
            )
            if wanted:
                conn.execute(update(t.users).where(U.username.in_(wanted)).values(team=code))
            after = {"members": sorted(wanted)}
            team_store.history(conn, code, "members", now, p.name, {"members": before}, after)
            _audit(conn, p, now, "team.members", code, {"members": before}, after)
        out = _one(conn, code)
    _changed(rt)
    return out


def set_user(
    rt: Runtime, actor: Actor, username: str, changes: Mapping[str, Any]
) -> dict[str, Any]:
    """A user's team (None: no team) and category skills; each change is in the history."""
    p = as_principal(actor)
    require(p, PERMISSION)
    username = normalise_username(username)
    now = rt.clock()
    with write(rt.engine) as conn:
        row = team_store.user(conn, username)
        if row is None:
            raise Problem(404, "user_not_found", "Not found", f"用户 {username} 不存在。")
        values: dict[str, Any] = {}
        if "team" in changes:
            team = changes["team"] or None
            if team is not None and team_store.locked(conn, team) is None:
                raise _invalid("unknown_team", f"未知的班组“{team}”。")
            values["team"] = team
        if "skills" in changes:
            skills = sorted(set(changes["skills"] or ()))
            unknown = [s for s in skills if s not in vocab.CATEGORIES]
            if unknown:
                raise _invalid("unknown_category", f"未知的分类“{unknown[0]}”。")
            values["skills"] = skills
        before = {"team": row.team, "skills": sorted(row.skills or ())}
        after = {**before, **values}
        if after != before:
            conn.execute(update(t.users).where(U.username == username).values(**values))
            for team in {before["team"], after["team"]} - {None}:
                team_store.history(
                    conn,
                    team,
                    "member",
                    now,
                    p.name,
                    {"user": username, **before},
                    {"user": username, **after},
                )
            _audit(conn, p, now, "user.team", username, before, after, kind="user")
        out = _member_view(team_store.user(conn, username))
    _changed(rt)
    return {**out, "team": after["team"]}


def _audit(conn, p: Principal, now, action, ident, before, after, kind="team") -> None:
    audit(conn, p, now, action, kind, ident, {"before": before, "after": after})
