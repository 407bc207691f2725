"""Splitting a complaint that raises two problems into two complaints.

The customer called once about two things (a billing error and a broadband fault): each
needs its own category, team and time limits. The second problem is registered through
the one registration (complaints.registration: numbering, triage, deadlines, audit) as a
complaint of its own: the same customer, channel, receipt time (the statutory clocks of
both started with that call), first receiver and reseller, its own category and text.
The two are linked both ways by events in the same transaction: `split_off` on the first
(data.into), `split_from` on the new one (data.from); the API view of each shows the
link (`split_into`, `split_from`). The first complaint's own record is not rewritten.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from kesu.accounts.audit import audit
from kesu.accounts.roles import Actor, as_principal, require
from kesu.complaints import events, registration
from kesu.complaints import vocabulary as vocab
from kesu.complaints.queries import load_visible
from kesu.complaints.views import plain
from kesu.problems import Problem
from kesu.store.db import read

if TYPE_CHECKING:
    from kesu.runtime import Runtime


def _check(row, category: str) -> None:
    if not row.is_open:
        raise Problem(
            409,
            "split_not_open",
            "Complaint not open",
            f"投诉单 {row.number} 已结束（{vocab.STATUSES[row.status]['name']}），不能再拆分。",
        )
    if category == row.category:
        raise Problem(
            422,
            "split_same_category",
            "Same category",
            "拆分出的问题须属于另一个分类；同一分类的几个问题请在本投诉单中一并处理。",
        )


def _second(row, body: Mapping[str, Any]) -> dict[str, Any]:
    """The new complaint's input: the first one's customer, channel and receipt."""
    return {
        "channel": row.channel,
        "received_at": row.received_at,
        "customer": {
            "phone": plain(row.customer_phone),
            "name": plain(row.customer_name),
            "account": plain(row.customer_account),
            "province": row.customer_province,
            "city": row.customer_city,
            "area": row.customer_area,
        },
        "kind": body.get("kind") or row.kind,
        "category": body["category"],
        "title": body.get("title"),
        "description": body["description"],
        "demands": body.get("demands"),
        "first_receiver": row.first_receiver,
        "reseller": row.reseller,
    }


def split(rt: Runtime, number: str, body: Mapping[str, Any], actor: Actor) -> dict[str, Any]:
    """Register the second problem of complaint `number` as a new complaint, linked to it
    both ways; the new complaint (masked, as registration answers)."""
    p = as_principal(actor)
    require(p, "complaint.split")
    category = str(body["category"])
    note = body.get("note")
    with read(rt.engine) as conn:
        row = load_visible(conn, number, p)  # out of scope: 404 before anything else
        _check(row, category)
        data = _second(row, body)
    first: list[Any] = []

    def guard(conn: Connection, now: datetime) -> None:
        # Locked (PostgreSQL) and checked again in the registration's write transaction.
        current = load_visible(conn, number, p, lock=True)
        _check(current, category)
        first.append(current)

    def then(conn: Connection, new, now: datetime) -> None:
        [cur] = first
        into = {"into": new.number, "category": category}
        events.append(
            conn, cur.id, now, events.SPLIT_OFF, p.name, cur.status, cur.status, note, into
        )
        came = {"from": number, "category": cur.category}
        events.append(
            conn, new.id, now, events.SPLIT_FROM, p.name, "registered", "registered", note, came
        )
        audit(conn, p, now, "complaint.split", "complaint", number, into)

    view, _ = registration.register(rt, data, p, guard=guard, then=then)
    return view
