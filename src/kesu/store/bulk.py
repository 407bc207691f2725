"""Fast many-row inserts: COPY on PostgreSQL, executemany on SQLite.

Used by bulk imports, where SQLAlchemy's per-statement work would cost more
than the database's. Rows are dicts with the same keys; values are what the
tables' types accept (aware datetimes, lists and dicts for JSON columns).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Connection, Table, func, select, text

from kesu.store.types import UTCDateTime


class Encoder:
    """Puts rows' values in the form insert_many sends them for `dialect` (SQLite: times
    as its text; JSON as text), but the columns in `keep`; done where rows are built (a
    second process), so the writer only sends them (insert_many's `encoded`: `columns`).
    One per batch: an object shared by rows (a rule's basis) and a time (`now`) are
    encoded once."""

    def __init__(self, dialect: str, table: Table, keep=()) -> None:
        self.plan = [
            (c.name, isinstance(c.type, JSON))
            for c in table.columns
            if c.name not in keep
            and (
                isinstance(c.type, JSON)
                or (dialect == "sqlite" and isinstance(c.type, UTCDateTime))
            )
        ]
        self.columns = frozenset(name for name, _ in self.plan)
        self._json: dict[int, tuple[Any, str]] = {}
        self._times: dict[datetime, str] = {}

    def __call__(self, row: dict[str, Any]) -> None:
        for name, is_json in self.plan:
            value = row.get(name)
            if value is None:
                continue
            if is_json:
                found = self._json.get(id(value))
                if found is None or found[0] is not value:
                    found = self._json[id(value)] = (value, json.dumps(value, ensure_ascii=False))
                row[name] = found[1]
            else:
                text = self._times.get(value)
                if text is None:
                    text = self._times[value] = _sqlite_utc(value)
                row[name] = text


def decoded(row: dict[str, Any], table: Table, columns: frozenset[str]) -> dict[str, Any]:
    """`row` with its values of `columns` read back as the tables' types give them."""
    out = dict(row)
    for name in columns:
        value = row.get(name)
        if value is None:
            continue
        if isinstance(table.c[name].type, JSON):
            out[name] = json.loads(value)
        else:
            out[name] = datetime.fromisoformat(value).replace(tzinfo=UTC)
    return out


def custom_plans(conn: Connection) -> None:
    """PostgreSQL: plan this transaction's statements for their parameters and the tables
    as they are now. psycopg prepares a statement run five times, and PostgreSQL may then
    keep one generic plan made while the tables were small: on an import into a young
    database, a lookup of 500 keys planned as a scan of an empty table grew into a scan of
    the whole table per call (350 ms at 16,000 rows, quadratic over the import). A bulk
    transaction plans a few statements per batch, so planning each costs nothing."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


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


def insert_many(
    conn: Connection, table: Table, rows: Sequence[dict[str, Any]], encoded=frozenset()
) -> None:
    """`encoded`: the columns whose values are already in the form sent (encode_values)."""
    if not rows:
        return
    names = list(rows[0])
    columns = [table.c[name] for name in names]
    if conn.dialect.name == "postgresql":
        _copy(conn, table, names, columns, rows, encoded)
    else:
        _executemany(conn, table, names, columns, rows, encoded)


def _memo_json(names, columns, rows):
    """JSON text per value; the same object (e.g. a rule's basis) is encoded once."""
    memo: dict[int, str] = {}

    def encode(value):
        if value is None:
            return None
        key = id(value)
        if key not in memo:
            memo[key] = json.dumps(value, ensure_ascii=False)
        return memo[key]

    return encode


def _copy(conn, table, names, columns, rows, encoded) -> None:
    encode = _memo_json(names, columns, rows)
    is_json = [isinstance(c.type, JSON) and c.name not in encoded for c in columns]
    raw = conn.connection.driver_connection
    with (
        raw.cursor() as cur,
        cur.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(
                [encode(row[n]) if j else row[n] for n, j in zip(names, is_json, strict=True)]
            )


def _executemany(conn, table, names, columns, rows, encoded) -> None:
    dialect = conn.dialect
    encode = _memo_json(names, columns, rows)
    converters: list[tuple[int, Any]] = []
    for i, c in enumerate(columns):
        if c.name in encoded:
            continue
        if isinstance(c.type, JSON):
            converters.append((i, encode))
        elif isinstance(c.type, UTCDateTime):
            converters.append((i, _memo_utc()))
        else:
            process = c.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                converters.append((i, process))
    getter = itemgetter(*names)
    params = []
    for row in rows:
        values = list(getter(row)) if len(names) > 1 else [row[names[0]]]
        for i, convert in converters:
            if values[i] is not None:
                values[i] = convert(values[i])
        params.append(tuple(values))
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    conn.exec_driver_sql(sql, params)


def _memo_utc():
    """_sqlite_utc, each distinct time converted once (an import's rows share `now`)."""
    memo: dict[datetime, str] = {}

    def convert(value: datetime) -> str:
        text = memo.get(value)
        if text is None:
            text = memo[value] = _sqlite_utc(value)
        return text

    return convert


def _sqlite_utc(value: datetime) -> str:
    # The text SQLAlchemy's SQLite DATETIME stores for UTCDateTime: naive UTC, microseconds.
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
