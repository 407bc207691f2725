"""Exporting the complaint list (issue 14 item 5): time and peak memory of a CSV and an
xlsx export of every complaint, through the service the API streams
(`kesu.complaints.export.export`), each in a fresh process.

    .venv/bin/python bench/export_bench.py --url sqlite:////tmp/kesu_export.sqlite \\
        --n 100000 --load

--load first fills the database with N complaints (bench/load.py --fresh). Each format
then runs in its own child process: the runtime is started and one page of the list read
(so the imports and the engine are in the baseline), then the whole export is written to
a temporary file chunk by chunk. Printed per format: rows, bytes, seconds, rows/s, the
baseline RSS and the peak RSS (ru_maxrss) of the child, and the difference — the memory
the export itself needed. If the rows were held, the peak would grow with N; streamed,
it stays flat (run with two sizes to see it).
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


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(url: str, fmt: str) -> None:
    sys.path.insert(0, str(HERE))
    from common import start_runtime

    from kesu.accounts.roles import system
    from kesu.complaints import export, queries

    rt = start_runtime(url)
    queries.list_complaints(rt, {"limit": 50}, system())
    base = _rss_mib()
    t0 = time.perf_counter()
    file = export.export(rt, {}, fmt, system("bench"))
    size = chunks = 0
    with tempfile.TemporaryFile() as out:
        for chunk in file.chunks:
            out.write(chunk)
            size += len(chunk)
            chunks += 1
    seconds = time.perf_counter() - t0
    peak = _rss_mib()
    rt.close()
    print(
        json.dumps(
            {
                "format": fmt,
                "rows": file.rows,
                "bytes": size,
                "chunks": chunks,
                "seconds": round(seconds, 2),
                "rows_per_s": round(file.rows / seconds) if seconds else None,
                "baseline_rss_mib": round(base, 1),
                "peak_rss_mib": round(peak, 1),
                "export_mib": round(peak - base, 1),
            }
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="sqlite:////tmp/kesu_export.sqlite")
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--load", action="store_true")
    ap.add_argument("--formats", default="csv,xlsx")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.url, args.child)
        return
    if args.load:
        subprocess.run(
            [sys.executable, str(HERE / "load.py"), "--url", args.url, "--n", str(args.n)]
            + ["--fresh", "--close", "0.7"],
            check=True,
        )
    for fmt in args.formats.split(","):
        done = subprocess.run(
            [sys.executable, __file__, "--url", args.url, "--child", fmt],
            check=True,
            capture_output=True,
            text=True,
            env=dict(os.environ),
        )
        print(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
