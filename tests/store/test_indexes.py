"""The hot queries can use their partial indexes on each database.

A partial index is used only when the planner can prove the query implies its
predicate; a query written slightly differently silently falls back to a full
scan, which at a million complaints is the difference between milliseconds and
seconds. (Speed itself is measured in bench/.)
"""

from sqlalchemy import func, select

from kesu.complaints.queries import filters
from kesu.store import tables as t

C = t.complaints.c


def plan(rt, stmt) -> str:
    sql = str(stmt.compile(rt.engine, compile_kwargs={"literal_binds": True}))
    with rt.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET enable_seqscan = off")
            rows = conn.exec_driver_sql("EXPLAIN " + sql).all()
            return "\n".join(r[0] for r in rows)
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql).all()
        return "\n".join(str(r[-1]) for r in rows)


def test_overdue_and_due_before_counts_use_the_open_due_index(rt):
    now = rt.clock()
    for f in ({"overdue": True}, {"due_before": now}):
        stmt = select(func.count()).select_from(t.complaints).where(*filters(f, now))
        assert "ix_complaints_open_due" in plan(rt, stmt)


def test_team_queue_by_deadline_uses_the_team_index(rt):
    now = rt.clock()
    stmt = (
        select(t.complaints)
        .where(*filters({"team": ["billing"], "open": True}, now), C.next_due_at.is_not(None))
        .order_by(C.next_due_at, C.id)
        .limit(51)
    )
    assert "ix_complaints_team_open_due" in plan(rt, stmt)


def test_watcher_uses_the_watch_index(rt):
    from kesu.deadlines.service import due_unbreached_stmt

    assert "ix_deadlines_watch" in plan(rt, due_unbreached_stmt(rt.clock(), 10))


def test_bulk_datetime_text_matches_sqlalchemys_sqlite_format():
    from datetime import UTC, datetime, timedelta, timezone

    from sqlalchemy.dialects import sqlite

    from kesu.store.bulk import _sqlite_utc
    from kesu.store.types import UTCDateTime

    dialect = sqlite.dialect()
    process = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    for value in (
        datetime(2026, 11, 28, 10, 0, tzinfo=UTC),
        datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=timezone(timedelta(hours=8))),
    ):
        assert _sqlite_utc(value) == process(value)
