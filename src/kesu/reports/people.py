"""People's figures (人员绩效) for a period: per person and per team.

The complaints closed in the period (data/reports/people.yaml: kinds, status closed,
closed_at in the Beijing dates), one row each with who closed it (the actor of its last
`closed` event), its team, whether a statutory deadline of it was late, its reopen and
escalation counters, its callback result (the survey's overall answer) and its handling
time; then the arithmetic of reports.people_defs per person and per team.

Who sees what: `report.read` (supervisors, quality, …) every row; `people.team` (team
leads) the people of their own team and that team's row; `people.own` (agents,
handlers) their own row only. Anyone else: 403.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, and_, exists, or_, select

from kesu.accounts import team_store
from kesu.accounts.roles import Actor, Principal, as_principal, forbidden
from kesu.quality.scores import person_scores
from kesu.reports.people_defs import Closed, Definitions, Tally, definitions, quality_figure
from kesu.reports.queries import (
    C,
    D,
    E,
    bounds,
    had_events,
    millis,
    reading,
    scope,
    valid_period,
)

if TYPE_CHECKING:
    from kesu.runtime import Runtime

ALL, TEAM, OWN = "report.read", "people.team", "people.own"


def visibility(conn: Connection, p: Principal) -> tuple[str, str | None]:
    """("all", None), ("team", the lead's team) or ("own", the user's name); 403 else."""
    if p.can(ALL):
        return "all", None
    if p.can(TEAM):
        me = team_store.user(conn, p.name)
        return "team", me.team if me is not None else None
    if p.can(OWN):
        return "own", p.name
    raise forbidden(p, "人员绩效")


def closed_rows(
    conn: Connection, p: Principal, start: date, end: date, defs: Definitions
) -> list[Closed]:
    """The complaints closed in the period, in the caller's scope, as the figures see them."""
    lo, hi = bounds(start, end)
    closer = (
        select(E.actor)
        .where(E.complaint_id == C.id, E.type == "closed")
        .order_by(E.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    late = exists().where(
        D.complaint_id == C.id,
        D.statutory,
        or_(
            D.breached,
            D.met_at > D.due_at,
            and_(D.met_at.is_(None), D.due_at < C.closed_at),  # left unmet past its time
        ),
    )
    stmt = select(
        C.id,
        C.team,
        C.reopen_count,
        C.escalation_level,
        C.callback_result,
        millis(conn.dialect.name, C.closed_at, C.received_at).label("ms"),
        closer.label("handler"),
        late.label("late"),
    ).where(
        C.closed_at >= lo,
        C.closed_at < hi,
        C.status == "closed",
        C.kind.in_(defs.kinds),
        *scope(p),
    )
    rows = conn.execute(stmt).all()
    others = defs.other_events
    had = had_events(conn, others) if others else set()
    return [
        Closed(
            handler=r.handler,
            team=r.team,
            late=bool(r.late),
            reopen_count=r.reopen_count or 0,
            escalation_level=r.escalation_level or 0,
            other_events=r.id in had,
            callback_result=r.callback_result,
            hours=float(r.ms or 0) / 3_600_000,
        )
        for r in rows
    ]


def _scored(scores: dict[str, dict], names: list[str]) -> list[tuple[int, float | None]]:
    return [(scores[n]["reviews"], scores[n]["mean_score"]) for n in names if n in scores]


def report(rt: Runtime, actor: Actor, start: date, end: date) -> dict[str, Any]:
    """The figures of the period the caller may see (see the module's docstring)."""
    p = as_principal(actor)
    valid_period(start, end)
    defs = definitions()
    with reading(rt) as conn:
        seen, whose = visibility(conn, p)
        closed = closed_rows(conn, p, start, end, defs)
        people: dict[str, Tally] = defaultdict(Tally)
        teams: dict[str, Tally] = defaultdict(Tally)
        for c in closed:
            if c.handler:
                people[c.handler].add(c, defs)
            if c.team:
                teams[c.team].add(c, defs)
        users = {name: team_store.user(conn, name) for name in people}
        if seen == "own":
            users = {whose: team_store.user(conn, whose)} if whose else {}
        team_names = team_store.load(conn)
        scores = person_scores(conn, *bounds(start, end))
        members = {name: team_store.user(conn, name) for name in scores}
    person_rows = []
    for name, user in sorted(users.items()):
        team = user.team if user is not None else None
        if seen == "team" and (whose is None or team != whose):
            continue
        if user is None:  # closed by code (the demo loader, an import): nobody's figure
            continue
        person_rows.append(
            {
                "username": name,
                "display_name": (user.display_name if user is not None else None) or name,
                "team": team,
                "team_name": team_names[team].name if team in team_names else team,
                "figures": {
                    **people.get(name, Tally()).figures(),
                    "quality_score": quality_figure(_scored(scores, [name])),
                },
            }
        )
    team_rows = [
        {
            "team": code,
            "name": team_names[code].name if code in team_names else code,
            "figures": {
                **tally.figures(),
                "quality_score": quality_figure(
                    _scored(scores, [n for n, u in members.items() if u and u.team == code])
                ),
            },
        }
        for code, tally in sorted(teams.items())
        if seen == "all" or (seen == "team" and code == whose)
    ]
    return {
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "scope": seen,
        "figures": [f.as_json() for f in defs.figures],
        "people": person_rows,
        "teams": team_rows,
    }
