"""Bulk-load N complaints into a database with kesu.complaints.registration.bulk_import.

    .venv/bin/python bench/load.py --url URL --n 100000 [--batch 20000] [--fresh]
                                   [--close 0.7] [--analyze]

Each batch is one bulk_import call (one transaction). Items are generated and
validated (ComplaintIn) *before* the clock starts, so the printed rate is the
rate of bulk_import alone: complaints per second, per batch and overall.

--close F marks the complaints received before (now - 90*(1-F) days) closed with
a direct SQL UPDATE (status='closed', is_open=false, next_due_at=NULL,
closed_at=now) and marks their unmet deadlines met, so that about F of them are
not open. It is not part of the timed import. --analyze runs ANALYZE afterwards (VACUUM ANALYZE
on PostgreSQL).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    Interference,
    ensure_pg_database,
    now_utc,
    print_machine,
    start_runtime,
    validated_items,
)


def fresh(url: str) -> None:
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1]
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
    else:
        ensure_pg_database(url, drop=True)


def close_old(rt, fraction: float, days: int = 90) -> tuple[int, int]:
    from sqlalchemy import select, update

    from kesu.store import tables as t
    from kesu.store.db import write

    c = t.complaints.c
    now = now_utc()
    cutoff = now - timedelta(days=days * (1 - fraction))
    with write(rt.engine) as conn:
        closed = conn.execute(
            update(t.complaints)
            .where(c.is_open.is_(True), c.received_at < cutoff)
            .values(
                status="closed",
                is_open=False,
                next_due_at=None,
                closed_at=now,
                updated_at=now,
                version=c.version + 1,
            )
        ).rowcount
        d = t.deadlines.c
        met = conn.execute(
            update(t.deadlines)
            .where(
                d.met_at.is_(None),
                d.complaint_id.in_(select(c.id).where(c.status == "closed")),
            )
            .values(met_at=now, met_by="closed")
        ).rowcount
    return closed, met


def analyze(rt) -> None:
    """ANALYZE; on PostgreSQL VACUUM ANALYZE, so the closing UPDATE leaves no dead
    index entries behind (what autovacuum would do in production, only sooner)."""
    from sqlalchemy import text

    if rt.engine.dialect.name == "postgresql":
        with rt.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        return
    with rt.engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--n", type=int, required=True, help="complaints to add")
    ap.add_argument("--batch", type=int, default=20000, help="complaints per bulk_import call")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--fresh", action="store_true", help="start from an empty database")
    ap.add_argument("--close", type=float, default=None, help="fraction to mark closed")
    ap.add_argument("--analyze", action="store_true")
    args = ap.parse_args()

    print_machine()
    if args.fresh:
        fresh(args.url)
    elif not args.url.startswith("sqlite"):
        ensure_pg_database(args.url)
    rt = start_runtime(args.url)
    from kesu.complaints import queries, registration

    rng = random.Random(args.seed + queries.count(rt, {}))
    before = queries.count(rt, {})
    print(f"database: {rt.engine.url.render_as_string(hide_password=True)}")
    print(f"complaints before: {before:,}; adding {args.n:,} in batches of {args.batch:,}")
    watch = Interference()
    rates = []
    total_time = 0.0
    done = 0
    while done < args.n:
        size = min(args.batch, args.n - done)
        items = validated_items(size, rng, now_utc())
        t0 = time.perf_counter()
        numbers = registration.bulk_import(rt, items, "bench-load")
        dt = time.perf_counter() - t0
        assert len(numbers) == size
        done += size
        total_time += dt
        rates.append(size / dt)
        print(
            f"  batch {len(rates):3d}: {size:,} in {dt:6.2f} s = {size / dt:8,.0f} complaints/s"
            f"   (total {before + done:,})",
            flush=True,
        )
    print(
        f"bulk_import: {done:,} complaints in {total_time:.1f} s = "
        f"{done / total_time:,.0f} complaints/s overall; per batch median "
        f"{statistics.median(rates):,.0f}, min {min(rates):,.0f}, max {max(rates):,.0f}"
    )
    print(watch.report())
    if args.close is not None:
        t0 = time.perf_counter()
        closed, met = close_old(rt, args.close)
        print(
            f"closed {closed:,} complaints (deadlines marked met: {met:,}) by SQL UPDATE "
            f"in {time.perf_counter() - t0:.1f} s"
        )
    if args.analyze:
        t0 = time.perf_counter()
        analyze(rt)
        print(f"(VACUUM) ANALYZE in {time.perf_counter() - t0:.1f} s")
    total = queries.count(rt, {})
    open_ = queries.count(rt, {"open": True})
    print(f"complaints now: {total:,}; open {open_:,} ({open_ / total:.0%})")
    rt.close()


if __name__ == "__main__":
    main()
