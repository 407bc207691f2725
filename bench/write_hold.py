"""How long one registration holds its write transaction (the SQLite writer lock), in-process.

    .venv/bin/python bench/write_hold.py --url URL [--n 400] [--warmup 40] [--no-category]

Calls the code under test's `register` (kesu.complaints.registration, or
kesu.complaints.service before the split) n times, one after another in one
thread, with a different complaint each time (bench/common.py's generator, no
received_at; --no-category drops the category so the triage classifier runs).
The `write` context manager the registration module uses is wrapped (in this
process only; nothing in src/ is changed) to time each write transaction from
asking for the writer gate to after the commit. Prints, per call, the median
and p90 of: the whole register call, the time inside the write transaction,
and the thread CPU time spent inside it (less sensitive to other load on the
machine than wall time). Single-threaded, so the gate is never contended here:
this is the hold time that other writers would wait for under concurrency.

Run it on a copy of a data set: it adds n + warmup complaints.
"""

from __future__ import annotations

import argparse
import importlib
import random
import statistics
import sys
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import complaint_body, print_machine, start_runtime  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--warmup", type=int, default=40)
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--no-category", action="store_true")
    args = ap.parse_args()

    print_machine()
    try:
        mod = importlib.import_module("kesu.complaints.registration")
    except ImportError:
        mod = importlib.import_module("kesu.complaints.service")
    from kesu.complaints.schemas import ComplaintIn

    real_write = mod.write
    holds: list[tuple[float, float]] = []

    @contextmanager
    def timed_write(engine):
        t0, c0 = time.perf_counter(), time.thread_time()
        with real_write(engine) as conn:
            yield conn
        holds.append((time.perf_counter() - t0, time.thread_time() - c0))

    mod.write = timed_write
    rt = start_runtime(args.url)
    rng = random.Random(args.seed)

    def item() -> dict:
        body = complaint_body(rng)
        body.pop("team")
        if args.no_category:
            body.pop("category")
        return ComplaintIn.model_validate(body).model_dump(exclude_none=True)

    totals = []
    for i in range(args.warmup + args.n):
        data = item()
        holds.clear()
        t0 = time.perf_counter()
        mod.register(rt, data, "bench")
        dt = time.perf_counter() - t0
        assert len(holds) == 1, holds
        if i >= args.warmup:
            totals.append((dt, *holds[0]))
    rt.close()

    def q(xs, p):
        return statistics.quantiles(xs, n=100)[p - 1] * 1000

    print(f"register from {mod.__name__} ({mod.__file__})")
    print(
        f"{args.n} registrations ({'no category' if args.no_category else 'with category'}), "
        f"after {args.warmup} not counted; ms per call:"
    )
    for name, col in (("register call", 0), ("write transaction", 1), ("  its CPU", 2)):
        xs = [t[col] for t in totals]
        print(
            f"  {name:18} median {statistics.median(xs) * 1000:7.3f}  p90 {q(xs, 90):7.3f}  "
            f"mean {statistics.fmean(xs) * 1000:7.3f}"
        )
    out = [t[0] - t[1] for t in totals]
    print(f"  {'outside the write':18} median {statistics.median(out) * 1000:7.3f}")


if __name__ == "__main__":
    main()
