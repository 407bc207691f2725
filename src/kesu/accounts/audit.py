"""The audit log: one entry written in the caller's transaction, and reading the log.

Every slice records what it changes through audit(); so this module sits low: it
depends only on the store and on accounts.roles, never on a slice or the runtime.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, insert, select

from kesu.accounts.roles import Actor, as_principal, require
from kesu.clock import BEIJING, Clock
from kesu.store import tables as t
from kesu.store.db import read


class _Store(Protocol):
    """What reading the log needs of the runtime (a protocol: the runtime sits above)."""

    engine: Engine
    clock: Clock


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(BEIJING).isoformat()


def audit(
    conn: Connection,
    actor: Actor,
    now: datetime,
    action: str,
    target_type: str | None = None,
    target_id: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """One entry, written in the caller's transaction (so it stands or falls with the change)."""
    p = as_principal(actor)
    conn.execute(
        insert(t.audit_log).values(
            at=now,
            actor=p.name[:64],
            role=p.role[:20],
            ip=p.ip,
            action=action,
            target_type=target_type,
            target_id=None if target_id is None else str(target_id)[:100],
            detail=dict(detail or {}),
        )
    )


def audit_entries(rt: _Store, actor: Actor, f: Mapping[str, Any]) -> dict[str, Any]:
    p = as_principal(actor)
    require(p, "audit.read")
    A = t.audit_log.c
    q = select(t.audit_log)
    if f.get("actor"):
        q = q.where(A.actor == f["actor"])
    if f.get("action"):
        q = q.where(A.action == f["action"])
    if f.get("target_type"):
        q = q.where(A.target_type == f["target_type"])
    if f.get("target_id"):
        q = q.where(A.target_id == f["target_id"])
    if f.get("from"):
        q = q.where(A.at >= f["from"])
    if f.get("to"):
        q = q.where(A.at < f["to"])
    if f.get("before_id"):
        q = q.where(A.id < f["before_id"])
    limit = int(f.get("limit") or 50)
    q = q.order_by(A.id.desc()).limit(limit + 1)
    with read(rt.engine) as conn:
        rows = conn.execute(q).fetchall()
        audit(conn, p, rt.clock(), "audit.read", None, None, {"filters": _jsonable(f)})
    items = [
        {
            "id": row.id,
            "at": _iso(row.at),
            "actor": row.actor,
            "role": row.role,
            "ip": row.ip,
            "action": row.action,
            "target_type": row.target_type,
            "target_id": row.target_id,
            "detail": row.detail,
        }
        for row in rows[:limit]
    ]
    return {"items": items, "next_before_id": items[-1]["id"] if len(rows) > limit else None}


def _jsonable(f: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in f.items() if v}
