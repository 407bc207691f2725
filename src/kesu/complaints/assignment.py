"""Who a complaint goes to: the assignee checked against the users and their teams, a
team's assignment policy applied to a complaint routed to it (registration, transfer),
and the `assigned` event every assignment leaves (who, how, the one before).

Round robin advances the team's counter in one UPDATE … RETURNING (accounts.team_store):
two registrations at once get consecutive turns, never the same one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, select

from kesu.accounts import team_store
from kesu.accounts.roles import Principal, roles
from kesu.complaints import events, ownership
from kesu.problems import Problem
from kesu.store import tables as t

if TYPE_CHECKING:
    from kesu.runtime import Runtime

C = t.complaints.c
# Who can own a complaint: a role that may accept it (handle it, or answer it at once).
_OWNING = frozenset({"complaint.handle", "complaint.answer"})


def _can_own(role: str) -> bool:
    return bool(_OWNING & set(roles().get(role, {}).get("permissions", ())))


def check_assignee(conn: Connection, username: str, team: str | None) -> str:
    """`username` as stored, if it is an active user who may own complaints (of `team`)."""
    name = username.strip().lower()
    row = team_store.user(conn, name)
    if row is None or not row.active:
        raise Problem(
            422,
            "unknown_assignee",
            "Unknown assignee",
            f"处理人“{username}”不是kesu的在用用户，请填写用户名（如 li.handler）。",
        )
    if not _can_own(row.role):
        raise Problem(
            422,
            "assignee_cannot_handle",
            "Assignee cannot handle complaints",
            f"用户“{name}”的角色不能处理投诉，不能被指派。",
        )
    if team is not None and row.team != team:
        raise Problem(
            422,
            "assignee_not_in_team",
            "Assignee not in the team",
            f"用户“{name}”不属于该投诉单的班组，请先转派到其所在班组，或请管理员调整班组成员。",
        )
    return name


def person(conn: Connection, name: str) -> str | None:
    """`name` if it is an active user who may own complaints (the accepter, say), else None
    (the system, a customer, a name that is not a user)."""
    row = team_store.user(conn, name)
    return row.username if row is not None and row.active and _can_own(row.role) else None


def check_claim(conn: Connection, p: Principal, team: str | None) -> None:
    """Only a person of the complaint's team claims it (the system acts for anyone)."""
    if p.kind == "system":
        return
    row = team_store.user(conn, p.name)
    if row is None or team is None or row.team != team:
        raise Problem(
            409,
            "not_in_team",
            "Not in the team",
            "只能认领本班组的投诉单；其他班组的请由主管转派或指派。",
        )


def open_counts(conn: Connection, names: list[str]) -> dict[str, int]:
    rows = conn.execute(
        select(C.assignee, func.count())
        .where(C.is_open, C.assignee.in_(names))
        .group_by(C.assignee)
    )
    return {a: int(n) for a, n in rows}


def route(rt: Runtime, conn: Connection, team_code: str | None, category: str | None):
    """(assignee, how) for a complaint routed to `team_code` by the team's policy; (None,
    the policy) when the team assigns by hand or has nobody who can take it."""
    team = rt.teams(conn).get(team_code or "")
    if team is None or team.policy == "manual":
        return None, "manual"
    rows = [m for m in team_store.members(conn, team.code) if _can_own(m.role)]
    names = ownership.candidates([team_store.member_of(m) for m in rows], category, team.by_skill)
    if not names:
        return None, team.policy
    if team.policy == "round_robin":
        return ownership.round_robin(names, team_store.advance(conn, team.code)), team.policy
    return ownership.least_open(names, open_counts(conn, names)), team.policy


def assigned_event(
    conn: Connection,
    complaint_id: int,
    now: datetime,
    actor: str,
    status: str,
    assignee: str | None,
    previous: str | None,
    how: str,
    note: str | None = None,
) -> None:
    events.append(
        conn,
        complaint_id,
        now,
        "assigned",
        actor,
        status,
        status,
        note,
        assigned_data(assignee, previous, how),
    )


def assigned_data(assignee: str | None, previous: str | None, how: str) -> Mapping[str, Any]:
    return {"assignee": assignee, "previous": previous, "how": how}
