"""Row locks that make check-then-count limits atomic.

A limit counted from rows (codes sent in the last hour, submissions in the last
day) is read and added to in one write transaction; `hold` first locks a row
for the limited key, so concurrent transactions for the same key run one after
the other on PostgreSQL. SQLite already serialises writers (BEGIN IMMEDIATE).
"""

from __future__ import annotations

from sqlalchemy import Connection, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from kesu.store import tables as t


def hold(conn: Connection, key: str) -> None:
    """Lock the gate row of `key` until the end of the transaction (creating it)."""
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    conn.execute(insert(t.limit_gates).values(key=key).on_conflict_do_nothing())
    conn.execute(
        select(t.limit_gates.c.key).where(t.limit_gates.c.key == key).with_for_update()
    ).one()
