"""What bulk_import could do: same rows, batched statements (a prototype, not kesu code).

    .venv/bin/python bench/bulk_proto.py --url URL [--n 20000] [--fresh]

Builds exactly the rows kesu.complaints.service.bulk_import builds (build_row,
deadlines.plan, the same numbers and events) but
  * reserves all numbers with ONE counter upsert (last = last + n) instead of
    one upsert per complaint, and
  * inserts the complaints with one executemany INSERT .. RETURNING id
    (SQLAlchemy "insertmanyvalues", sort_by_parameter_order=True) instead of one
    `insert().values(**row)` statement built, cache-keyed and executed per row.
Then times both on the same database with the same kind of items, so the gap
is the cost of the per-row statements in src/kesu/complaints/service.py
bulk_import. Use a scratch database: it adds 2 x n complaints.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ensure_pg_database, now_utc, print_machine, start_runtime, validated_items  # noqa: E402,I001


def proto_bulk_import(rt, items, actor):
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    from kesu.clock import to_beijing
    from kesu.complaints import service
    from kesu.deadlines import service as deadlines
    from kesu.store import tables as t
    from kesu.store.db import write

    now = rt.clock()
    day = to_beijing(now).strftime("%Y%m%d")
    with write(rt.engine) as conn:
        calendar = rt.calendar(conn)
        insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        n = len(items)
        stmt = insert(t.number_counters).values(day=day, last=n)
        stmt = stmt.on_conflict_do_update(
            index_elements=["day"], set_={"last": t.number_counters.c.last + n}
        ).returning(t.number_counters.c.last)
        last = conn.execute(stmt).scalar_one()
        first = last - n + 1
        rows, plans = [], []
        for i, data in enumerate(items):
            row = service.build_row(data, actor, now)
            planned = deadlines.plan(
                rt.rules, service._facts(row), "received", row["received_at"], calendar
            )
            row["next_due_at"] = min((d["due_at"] for d in planned), default=None)
            row["number"] = f"TS{day}{first + i:06d}"
            row["idempotency_key"] = None
            row["request_hash"] = None
            rows.append(row)
            plans.append(planned)
        ids = conn.execute(
            t.complaints.insert().returning(t.complaints.c.id, sort_by_parameter_order=True),
            rows,
        ).scalars().all()
        all_deadlines, events = [], []
        for cid, row, planned in zip(ids, rows, plans, strict=True):
            for d in planned:
                d["complaint_id"] = cid
            all_deadlines.extend(planned)
            events.append({
                "complaint_id": cid, "at": now, "type": "registered", "actor": actor,
                "from_status": None, "to_status": "registered", "note": "批量导入",
                "data": {"channel": row["channel"], "kind": row["kind"]},
            })
        if all_deadlines:
            conn.execute(t.deadlines.insert(), all_deadlines)
        conn.execute(t.complaint_events.insert(), events)
    return [r["number"] for r in rows]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--fresh", action="store_true")
    args = ap.parse_args()
    print_machine()
    if not args.url.startswith("sqlite"):
        ensure_pg_database(args.url, drop=args.fresh)
    rt = start_runtime(args.url)
    from kesu.complaints import service

    rng = random.Random(7)
    for name, fn in (("service.bulk_import", service.bulk_import),
                     ("prototype (batched)", proto_bulk_import)):
        items = validated_items(args.n, rng, now_utc())
        t0 = time.perf_counter()
        numbers = fn(rt, items, "bench-proto")
        dt = time.perf_counter() - t0
        assert len(numbers) == args.n and len(set(numbers)) == args.n
        print(f"{name:22} {args.n:,} complaints in {dt:6.2f} s = {args.n / dt:8,.0f} /s",
              flush=True)
    rt.close()


if __name__ == "__main__":
    main()
