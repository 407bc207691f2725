"""A complaint's priority raised by what happened to it (e.g. a statutory deadline
breached): one conditional UPDATE, so it is raised once, whoever else is changing it,
and an event in the same transaction says why."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import update

from kesu.complaints import events
from kesu.complaints.lifecycle import PRIORITY_ORDER
from kesu.store import tables as t

C = t.complaints.c


def raise_to(conn, row, to: str, now: datetime, note: str, data: Mapping[str, Any]) -> bool:
    """Raise the open complaint `row` (read under its lock) to priority `to` if it is
    lower; True when this call raised it (then an event records from what, to what, why)."""
    if row.priority not in PRIORITY_ORDER[: PRIORITY_ORDER.index(to)]:
        return False
    done = conn.execute(
        update(t.complaints)
        .where(C.id == row.id, C.is_open, C.priority == row.priority)
        .values(priority=to, version=C.version + 1, updated_at=now)
    )
    if done.rowcount != 1:
        return False
    events.append(
        conn,
        row.id,
        now,
        "priority_raised",
        "system",
        row.status,
        row.status,
        note,
        {**data, "from": row.priority, "to": to},
    )
    return True
