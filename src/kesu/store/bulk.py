"""Fast many-row inserts: COPY on PostgreSQL, executemany on SQLite.

Used by bulk imports, where SQLAlchemy's per-statement work would cost more
than the database's. Rows are dicts with the same keys; values are what the
tables' types accept (aware datetimes, lists and dicts for JSON columns).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import JSON, Connection, Table, func, select, text


def allocate_ids(conn: Connection, table: Table, n: int) -> list[int]:
    """n new primary keys for `table`, for rows inserted with explicit ids.

    On SQLite the caller holds the write lock, so max(id) cannot move under it.
    """
    if conn.dialect.name == "postgresql":
        return list(
            conn.execute(
                text(
                    "SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"
                ),
                {"t": table.name, "n": n},
            ).scalars()
        )
    last = conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
    return list(range(last + 1, last + n + 1))


def insert_many(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    names = list(rows[0])
    columns = [table.c[name] for name in names]
    if conn.dialect.name == "postgresql":
        _copy(conn, table, names, columns, rows)
    else:
        _executemany(conn, table, names, columns, rows)


def _copy(conn, table, names, columns, rows) -> None:
    is_json = [isinstance(c.type, JSON) for c in columns]
    raw = conn.connection.driver_connection
    with (
        raw.cursor() as cur,
        cur.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(
                [
                    json.dumps(row[n], ensure_ascii=False) if j and row[n] is not None else row[n]
                    for n, j in zip(names, is_json, strict=True)
                ]
            )


def _executemany(conn, table, names, columns, rows) -> None:
    dialect = conn.dialect
    processors = [c.type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
    pairs = list(zip(names, processors, strict=True))
    params = [tuple(p(row[n]) if p else row[n] for n, p in pairs) for row in rows]
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    conn.exec_driver_sql(sql, params)
