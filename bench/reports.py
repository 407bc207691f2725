"""The KPI report and the dashboard's charts on a large database: time and SQL statements.

In process (no HTTP), as a supervisor (every complaint in scope): the KPIs over 30 and 90
days (and 30 days of one province, which groups by city too), the chart series over the
same periods, and the dashboard's full recomputation (KPIs + series, web/dashboard.py
Figures). Prints the median of --n runs after one untimed warm-up — wall time, and the CPU
time of this process (time.process_time: on SQLite the database works in this process too,
and CPU time is much less disturbed than wall time by other processes on a shared
machine) — and how many SQL statements each call sent (counted on the engine: the KPI
computation batches the KPIs that read the same rows into one query, so this number must
not grow with a new KPI that reads rows another one already reads).

    python bench/load.py --url sqlite:////tmp/kesu_reports_bench_100k.sqlite --n 100000 --fresh --close 0.7 --analyze
    python bench/reports.py --url sqlite:////tmp/kesu_reports_bench_100k.sqlite --n 5
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import Interference, print_machine  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--n", type=int, default=5, help="timed runs per measurement")
    ap.add_argument("--region", default="河南省", help="province of the regional run")
    args = ap.parse_args()

    from sqlalchemy import event, func, select

    from kesu.accounts.roles import for_role
    from kesu.clock import to_beijing
    from kesu.reports.kpi_report import kpis
    from kesu.reports.overview import series
    from kesu.runtime import Runtime
    from kesu.settings import Settings
    from kesu.store import tables as t
    from kesu.web import dashboard

    rt = Runtime.start(Settings(database_url=args.url, embedded_worker=False))
    with rt.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(t.complaints)).scalar_one()
    print_machine()
    print(f"database: {args.url} ({total:,} complaints)\n")

    statements = [0]

    @event.listens_for(rt.engine, "before_cursor_execute")
    def _count(*_args, **_kw) -> None:
        statements[0] += 1

    boss = for_role("bench", "supervisor")
    today = to_beijing(rt.clock()).date()
    month, quarter = today - timedelta(days=29), today - timedelta(days=89)
    runs = [
        ("kpis, 30 days", lambda: kpis(rt, boss, month, today)),
        ("kpis, 90 days", lambda: kpis(rt, boss, quarter, today)),
        (f"kpis, 30 days, {args.region}", lambda: kpis(rt, boss, month, today, args.region)),
        ("series, 30 days", lambda: series(rt, boss, month, today)),
        ("series, 90 days", lambda: series(rt, boss, quarter, today)),
        ("dashboard figures, 30 days", lambda: dashboard.Figures().compute(rt, boss, month, today)),
        (
            "dashboard figures, 90 days",
            lambda: dashboard.Figures().compute(rt, boss, quarter, today),
        ),
    ]
    print("| measurement | SQL statements | median ms | min ms | max ms | median CPU ms |")
    print("|---|---:|---:|---:|---:|---:|")
    watch = Interference()
    for label, call in runs:
        call()  # warm-up: caches, the event index, first query plans
        statements[0] = 0
        call()
        sent = statements[0]
        times, cpu = [], []
        for _ in range(args.n):
            start, start_cpu = time.perf_counter(), time.process_time()
            call()
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
        print(
            f"| {label} | {sent} | {statistics.median(times):.0f} | {min(times):.0f} "
            f"| {max(times):.0f} | {statistics.median(cpu):.0f} |"
        )
    print(watch.report())


if __name__ == "__main__":
    main()
