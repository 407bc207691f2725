"""Latency of triage (classifier, signals, extraction, repeat lookup, similar complaints)
with a database already holding many complaints.

    .venv/bin/python bench/triage_latency.py --url URL [--n 300]

In-process calls of kesu.triage.service.triage (what POST /api/v1/triage runs): the
first call builds the similar-complaints index (timed separately), then N calls with
varied corpus texts; prints p50 and p99.
"""

from __future__ import annotations

import argparse
import statistics
import time

from kesu.runtime import Runtime
from kesu.settings import Settings
from kesu.triage import model, service
from kesu.triage.similar import index_for


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--n", type=int, default=300)
    args = ap.parse_args()
    rt = Runtime.start(Settings(database_url=args.url, embedded_worker=False), migrate_db=False)
    texts = [e.text for e in model.project_corpus()]
    start = time.perf_counter()
    index_for(rt, model.shipped()).refresh(rt)
    build = time.perf_counter() - start
    idx = index_for(rt, model.shipped())
    print(
        f"index: {len(idx.ids):,} complaints, {idx.matrix.nnz:,} non-zeros, built in {build:.1f} s"
    )
    times = []
    for i in range(args.n):
        t0 = time.perf_counter()
        service.triage(rt, texts[i * 7 % len(texts)], customer_phone="13800001234", city="郑州市")
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    p99 = times[int(len(times) * 0.99) - 1]
    print(f"triage: n={args.n} p50 {statistics.median(times):.1f} ms  p99 {p99:.1f} ms")


if __name__ == "__main__":
    main()
