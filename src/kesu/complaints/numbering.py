"""Complaint numbers: TS + Beijing date + a per-day sequence, never reused.

One upsert … RETURNING on the day's counter row takes n numbers atomically on
both databases.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, bindparam
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from kesu.clock import to_beijing
from kesu.store import tables as t


def _counter_stmt(dialect: str):
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(t.number_counters).values(day=bindparam("day"), last=bindparam("n"))
    return stmt.on_conflict_do_update(
        index_elements=["day"],
        set_={"last": t.number_counters.c.last + stmt.excluded.last},
    ).returning(t.number_counters.c.last)


_COUNTER = {d: _counter_stmt(d) for d in ("postgresql", "sqlite")}


def next_numbers(conn: Connection, now: datetime, n: int = 1) -> list[str]:
    """n fresh numbers: TS + Beijing date + a per-day sequence. Numbers are never reused.

    The counter row stays locked until the transaction ends, so callers take
    their numbers as late in the transaction as they can.
    """
    day = to_beijing(now).strftime("%Y%m%d")
    last = conn.execute(_COUNTER[conn.dialect.name], {"day": day, "n": n}).scalar_one()
    return [f"TS{day}{i:06d}" for i in range(last - n + 1, last + 1)]


def next_number(conn: Connection, now: datetime) -> str:
    return next_numbers(conn, now, 1)[0]
