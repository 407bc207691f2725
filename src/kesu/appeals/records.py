"""The appeal's rows and history (records, no use case): numbers (SS + Beijing date + a
per-day sequence, one upsert … RETURNING), the row, the append-only events, the same
appellant's earlier appeals, and the operators the centre refers to."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from kesu.clock import to_beijing
from kesu.problems import Problem
from kesu.store import tables as t

A = t.appeals.c
E = t.appeal_events.c
O = t.appeal_operators.c  # noqa: E741


def _counter_stmt(dialect: str):
    ins = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = ins(t.appeal_counters).values(day=bindparam("day"), last=1)
    return stmt.on_conflict_do_update(
        index_elements=["day"], set_={"last": t.appeal_counters.c.last + 1}
    ).returning(t.appeal_counters.c.last)


_COUNTER = {d: _counter_stmt(d) for d in ("postgresql", "sqlite")}


def next_number(conn: Connection, now: datetime) -> str:
    """SS + Beijing date + a per-day sequence; never reused."""
    day = to_beijing(now).strftime("%Y%m%d")
    last = conn.execute(_COUNTER[conn.dialect.name], {"day": day}).scalar_one()
    return f"SS{day}{last:06d}"


def insert_appeal(conn: Connection, values: Mapping[str, Any]) -> int:
    return int(conn.execute(insert(t.appeals).values(**values).returning(A.id)).scalar_one())


def load(conn: Connection, number: str, lock: bool = False) -> Any:
    q = select(t.appeals).where(A.number == number)
    if lock and conn.dialect.name == "postgresql":
        q = q.with_for_update()
    row = conn.execute(q).first()
    if row is None:
        raise Problem(404, "not_found", "Not found", f"申诉编号“{number}”不存在。")
    return row


def by_external_ref(conn: Connection, ref: str) -> Any:
    return conn.execute(select(A.number).where(A.external_ref == ref)).scalar()


def change(conn: Connection, appeal_id: int, changes: Mapping[str, Any]) -> None:
    conn.execute(update(t.appeals).where(A.id == appeal_id).values(**changes))


def append(
    conn: Connection,
    appeal_id: int,
    at: datetime,
    kind: str,
    actor: str,
    from_status: str | None,
    to_status: str | None,
    note: str | None = None,
    data: Mapping[str, Any] | None = None,
) -> None:
    conn.execute(
        insert(t.appeal_events).values(
            appeal_id=appeal_id,
            at=at,
            type=kind,
            actor=actor,
            from_status=from_status,
            to_status=to_status,
            note=note,
            data=dict(data or {}),
        )
    )


def keep_operator_record(
    conn: Connection, number: str, record: Mapping[str, Any], at: datetime, actor: str
) -> bool:
    """The operator's complaint record kept on the appeal, with an `operator_record` event
    (the complaint numbers it holds); False when there is no such appeal, or when it keeps
    a record fetched later already (an answer the outbox delivered late)."""
    row = conn.execute(select(A.id, A.status, A.operator_record).where(A.number == number)).first()
    if row is None:
        return False
    kept = (row.operator_record or {}).get("fetched_at")
    if kept and str(kept) > str(record.get("fetched_at") or ""):
        return False
    conn.execute(update(t.appeals).where(A.id == row.id).values(operator_record=dict(record)))
    numbers = [c["number"] for c in record.get("complaints") or ()]
    data = {"operator": record.get("operator"), "complaints": numbers}
    note = f"已查询被申诉企业的投诉记录：{len(numbers)} 件。"
    append(conn, row.id, at, "operator_record", actor, row.status, row.status, note, data)
    return True


def history(conn: Connection, appeal_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(t.appeal_events).where(E.appeal_id == appeal_id).order_by(E.at, E.id)
    )
    return [dict(r._mapping) for r in rows]


def earlier(conn: Connection, phone_hash: str | None, operator: str | None, before: int):
    """The same appellant's earlier appeals against the same operator (第十一条（三）)."""
    if not phone_hash:
        return []
    q = select(t.appeals).where(A.appellant_phone_hash == phone_hash, A.id < before)
    if operator:
        q = q.where(A.operator == operator)
    return conn.execute(q.order_by(A.id.desc()).limit(50)).all()


def listing(conn: Connection, where: list[Any], order: list[Any], limit: int) -> list[Any]:
    q = select(t.appeals)
    for cond in where:
        q = q.where(cond)
    return conn.execute(q.order_by(*order, A.id).limit(limit)).all()


def count(conn: Connection, where: list[Any]) -> int:
    q = select(func.count()).select_from(t.appeals)
    for cond in where:
        q = q.where(cond)
    return int(conn.execute(q).scalar_one())


def in_period(conn: Connection, start: datetime, end: datetime) -> list[Any]:
    """Every appeal received in [start, end) (the statistics' rows)."""
    q = select(t.appeals).where(A.received_at >= start, A.received_at < end)
    return conn.execute(q.order_by(A.id)).all()


def counts_by(conn: Connection, column: Any, where: list[Any]) -> list[tuple[Any, int]]:
    """(value, count) of the appeals matching `where`, grouped by `column` (the dashboard)."""
    q = select(column, func.count()).select_from(t.appeals)
    for cond in where:
        q = q.where(cond)
    return [(r[0], int(r[1])) for r in conn.execute(q.group_by(column).order_by(column))]


# ---- operators -----------------------------------------------------------------------------


def operator(conn: Connection, code: str) -> dict[str, Any] | None:
    row = conn.execute(select(t.appeal_operators).where(O.code == code)).first()
    return dict(row._mapping) if row else None


def operators(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(select(t.appeal_operators).order_by(O.code))
    return [dict(r._mapping) for r in rows]


def save_operator(conn: Connection, values: Mapping[str, Any], now: datetime) -> None:
    found = operator(conn, str(values["code"]))
    if found is None:
        conn.execute(insert(t.appeal_operators).values(**values, created_at=now, updated_at=now))
    else:
        fields = {k: v for k, v in values.items() if k not in ("code", "created_by")}
        conn.execute(
            update(t.appeal_operators)
            .where(O.code == values["code"])
            .values(**fields, updated_at=now)
        )
