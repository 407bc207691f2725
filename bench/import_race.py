"""The file import against bulk_import of the same rows, alternating, in one run.

    .venv/bin/python bench/import_race.py --url URL --n 20000 --rounds 2 \
        [--src before=/work/main/src --src after=src]

Each measurement is a fresh process (PYTHONPATH = the variant's src) on a fresh
database, the runtime started before the clock: `bulk` registers the rows the file's
check gives (built before the clock, as bulk_import's callers hand them: the
ComplaintIn dumped with its idempotency key, closing and intake), `xlsx` and `csv` run
`channels.file_import.run` on the file (read, check every row, register in batches of
--batch), the command's work without its start-up; `xlsx2` and `csv2` the same on two
processes (`pipeline=True`, channels.import_pipeline). Printed: rows/s of wall time and
CPU seconds of the process per 1,000 rows (resource.getrusage: user + system).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def one(url: str, what: str, path: Path, batch: int, settle: float = 0.0) -> dict:
    """One measurement in this process."""
    import import_bench as ib
    from common import start_runtime

    ib.fresh(url)
    rt = start_runtime(url)
    from kesu.channels import file_import

    items: list = []
    if what == "bulk":  # the rows the file's check gives, built before the clock
        out = file_import.run(rt, path, "bench-import", dry_run=True, batch=batch)
        from kesu.channels import file_mapping, import_mappings, workorder_file
        from kesu.channels.workorder_rows import Checker

        sheet = workorder_file.open_sheet(path, path.name)
        mapping = import_mappings.get(rt, None)
        checker = Checker(mapping, file_mapping.plan(mapping, sheet.headers), rt.clock(), path.name)
        for number, values in sheet.rows:
            g = checker.check(number, values)
            items.append({**g.complaint.model_dump(), **file_import._extra(g)})  # type: ignore[union-attr]
        sheet.close()
        assert len(items) == out.good
        from kesu.complaints import registration
    time.sleep(settle)  # let a fresh database settle before the clock (--settle)
    c0, t0 = _cpu(), time.perf_counter()
    if what == "bulk":
        created = 0
        for i in range(0, len(items), batch):
            created += len(registration.bulk_import(rt, items[i : i + batch], "bench-import"))
    else:
        two = what.endswith("2")  # xlsx2 / csv2: the two-process import (pipeline=True)
        created = file_import.run(rt, path, "bench-import", batch=batch, pipeline=two).created
    took, cpu = time.perf_counter() - t0, _cpu() - c0
    rt.close()
    return {"what": what, "n": created, "wall": took, "cpu": cpu}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--batch", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--src", action="append", default=[], help="NAME=SRC_DIR (a variant)")
    ap.add_argument(
        "--order",
        default="bulk,xlsx,csv",
        help="the measurements of a round; xlsx2/csv2 = the two-process import",
    )
    ap.add_argument("--settle", type=float, default=0.0, help="seconds to wait before the clock")
    ap.add_argument("--one", nargs=2, metavar=("WHAT", "FILE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.url, args.one[0], Path(args.one[1]), args.batch, args.settle)))
        return
    import import_bench as ib
    from common import print_machine

    print_machine()
    variants = dict(v.split("=", 1) for v in args.src) or {"this": str(HERE.parent / "src")}
    print("$ uptime:", os.popen("uptime").read().strip(), flush=True)
    data = ib.rows(args.n, 7)
    results: dict[tuple[str, str], list[dict]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for fmt in ("xlsx", "csv"):
            files[fmt] = Path(tmp) / f"hotline-{args.n}.{fmt}"
            (ib.write_xlsx if fmt == "xlsx" else ib.write_csv)(files[fmt], data)
        for r in range(args.rounds):
            for name, src in variants.items():
                for what in args.order.split(","):
                    path = files["csv" if what == "bulk" else what.rstrip("2")]
                    env = {**os.environ, "PYTHONPATH": str(Path(src).resolve())}
                    cmd = [sys.executable, __file__, "--url", args.url, "--batch", str(args.batch)]
                    cmd += ["--settle", str(args.settle)]
                    done = subprocess.run(
                        [*cmd, "--one", what, str(path)], env=env, capture_output=True, text=True
                    )
                    assert done.returncode == 0, done.stderr[-3000:]
                    m = json.loads(done.stdout.strip().splitlines()[-1])
                    assert m["n"] == args.n, m
                    results.setdefault((name, what), []).append(m)
                    print(
                        f"round {r + 1} {name:>7} {what:>4}: {m['n'] / m['wall']:7,.0f} rows/s"
                        f"  {1000 * m['cpu'] / m['n']:.3f} CPU-s/1000 rows  ({m['wall']:.1f} s)",
                        flush=True,
                    )
    print("$ uptime:", os.popen("uptime").read().strip())
    print("summary (median of rounds):")
    for (name, what), ms in results.items():
        rates = sorted(m["n"] / m["wall"] for m in ms)
        cpus = sorted(1000 * m["cpu"] / m["n"] for m in ms)
        print(
            f"  {name:>7} {what:>4}: {rates[len(rates) // 2]:7,.0f} rows/s  "
            f"{cpus[len(cpus) // 2]:.3f} CPU-s/1000 rows  (all: "
            + ", ".join(f"{x:,.0f}" for x in rates)
            + ")"
        )


if __name__ == "__main__":
    main()
