"""Corrective actions read: one (with its history, linked complaints and, once closed,
its effect), the list with filters, the dashboard card, and the top causes of a period
with their actions (for the regulator's monthly report).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, or_, select

from kesu.accounts.roles import Actor, Principal, as_principal, require
from kesu.clock import BEIJING, as_utc
from kesu.complaints import lookups
from kesu.complaints import vocabulary as vocab
from kesu.complaints.views import iso
from kesu.corrective import effect, lifecycle
from kesu.corrective.service import WHAT, A, E, L, may, today
from kesu.problems import Problem, not_found
from kesu.store import tables as t
from kesu.store.db import read

if TYPE_CHECKING:
    from kesu.runtime import Runtime

SHOWN_LINKS = 200
MAX_LIMIT = 200


def _summary(row: Any, day: date) -> dict[str, Any]:
    return {
        "id": row.id,
        "title": row.title,
        "state": row.state,
        "state_name": lifecycle.STATES[row.state]["name"],
        "owner": row.owner,
        "due_on": row.due_on.isoformat(),
        "overdue": lifecycle.overdue(row.state, row.due_on, day),
        "source": row.source,
        "complaint": row.complaint_number,
        "group": {k: row.match[k] for k in effect.GROUP_KEYS if row.match.get(k)},
        "group_text": effect.describe(row.match),
        "linked": row.linked,
        "opened_by": row.opened_by,
        "opened_at": iso(row.opened_at),
        "closed_at": iso(row.closed_at),
        "version": row.version,
    }


def effect_of(conn: Connection, row: Any, now: datetime) -> dict[str, Any] | None:
    """The effect of a closed action (corrective.effect), None while it is not closed."""
    if row.state != "closed" or row.closed_at is None:
        return None
    weeks = effect.config()["effect_weeks"]
    match = {k: row.match[k] for k in effect.GROUP_KEYS if row.match.get(k)}
    before_spans, after_spans = effect.spans(as_utc(row.opened_at), as_utc(row.closed_at), weeks)
    before = lookups.group_counts(conn, match, before_spans)
    after = lookups.group_counts(conn, match, after_spans)
    return effect.judge(match, before_spans, before, after_spans, after, now)


def get(rt: Runtime, action_id: int, actor: Actor) -> dict[str, Any]:
    p = as_principal(actor)
    require(p, "corrective.read")
    with read(rt.engine) as conn:
        row = conn.execute(select(t.corrective_actions).where(A.id == action_id)).first()
        if row is None:
            raise not_found(WHAT, str(action_id))
        events = conn.execute(
            select(t.corrective_action_events).where(E.action_id == action_id).order_by(E.id)
        ).all()
        numbers = list(
            conn.execute(
                select(L.complaint_number)
                .where(L.action_id == action_id)
                .order_by(L.complaint_number.desc())
                .limit(SHOWN_LINKS)
            ).scalars()
        )
        found = effect_of(conn, row, rt.clock())
    return {
        **_summary(row, today(rt)),
        "description": row.description,
        "outcome": row.outcome,
        "match": dict(row.match),
        "complaints": numbers,
        "allowed_actions": may(p, row),
        "events": [
            {
                "at": iso(e.at),
                "type": e.type,
                "actor": e.actor,
                "from_state": e.from_state,
                "to_state": e.to_state,
                "note": e.note,
                "data": e.data,
            }
            for e in events
        ],
        "effect": found,
    }


def listing(rt: Runtime, actor: Actor, f: Mapping[str, Any]) -> dict[str, Any]:
    """Actions, newest first: filters state, owner, overdue (true / false), limit."""
    p = as_principal(actor)
    require(p, "corrective.read")
    day = today(rt)
    q = select(t.corrective_actions)
    state = f.get("state")
    if state:
        if state not in lifecycle.STATES:
            names = "、".join(lifecycle.STATES)
            detail = f"未知的状态“{state}”，可选：{names}。"
            raise Problem(422, "unknown_state", "Unknown state", detail)
        q = q.where(A.state == state)
    if f.get("owner"):
        q = q.where(A.owner == f["owner"])
    live = A.state.in_(sorted(lifecycle.LIVE))
    if f.get("overdue") is True:
        q = q.where(live, A.due_on < day)
    elif f.get("overdue") is False:
        q = q.where(or_(~live, A.due_on >= day))
    limit = max(1, min(int(f.get("limit") or 100), MAX_LIMIT))
    with read(rt.engine) as conn:
        rows = conn.execute(q.order_by(A.id.desc()).limit(limit)).all()
    return {"items": [_summary(r, day) for r in rows]}


def card(rt: Runtime, actor: Actor) -> dict[str, Any] | None:
    """The dashboard's card: open actions, the overdue ones, the last closed with their
    effect; None for those who may not read actions."""
    p = as_principal(actor)
    if not p.can("corrective.read"):
        return None
    day, now = today(rt), rt.clock()
    live = A.state.in_(sorted(lifecycle.LIVE))
    with read(rt.engine) as conn:
        n_open = conn.execute(select(func.count()).where(live)).scalar_one()
        overdue = conn.execute(
            select(t.corrective_actions)
            .where(live, A.due_on < day)
            .order_by(A.due_on, A.id)
            .limit(20)
        ).all()
        closed = conn.execute(
            select(t.corrective_actions)
            .where(A.state == "closed")
            .order_by(A.closed_at.desc(), A.id.desc())
            .limit(effect.config()["recent_closed"])
        ).all()
        recent = [{**_summary(r, day), "effect": effect_of(conn, r, now)} for r in closed]
    return {
        "open": int(n_open),
        "overdue": [_summary(r, day) for r in overdue],
        "recent_closed": recent,
        "can_manage": p.can("corrective.manage"),
    }


def top_causes_with_actions(
    conn: Connection, start: date, end: date, limit: int = 5
) -> list[dict[str, Any]]:
    """The most frequent root causes of the complaints closed from `start` to `end`
    (Beijing days, both included), each with its count and the corrective actions of
    that cause (their group's root_cause) not closed or cancelled before the period
    began — those opened since, in answer to it, included: [{root_cause, name,
    complaints, actions: [{id, title, state}]}], the most frequent cause first."""
    lo = as_utc(datetime.combine(start, time(0), tzinfo=BEIJING))
    hi = as_utc(datetime.combine(end + timedelta(days=1), time(0), tzinfo=BEIJING))
    causes = lookups.top_causes(conn, lo, hi, limit)
    rows = conn.execute(
        select(A.id, A.title, A.state, A.match)
        .where(or_(A.closed_at.is_(None), A.closed_at >= lo))
        .order_by(A.id)
    ).all()
    by_cause: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        cause = (r.match or {}).get("root_cause")
        if cause:
            by_cause.setdefault(cause, []).append({"id": r.id, "title": r.title, "state": r.state})
    return [
        {
            "root_cause": cause,
            "name": vocab.ROOT_CAUSES.get(cause, {}).get("name", cause),
            "complaints": n,
            "actions": by_cause.get(cause, []),
        }
        for cause, n in causes
    ]


def actions_of(rt: Runtime, number: str, p: Principal) -> list[dict[str, Any]]:
    """The actions a complaint is linked to (for its page), [] without corrective.read."""
    if not p.can("corrective.read"):
        return []
    day = today(rt)
    with read(rt.engine) as conn:
        rows = conn.execute(
            select(t.corrective_actions)
            .join(t.corrective_action_complaints, L.action_id == A.id)
            .where(L.complaint_number == number)
            .order_by(A.id.desc())
        ).all()
    return [_summary(r, day) for r in rows]
