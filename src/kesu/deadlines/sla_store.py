"""The internal SLA policies as stored: their version (the history's highest id) and the
policies in force. Read by the runtime before each complaint's deadlines are planned."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from kesu.deadlines import sla
from kesu.store import tables as t

P = t.sla_policies.c
H = t.sla_policy_history.c


def version(conn: Connection) -> int:
    return conn.execute(select(func.coalesce(func.max(H.id), 0))).scalar_one()


def policy_of(row) -> sla.Policy:
    return sla.Policy(
        id=row.id,
        rule=row.rule,
        kind=row.kind,
        category=row.category,
        priority=row.priority,
        length=row.length,
        unit=row.unit,
        warn_before_hours=row.warn_before_hours,
    )


def load(conn: Connection) -> sla.PolicySet:
    """The policies in force and their version (read in one transaction by the caller)."""
    v = version(conn)
    rows = conn.execute(select(t.sla_policies).order_by(P.rule, P.id)).all()
    return sla.group(v, [policy_of(r) for r in rows])
