"""The teams' load: open complaints and how many of them are overdue, per team."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import case, func, select

from kesu.accounts.roles import Actor, as_principal, require
from kesu.complaints.queries import scope_conditions
from kesu.store import tables as t
from kesu.store.db import read

if TYPE_CHECKING:
    from kesu.runtime import Runtime

C = t.complaints.c


def team_load(rt: Runtime, actor: Actor) -> list[dict[str, Any]]:
    """Every team (as stored, in its order) with its open and overdue counts.

    One GROUP BY over the open complaints (the partial index on `team … WHERE is_open`
    serves it). Complaints of a team code the vocabulary no longer has, and those
    with no team yet, come after, as their own lines (team None = 未分派).
    """
    p = as_principal(actor)
    require(p, "complaint.read")
    now = rt.clock()
    overdue = func.sum(case((C.next_due_at < now, 1), else_=0))
    stmt = (
        select(C.team, func.count().label("open"), overdue.label("overdue"))
        .where(C.is_open, *scope_conditions(p))
        .group_by(C.team)
    )
    with read(rt.engine) as conn:
        counts = {row.team: (int(row.open), int(row.overdue or 0)) for row in conn.execute(stmt)}
    teams = rt.teams()
    others = sorted(k for k in counts if k is not None and k not in teams)
    codes: list[str | None] = [*teams, *others]
    if None in counts:
        codes.append(None)
    return [
        {
            "team": code,
            "known": code in teams,
            "open": counts.get(code, (0, 0))[0],
            "overdue": counts.get(code, (0, 0))[1],
        }
        for code in codes
    ]
