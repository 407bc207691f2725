"""How a complaint is shown: its lifecycle state, its facts for the rules, the summary
of a list row, the full view of one complaint, and what its viewer may do now.

`actions_for` is the one place that answers "which actions may this person take on
this complaint now": the lifecycle's allowed actions, narrowed to the principal's
permissions. The API's `allowed_actions` and the page's buttons both come from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select

from kesu.accounts import crypto, masking
from kesu.accounts.roles import Principal, action_permissions
from kesu.clock import to_beijing
from kesu.complaints import approval, events, lifecycle
from kesu.complaints import vocabulary as vocab
from kesu.deadlines import service as deadlines
from kesu.store import tables as t

if TYPE_CHECKING:
    from kesu.runtime import Runtime

C = t.complaints.c


def iso(value: datetime | None) -> str | None:
    return to_beijing(value).isoformat() if value is not None else None


def money(value: Decimal | None) -> str | None:
    return None if value is None else f"{Decimal(value):.2f}"


def plain(value: str | None) -> str | None:
    """A personal field of a row just built (still ciphertext) or read (already plain)."""
    return value if not value else crypto.keyring().decrypt(value)


def state_of(row) -> lifecycle.State:
    """The lifecycle's view of a complaint row."""
    return lifecycle.State(
        status=row.status,
        kind=row.kind,
        resolution=row.resolution,
        compensation=row.compensation,
        risk_flags=frozenset(row.risk_flags or ()),
        priority=row.priority,
        team=row.team,
        callback_result=row.callback_result,
        callback_attempts=row.callback_attempts,
        replied_at=row.replied_at,
        closed_at=row.closed_at,
        reopen_count=row.reopen_count,
        escalation_level=row.escalation_level,
        number=row.number,
        category=row.category,
        assignee=row.assignee,
        root_cause=row.root_cause,
    )


def facts_of(row: Mapping[str, Any]) -> dict[str, Any]:
    """What the deadline rules look at (kind, place, priority, channel, category)."""
    return {
        "kind": row["kind"],
        "area": row["customer_area"],
        "province": row["customer_province"],
        "priority": row["priority"],
        "channel": row["channel"],
        "category": row["category"],
    }


def actions_for(state: lifecycle.State, rt: Runtime, now: datetime, p: Principal) -> list[str]:
    """The actions this principal may take on the complaint now (lifecycle ∩ permissions)."""
    return [
        a
        for a in lifecycle.allowed_actions(state, rt.policy, now)
        if p.can_any(action_permissions(a)) and (a != "claim" or _may_claim(state, p))
    ]


def _may_claim(state: lifecycle.State, p: Principal) -> bool:
    """Claiming is for a person of the complaint's team who does not have it yet."""
    return state.assignee != p.name and (p.kind == "system" or p.extra.get("team") == state.team)


def summary(row, now: datetime, merged_into: str | None = None) -> dict[str, Any]:
    next_due = row.next_due_at
    return {
        "number": row.number,
        "status": row.status,
        "status_name": vocab.STATUSES[row.status]["name"],
        "kind": row.kind,
        "category": row.category,
        "channel": row.channel,
        "channel_level": row.channel_level,
        "validity": row.validity,
        "invalid_reason": row.invalid_reason,
        "priority": row.priority,
        "risk_flags": list(row.risk_flags or []),
        "title": row.title,
        "received_at": iso(row.received_at),
        "customer": {
            "phone": plain(row.customer_phone),
            "name": plain(row.customer_name),
            "account": plain(row.customer_account),
            "province": row.customer_province,
            "city": row.customer_city,
            "area": row.customer_area,
        },
        "team": row.team,
        "assignee": row.assignee,
        "next_due_at": iso(next_due),
        "overdue": bool(row.is_open and next_due is not None and next_due < now),
        "reopen_count": row.reopen_count,
        "merged_into": merged_into,
        "reseller": row.reseller,
        "legal_hold": bool(row.legal_hold),
        "version": row.version,
    }


def full_view(
    rt: Runtime, conn: Connection, row, p: Principal, deadline_rows=None
) -> dict[str, Any]:
    """One complaint with its deadlines and the actions `p` may take (not yet masked)."""
    now = rt.clock()
    merged_into = None
    if row.merged_into_id is not None:
        merged_into = conn.execute(select(C.number).where(C.id == row.merged_into_id)).scalar()
    out = summary(row, now, merged_into)
    out.update(
        {
            "description": row.description,
            "demands": row.demands,
            "created_at": iso(row.created_at),
            "updated_at": iso(row.updated_at),
            "accepted_at": iso(row.accepted_at),
            "replied_at": iso(row.replied_at),
            "closed_at": iso(row.closed_at),
            "converted_at": iso(row.converted_at),
            "compensation": money(row.compensation),
            # 退费/减免/赔偿/补偿, as the proposal said (kept in its event, no column).
            "remedy_kind": events.remedy_kind(conn, row.id) if row.compensation else None,
            "resolution": row.resolution,
            "root_cause": row.root_cause,
            "first_receiver": row.first_receiver,
            "first_assignee": row.first_assignee,
            "callback_result": row.callback_result,
            "callback_attempts": row.callback_attempts,
            "escalation_level": row.escalation_level,
            "legal_hold_reason": row.legal_hold_reason,
            "anonymised_at": iso(row.anonymised_at),
        }
    )
    if deadline_rows is None:
        deadline_rows = deadlines.for_complaints(conn, [row.id])[row.id]
    out["deadlines"] = [deadlines.view(d, rt.rules) for d in deadline_rows]
    out.update(events.split_links(conn, row.id))  # linked both ways (complaints.split)
    state = state_of(row)
    out["allowed_actions"] = actions_for(state, rt, now, p)
    # Waiting for approval: who must approve and why (None otherwise).
    out["approval"] = approval.notice(state, rt.policy)
    return out


def present(view: dict[str, Any], p: Principal) -> dict[str, Any]:
    """A complaint as a principal sees it: personal data masked (see accounts.masking)."""
    return masking.complaint_view(view)
