"""`kesu import` of an N-row work-order file (xlsx and csv), against bulk_import of the
same number of pre-validated complaints (today's bulk path, what load.py times).

    .venv/bin/python bench/import_bench.py --url URL --n 20000 [--batch 2000]
                                           [--formats xlsx,csv] [--no-compare] [--in-process]

The files are made first (not timed): a hotline export with 工单号/受理时间/来电号码/
客户姓名/归属地/投诉内容/工单类型/投诉分类/受理渠道/处理结果/办结时间, received over the last
90 days, about 30 % of them finished (处理结果 and 办结时间: registered closed). The xlsx
is written by openpyxl (inline strings; Excel itself writes a shared-strings table, which
reads faster), the csv in GBK as Chinese Excel saves it. Each file is imported into a
fresh database by the command an operator runs (`kesu import FILE`, a subprocess: start-up,
reading, checking every row, registering in batches); the rate is rows / wall seconds of
the whole command. Then, unless --no-compare, bulk_import of N validated items in batches
of --batch on a fresh database (items made before the clock starts, as load.py does).
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    Interference,
    complaint_body,
    ensure_pg_database,
    now_utc,
    print_machine,
    start_runtime,
    validated_items,
)

HEADERS = [
    "工单号",
    "受理时间",
    "来电号码",
    "客户姓名",
    "归属地",
    "投诉内容",
    "工单类型",
    "投诉分类",
    "受理渠道",
    "处理结果",
    "办结时间",
]


def rows(n: int, seed: int) -> list[list]:
    from kesu.clock import BEIJING
    from kesu.complaints import vocabulary as vocab

    rng = random.Random(seed)
    now = now_utc()
    out = []
    for i in range(n):
        received = now - timedelta(seconds=rng.uniform(3600, 90 * 86400))
        body = complaint_body(rng, received)
        c = body["customer"]
        done = rng.random() < 0.3
        closed = min(received + timedelta(hours=rng.uniform(2, 240)), now - timedelta(minutes=1))
        out.append(
            [
                f"RX{seed}{i:08d}",
                received.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
                c["phone"],
                rng.choice("张王李赵刘陈杨黄") + rng.choice(["伟", "芳", "娜", "敏", "静", "磊"]),
                c["province"] + c["city"],
                body["description"],
                vocab.KINDS[body["kind"]]["name"],
                vocab.CATEGORIES[body["category"]]["name"],
                vocab.CHANNELS[body["channel"]]["name"],
                "已核实处理并答复客户。" if done else None,
                closed.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S") if done else None,
            ]
        )
    return out


def write_xlsx(path: Path, data: list[list]) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("工单")
    ws.append(HEADERS)
    for r in data:
        ws.append(r)
    wb.save(path)


def write_csv(path: Path, data: list[list]) -> None:
    with path.open("w", encoding="gbk", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADERS)
        for r in data:
            w.writerow(["" if v is None else v for v in r])


def fresh(url: str) -> None:
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1]
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
    else:
        ensure_pg_database(url, drop=True)
    start_runtime(url).close()  # migrated before the clock starts


def run_import(url: str, path: Path, n: int, batch: int) -> float:
    fresh(url)
    kesu = Path(sys.executable).parent / "kesu"
    cmd = [str(kesu), "import", str(path), "--batch", str(batch)]
    env = {**os.environ, "KESU_DATABASE_URL": url, "KESU_EMBEDDED_WORKER": "0"}
    print(f"$ KESU_DATABASE_URL={url} kesu import {path.name} --batch {batch}", flush=True)
    watch = Interference()
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    took = time.perf_counter() - t0
    tail = [line for line in done.stdout.splitlines() if "导入完成" in line or "检查" in line]
    print("  " + "\n  ".join(tail))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"新建 {n} 件" in done.stdout, done.stdout
    print(
        f"  {path.suffix[1:]}: {n:,} rows in {took:.1f} s = {n / took:,.0f} rows/s (whole command)"
    )
    print("  " + watch.report(), flush=True)
    return n / took


def run_in_process(url: str, path: Path, n: int, batch: int) -> float:
    """The same import without the command's start-up: file_import.run in this process."""
    fresh(url)
    rt = start_runtime(url)
    from kesu.channels import file_import

    marks: dict[str, float] = {}

    def step(stage: str, _done: int, _total: int | None) -> None:
        marks.setdefault(stage, time.perf_counter())

    watch = Interference()
    t0 = time.perf_counter()
    out = file_import.run(rt, path, "bench-import", progress=step, batch=batch)
    took = time.perf_counter() - t0
    rt.close()
    assert out.created == n
    check = marks["import"] - t0
    print(
        f"  {path.suffix[1:]} in-process: {n / took:,.0f} rows/s ({took:.1f} s: read and check "
        f"{check:.1f} s, register {took - check:.1f} s = {n / (took - check):,.0f}/s)"
    )
    print("  " + watch.report(), flush=True)
    return n / took


def run_bulk(url: str, n: int, batch: int) -> float:
    fresh(url)
    rt = start_runtime(url)
    from kesu.complaints import registration

    items = validated_items(n, random.Random(2026), now_utc())
    watch = Interference()
    t0 = time.perf_counter()
    for i in range(0, n, batch):
        registration.bulk_import(rt, items[i : i + batch], "bench-import")
    took = time.perf_counter() - t0
    rt.close()
    print(f"  bulk_import: {n:,} validated items in {took:.1f} s = {n / took:,.0f}/s")
    print("  " + watch.report(), flush=True)
    return n / took


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--batch", type=int, default=2000)
    ap.add_argument("--formats", default="xlsx,csv")
    ap.add_argument("--no-compare", action="store_true")
    ap.add_argument("--in-process", action="store_true", help="also time file_import.run alone")
    args = ap.parse_args()
    print_machine()
    data = rows(args.n, 7)
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for fmt in args.formats.split(","):
            path = Path(tmp) / f"hotline-{args.n}.{fmt}"
            (write_xlsx if fmt == "xlsx" else write_csv)(path, data)
            files[fmt] = path
            print(f"made {path.name}: {path.stat().st_size / 1e6:.1f} MB")
        rates = {}
        for fmt, path in files.items():
            rates[fmt] = run_import(args.url, path, args.n, args.batch)
            if args.in_process:
                rates[fmt + " in-process"] = run_in_process(args.url, path, args.n, args.batch)
    if not args.no_compare:
        rates["bulk_import"] = run_bulk(args.url, args.n, args.batch)
    print("summary: " + ", ".join(f"{k} {v:,.0f}/s" for k, v in rates.items()))


if __name__ == "__main__":
    main()
