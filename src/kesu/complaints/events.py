"""The complaint's history: appending events, the one way any slice writes one.

Every change of a complaint appends an event in the same transaction as the
change. This module is deliberately low in the house (it needs only the store
and the vocabulary), so that any slice may record on a complaint's history
(a reply drafted, an attachment added, a breach) without importing the
complaint use cases.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from kesu.accounts import masking
from kesu.clock import to_beijing
from kesu.complaints import vocabulary as vocab
from kesu.store import tables as t

INSERT = t.complaint_events.insert()
E = t.complaint_events.c


def append(
    conn: Connection,
    complaint_id: int,
    now: datetime,
    type_: str,
    actor: str,
    from_status: str | None,
    to_status: str | None,
    note: str | None,
    data: Mapping[str, Any],
) -> None:
    """Append one event to a complaint's history (in the caller's transaction)."""
    conn.execute(
        INSERT,
        {
            "complaint_id": complaint_id,
            "at": now,
            "type": type_,
            "actor": actor,
            "from_status": from_status,
            "to_status": to_status,
            "note": note,
            "data": dict(data),
        },
    )


def record_event(
    conn: Connection, row, now: datetime, type_: str, actor: str, data: Mapping[str, Any]
) -> None:
    """An event that changes nothing of the complaint (e.g. a reply drafted)."""
    if type_ not in vocab.EVENTS:
        raise ValueError(f"unknown event type {type_}")
    append(conn, row.id, now, type_, actor, None, None, None, data)


def history(conn: Connection, complaint_id: int) -> list[dict[str, Any]]:
    """A complaint's events, oldest first, as the API shows them (texts masked)."""
    rows = conn.execute(
        select(t.complaint_events).where(E.complaint_id == complaint_id).order_by(E.id)
    ).all()
    return [
        {
            "id": e.id,
            "at": to_beijing(e.at).isoformat(),
            "type": e.type,
            "type_name": vocab.EVENTS.get(e.type, {}).get("name", e.type),
            "actor": e.actor,
            "from_status": e.from_status,
            "to_status": e.to_status,
            "note": masking.text(e.note),
            "data": masking.deep_text(e.data),
        }
        for e in rows
    ]


def complaints_with(type_: str):
    """A subquery of the ids of complaints that have an event of this type."""
    return select(E.complaint_id).where(E.type == type_)


# A complaint split in two: `split_off` on the first (data.into: the new number),
# `split_from` on the new one (data.from: the first number).
SPLIT_OFF, SPLIT_FROM = "split_off", "split_from"


def split_links(conn: Connection, complaint_id: int) -> dict[str, Any]:
    """{split_from: the number it was split from or None, split_into: numbers split off}."""
    rows = conn.execute(
        select(E.type, E.data)
        .where(E.complaint_id == complaint_id, E.type.in_((SPLIT_OFF, SPLIT_FROM)))
        .order_by(E.id)
    ).all()
    out: dict[str, Any] = {"split_from": None, "split_into": []}
    for r in rows:
        if r.type == SPLIT_FROM:
            out["split_from"] = r.data.get("from")
        else:
            out["split_into"].append(r.data.get("into"))
    return out


def remedy_kind(conn: Connection, complaint_id: int) -> str | None:
    """What the last proposed or replied remedy is (refund, reduction, damages, goodwill),
    as its event recorded it; None when no one said."""
    rows = conn.execute(
        select(E.data)
        .where(E.complaint_id == complaint_id, E.type.in_(("resolution_proposed", "replied")))
        .order_by(E.id.desc())
    ).scalars()
    for data in rows:
        if (data or {}).get("remedy_kind"):
            return str(data["remedy_kind"])
    return None
