"""The incidents' rows: one open per cell (a unique partial index), the complaints linked
to each, the append-only history. No use case here: arrival opens and joins, service
drafts, approves and closes."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from kesu.store import tables as t

I = t.incidents.c  # noqa: E741
L = t.incident_complaints.c
H = t.incident_events.c


def open_in_cell(conn: Connection, category: str, area_kind: str, area: str, *, lock: bool):
    """The open incident of the cell, or None. `lock`: held (FOR SHARE on PostgreSQL)
    until commit, so it cannot be closed under a complaint joining it."""
    stmt = select(t.incidents).where(
        I.category == category, I.area_kind == area_kind, I.area == area, I.state == "open"
    )
    if lock and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(read=True)
    return conn.execute(stmt).first()


def in_cell(
    conn: Connection,
    category: str,
    area_kind: str,
    area: str,
    closed_since: datetime,
    *,
    lock: bool,
) -> tuple[Any, Any]:
    """(the cell's open incident, its incident closed since then), each or None, in one
    query; the open one held (FOR SHARE on PostgreSQL) when `lock`."""
    stmt = (
        select(t.incidents)
        .where(
            I.category == category,
            I.area_kind == area_kind,
            I.area == area,
            or_(I.state == "open", I.closed_at >= closed_since),
        )
        .order_by(I.id.desc())
    )
    if lock and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(read=True)
    rows = conn.execute(stmt).all()
    opened = next((r for r in rows if r.state == "open"), None)
    closed = next((r for r in rows if r.state != "open"), None)
    return opened, closed


def create(conn: Connection, values: Mapping[str, Any]) -> int | None:
    """A new open incident; None when the cell has one open already (another
    registration opened it first: on PostgreSQL this waits for that one's commit)."""
    ins = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = (
        ins(t.incidents)
        .values(state="open", message_state="none", **values)
        .on_conflict_do_nothing(
            index_elements=[I.category, I.area_kind, I.area], index_where=I.state == "open"
        )
        .returning(I.id)
    )
    return conn.execute(stmt).scalar()


def link(
    conn: Connection, incident_id: int, complaints: Collection[tuple[int, str]], now, how: str
) -> list[str]:
    """Link these (id, number) complaints not linked yet; the numbers newly linked."""
    if not complaints:
        return []
    have = set(
        conn.execute(
            select(L.complaint_id).where(
                L.incident_id == incident_id, L.complaint_id.in_([c for c, _ in complaints])
            )
        ).scalars()
    )
    new = [(cid, number) for cid, number in complaints if cid not in have]
    if new:
        conn.execute(
            insert(t.incident_complaints),
            [
                {
                    "incident_id": incident_id,
                    "complaint_id": cid,
                    "number": number,
                    "linked_at": now,
                    "how": how,
                }
                for cid, number in new
            ],
        )
    return [number for _, number in new]


def record(
    conn: Connection,
    incident_id: int,
    now: datetime,
    type_: str,
    actor: str,
    note: str | None = None,
    data: Mapping[str, Any] | None = None,
) -> None:
    """Append one event to the incident's history."""
    conn.execute(
        insert(t.incident_events).values(
            incident_id=incident_id,
            at=now,
            type=type_,
            actor=actor,
            note=note,
            data=dict(data or {}),
        )
    )


def get(conn: Connection, incident_id: int, *, lock: bool = False):
    stmt = select(t.incidents).where(I.id == incident_id)
    if lock and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return conn.execute(stmt).first()


def listing(conn: Connection, state: str | None = None, limit: int = 200) -> list:
    stmt = select(t.incidents).order_by(I.opened_at.desc(), I.id.desc()).limit(limit)
    if state:
        stmt = stmt.where(I.state == state)
    return list(conn.execute(stmt).all())


def linked(conn: Connection, incident_ids: Collection[int]) -> dict[int, list]:
    """The linked complaints of each incident, in the order they were linked."""
    out: dict[int, list] = {i: [] for i in incident_ids}
    if not out:
        return out
    rows = conn.execute(
        select(t.incident_complaints)
        .where(L.incident_id.in_(sorted(out)))
        .order_by(L.linked_at, L.complaint_id)
    )
    for r in rows:
        out[r.incident_id].append(r)
    return out


def history(conn: Connection, incident_id: int) -> list:
    return list(
        conn.execute(
            select(t.incident_events).where(H.incident_id == incident_id).order_by(H.id)
        ).all()
    )


def untold(conn: Connection, incident_id: int, now: datetime) -> list[int]:
    """Mark every linked complaint whose customer was not sent the message yet as told
    now; their ids (one statement: a second approval finds none of them)."""
    return list(
        conn.execute(
            update(t.incident_complaints)
            .where(L.incident_id == incident_id, L.told_at.is_(None))
            .values(told_at=now)
            .returning(L.complaint_id)
        ).scalars()
    )


def set_state(conn: Connection, incident_id: int, where: Mapping[str, Any], **values) -> bool:
    """A conditional update (`where`: column → value expected): whether it applied."""
    cond = [I.id == incident_id, *(I[k] == v for k, v in where.items())]
    return bool(conn.execute(update(t.incidents).where(*cond).values(**values)).rowcount)
