"""Server-side render time of kesu's pages on a large database.

Each page is requested in-process (FastAPI TestClient: no network, no browser) by a
signed-in user; the time is from request to the full HTML, which is what the server
spends. Reports median, p95 and max per page, in milliseconds.

    python bench/load.py --url sqlite:////tmp/kesu_bench_100k.sqlite --n 100000 --fresh --close 0.7 --analyze
    python bench/pages.py --url sqlite:////tmp/kesu_bench_100k.sqlite --n 30
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import print_machine  # noqa: E402


def _user(rt, username: str, role: str) -> str:
    from kesu.accounts import users
    from kesu.problems import Problem

    password = f"bench-{role}-password"
    try:
        users.create_user(rt, "bench", username, role, password, team="frontline")
    except Problem as err:
        if err.code != "user_exists":
            raise
    return password


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--n", type=int, default=30, help="timed requests per page")
    args = ap.parse_args()

    from fastapi.testclient import TestClient
    from sqlalchemy import func, select

    from kesu.app import create_app
    from kesu.clock import to_beijing
    from kesu.runtime import Runtime
    from kesu.settings import Settings
    from kesu.store import tables as t

    rt = Runtime.start(Settings(database_url=args.url, embedded_worker=False, cookie_secure=False))
    with rt.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(t.complaints)).scalar_one()
        number = conn.execute(
            select(t.complaints.c.number)
            .where(t.complaints.c.is_open)
            .order_by(t.complaints.c.id.desc())
        ).scalar()
    print_machine()
    print(f"database: {args.url} ({total:,} complaints)\n")

    clients = {}
    for role in ("supervisor", "admin", "auditor"):
        username = f"bench-{role}"
        password = _user(rt, username, role)
        c = TestClient(create_app(rt, watcher=False))
        r = c.post(
            "/login", data={"username": username, "password": password}, follow_redirects=False
        )
        assert r.status_code == 303, r.text
        clients[role] = c
    clients["anonymous"] = TestClient(create_app(rt, watcher=False))

    today = to_beijing(rt.clock()).date()
    quarter = today - timedelta(days=89)
    pages = [
        ("supervisor", "queue: all open, by deadline", "/workbench?view=open"),
        ("supervisor", "queue: my team", "/workbench?view=team"),
        ("supervisor", "queue: all, newest first", "/workbench?view=all&sort=received"),
        (
            "supervisor",
            "queue: billing, overdue",
            "/workbench?view=open&category=billing&due=overdue",
        ),
        ("supervisor", "queue: flag + due 24 h", "/workbench?view=open&flag=repeat&due=24h"),
        ("supervisor", "queue: text search", "/workbench?view=all&q=%E5%AE%BD%E5%B8%A6"),
        ("supervisor", "complaint page", f"/complaints/{number}"),
        ("supervisor", "complaint: obligations", f"/complaints/{number}/obligations"),
        ("supervisor", "hotline form", "/complaints/new"),
        ("supervisor", "dashboard (30 days)", "/dashboard"),
        ("supervisor", "dashboard (90 days)", f"/dashboard?from={quarter}&to={today}"),
        ("admin", "admin: users", "/admin/users"),
        ("admin", "admin: teams", "/admin/teams"),
        ("admin", "admin: SLA policies", "/admin/sla"),
        ("admin", "admin: calendar", "/admin/calendar"),
        ("auditor", "admin: audit log", "/admin/audit"),
        ("anonymous", "portal: front page", "/portal"),
        ("anonymous", "sign-in page", "/login"),
    ]
    print("| page | path | median ms | p95 ms | max ms |")
    print("|---|---|---:|---:|---:|")
    worst = 0.0
    for who, label, path in pages:
        c = clients[who]
        for _ in range(2):  # warm-up: caches, first query plans
            r = c.get(path)
        if r.status_code != 200:
            print(f"| {label} | `{path}` | HTTP {r.status_code} | | |")
            continue
        times = []
        for _ in range(args.n):
            start = time.perf_counter()
            r = c.get(path)
            times.append((time.perf_counter() - start) * 1000)
            assert r.status_code == 200
        times.sort()
        p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
        worst = max(worst, p95)
        shown = re.sub(r"TS\d+", "TS…", path)
        print(
            f"| {label} | `{shown}` | {statistics.median(times):.0f} | {p95:.0f} | {times[-1]:.0f} |"
        )
    print(f"\nworst p95: {worst:.0f} ms (goal: under 300 ms)")

    # The dashboard's KPIs and charts are computed at most once a minute per scope and
    # period, in the background once stale (web/dashboard.py Figures); what that costs:
    from kesu.accounts.roles import for_role
    from kesu.web import dashboard

    boss = for_role("bench", "supervisor")
    for label, lo in (("30 days", today - timedelta(days=29)), ("90 days", quarter)):
        times = []
        for _ in range(3):
            start = time.perf_counter()
            dashboard.Figures().compute(rt, boss, lo, today)
            times.append((time.perf_counter() - start) * 1000)
        print(
            f"dashboard figures, full recomputation ({label}): median {statistics.median(times):.0f} ms"
        )


if __name__ == "__main__":
    main()
