"""In-process timings of the deadline counts (and, for reference, the queue page).

    .venv/bin/python bench/counts.py --url URL [--runs 20] [--explain]

Times, with time.perf_counter around each call, median of --runs calls after one
untimed warm-up call:
  overdue          kesu.complaints.queries.count(rt, {"overdue": True})
  due_before       kesu.complaints.queries.count(rt, {"due_before": now + 3 days})
  queue (in-proc)  kesu.complaints.queries.list_complaints(rt, {team, open=True,
                   sort="due", limit=50}) for each of the six teams in turn
                   (what GET /api/v1/complaints?team=..&open=true&sort=due&limit=50 runs,
                   without HTTP)
--explain prints the query plan of the exact SQL each call sent (captured with a
SQLAlchemy before_cursor_execute hook): EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL,
EXPLAIN QUERY PLAN on SQLite.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import TEAMS, Interference, now_utc, print_machine, start_runtime  # noqa: E402


def timed(fn, runs: int) -> tuple[list[float], object]:
    result = fn()  # warm-up (plan cache, buffer cache), not counted
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return times, result


def capture_sql(rt, fn) -> list[tuple[str, object]]:
    from sqlalchemy import event

    seen: list[tuple[str, object]] = []

    def hook(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(rt.engine, "before_cursor_execute", hook)
    try:
        fn()
    finally:
        event.remove(rt.engine, "before_cursor_execute", hook)
    return seen


def explain(rt, statement: str, parameters) -> str:
    raw = rt.engine.raw_connection()
    try:
        cur = raw.cursor()
        if rt.engine.dialect.name == "postgresql":
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            lines = [r[0] for r in cur.fetchall()]
        else:
            cur.execute("EXPLAIN QUERY PLAN " + statement, parameters)
            lines = [f"{'  ' * 0}{r[-1]}" for r in cur.fetchall()]
        cur.close()
        raw.rollback()
    finally:
        raw.close()
    return "\n".join("      " + line for line in lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--explain", action="store_true")
    args = ap.parse_args()

    print_machine()
    rt = start_runtime(args.url)
    from kesu.complaints import queries

    total = queries.count(rt, {})
    open_ = queries.count(rt, {"open": True})
    print(f"database: {rt.engine.url.render_as_string(hide_password=True)}")
    print(f"complaints: {total:,}; open {open_:,}")

    due_before = now_utc() + timedelta(days=3)
    team_cycle = iter(TEAMS * (args.runs + 2))

    def queue():
        team = next(team_cycle)
        return queries.list_complaints(
            rt, {"team": [team], "open": True, "sort": "due", "limit": 50}
        )["items"]

    cases = {
        "count overdue": lambda: queries.count(rt, {"overdue": True}),
        "count due_before now+3d": lambda: queries.count(rt, {"due_before": due_before}),
        "queue page (in-process)": queue,
    }
    print(
        f"{'case':26} {'result':>10} {'median ms':>10} {'min ms':>8} {'max ms':>8}  (n={args.runs})"
    )
    watch = Interference()
    for name, fn in cases.items():
        times, result = timed(fn, args.runs)
        shown = f"{len(result)} rows" if isinstance(result, list) else f"{result:,}"
        print(
            f"{name:26} {shown:>10} {statistics.median(times):10.2f} {min(times):8.2f}"
            f" {max(times):8.2f}",
            flush=True,
        )
    print(watch.report())
    if args.explain:
        for name, fn in cases.items():
            print(f"\nplan: {name}")
            for statement, params in capture_sql(rt, fn):
                print("    " + " ".join(statement.split())[:400])
                print(explain(rt, statement, params))
    rt.close()


if __name__ == "__main__":
    main()
