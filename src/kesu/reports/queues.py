"""The dashboard's work lists: complaints about to breach, complaints waiting for approval.

Live on every request, in the caller's scope, without personal data. Each function takes
an `actor` and needs the permission `report.read`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from kesu.accounts.roles import Actor
from kesu.clock import BEIJING
from kesu.complaints import approval, lifecycle
from kesu.complaints import queries as complaint_queries
from kesu.complaints import vocabulary as vocab
from kesu.reports.queries import C, D, iso, reader, reading, scope

if TYPE_CHECKING:
    from kesu.runtime import Runtime


_QUEUE_COLUMNS = (
    C.id,
    C.number,
    C.status,
    C.kind,
    C.category,
    C.team,
    C.assignee,
    C.next_due_at,
    C.priority,
    C.compensation,
    C.risk_flags,
)


def _queue_item(row, now: datetime, teams: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "number": row.number,
        "status": row.status,
        "status_name": vocab.STATUSES[row.status]["name"],
        "kind": row.kind,
        "category": row.category,
        "category_name": vocab.CATEGORIES.get(row.category or "", {}).get("name"),
        "team": row.team,
        "team_name": teams.get(row.team or "", {}).get("name"),
        "assignee": row.assignee,
        "next_due_at": iso(row.next_due_at),
        "overdue": row.next_due_at is not None and row.next_due_at < now,
        "priority": row.priority,
        "priority_name": vocab.PRIORITIES.get(row.priority, {}).get("name"),
    }


def about_to_breach(
    rt: Runtime, actor: Actor, hours: int = 24, limit: int = 50
) -> list[dict[str, Any]]:
    """Open complaints whose next deadline falls within `hours` or has passed, soonest first.

    Each: number, status, category, team, assignee, next_due_at, overdue, priority and
    the deadline that falls due (rule, rule_name, hours_left). No personal data.
    """
    p = reader(actor)
    now = rt.clock()
    with reading(rt) as conn:
        rows = conn.execute(
            select(*_QUEUE_COLUMNS)
            .where(C.is_open, C.next_due_at < now + timedelta(hours=hours), *scope(p))
            .order_by(C.next_due_at, C.id)
            .limit(limit)
        ).all()
        rules: dict[int, str] = {}
        if rows:
            due = conn.execute(
                select(D.complaint_id, D.rule, D.due_at)
                .where(D.complaint_id.in_([r.id for r in rows]), D.met_at.is_(None))
                .order_by(D.complaint_id, D.due_at, D.id)
            ).all()
            for d in due:
                rules.setdefault(d.complaint_id, d.rule)
    out = []
    for r in rows:
        item = _queue_item(r, now, rt.team_names())
        rule = rules.get(r.id)
        item["rule"] = rule
        item["rule_name"] = rt.rules[rule].name if rule in rt.rules else rule
        item["hours_left"] = round((r.next_due_at - now).total_seconds() / 3600, 1)
        out.append(item)
    return out


def _state(row) -> lifecycle.State:
    return lifecycle.State(
        status=row.status,
        kind=row.kind,
        compensation=None if row.compensation is None else Decimal(row.compensation),
        risk_flags=frozenset(row.risk_flags or ()),
    )


def approvals(rt: Runtime, actor: Actor, limit: int = 50) -> list[dict[str, Any]]:
    """Complaints waiting for a supervisor's approval, by next deadline.

    A proposed resolution waits for approval when lifecycle.approval_required says so
    (compensation above the threshold, or a risk flag that requires approval); `reason`
    says which, in Chinese.
    """
    p = reader(actor)
    now = rt.clock()
    policy = rt.policy
    with reading(rt) as conn:
        rows = conn.execute(
            select(*_QUEUE_COLUMNS)
            .where(complaint_queries.awaiting_approval(policy), *scope(p))
            .order_by(C.id)
        ).all()
    states = {r.id: _state(r) for r in rows}
    waiting = [r for r in rows if approval.waiting(states[r.id], policy)]
    far = datetime.max.replace(tzinfo=BEIJING)
    waiting.sort(key=lambda r: (r.next_due_at or far, r.id))
    out = []
    for r in waiting[:limit]:
        item = _queue_item(r, now, rt.team_names())
        item["compensation"] = None if r.compensation is None else f"{Decimal(r.compensation):.2f}"
        item["risk_flags"] = sorted(r.risk_flags or ())
        item["reason"] = "；".join(x["text"] for x in approval.reasons(states[r.id], policy))
        out.append(item)
    return out
