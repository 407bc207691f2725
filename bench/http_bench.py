"""HTTP benchmark: `kesu serve --workers 2` against a database, driven by wrk on loopback.

    .venv/bin/python bench/http_bench.py --url URL --scenario create [--scenario queue ...]
        [--duration 30] [--warmup 10] [--connections 4] [--threads 1] [--workers 2]

For each scenario: start `kesu serve --host 127.0.0.1 --port <free> --workers 2
--no-worker` (uvicorn with uvloop + httptools; the deadline watcher off, and
KESU_EMBEDDED_WORKER=0) on the database URL, wait for /healthz, run wrk for
--warmup seconds (discarded), then wrk for --duration seconds with --latency,
parse its output, and stop the server.

Scenarios:
  create   POST /api/v1/complaints, a different body every request (bench/create.lua)
  queue    GET /api/v1/complaints?team=T&open=true&sort=due&limit=50, T cycling
           through the six teams (bench/queue.lua)
  health   GET /healthz (no database; the ceiling of this server stack on this machine)
  triage   POST /api/v1/triage, a different text every request (bench/triage.lua)
  lawsearch GET /api/v1/law/search?q=…, colloquial questions in turn (bench/law_search.lua)

Prints requests/s, latency p50/p90/p99, non-2xx responses and, for create, the
number of complaints the database gained. The raw wrk output is kept in
bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import Interference, print_machine  # noqa: E402

VENV_BIN = Path(sys.executable).parent
SCRIPTS = {
    "create": HERE / "create.lua",
    "queue": HERE / "queue.lua",
    "health": None,
    "triage": HERE / "triage.lua",
    "lawsearch": HERE / "law_search.lua",
}
PATHS = {
    "create": "/",
    "queue": "/",
    "health": "/healthz",
    "triage": "/api/v1/triage",
    "lawsearch": "/",
}


def bench_token(url: str) -> str:
    """A supervisor's bearer token in the database under test (user `bench`, made once)."""
    from kesu.accounts import tokens, users
    from kesu.problems import Problem
    from kesu.runtime import Runtime
    from kesu.settings import Settings

    rt = Runtime.start(Settings(database_url=url))
    try:
        try:
            users.create_user(rt, "bench", "bench", "supervisor", "bench-password-1")
        except Problem as err:
            if err.code != "user_exists":
                raise
        token, _ = tokens.create_token(rt, "bench", "bench", "wrk", expires_days=7)
        return token
    finally:
        rt.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, port: int, workers: int, log: Path) -> subprocess.Popen:
    env = dict(os.environ, KESU_DATABASE_URL=url, KESU_EMBEDDED_WORKER="0")
    kesu = VENV_BIN / "kesu"
    cmd = [
        str(kesu),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-worker",
    ]
    proc = subprocess.Popen(
        cmd, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited early, see {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                if r.status == 200:
                    # every worker process must be up before we measure
                    time.sleep(2)
                    return proc
        except OSError:
            time.sleep(0.3)
    stop_server(proc)
    raise SystemExit("server did not come up in 60 s")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the group this script started
        proc.wait()


def worker_pids(proc: subprocess.Popen) -> list[int]:
    out = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(proc.pid)], capture_output=True, text=True
    )
    return [int(p) for p in out.stdout.split()]


def run_wrk(port: int, scenario: str, seconds: int, connections: int, threads: int) -> str:
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "--timeout",
        "10s",
    ]
    if SCRIPTS[scenario] is not None:
        cmd += ["-s", str(SCRIPTS[scenario])]
    cmd.append(f"http://127.0.0.1:{port}{PATHS[scenario]}")
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return " ".join(cmd) + "\n" + out.stdout + out.stderr


_UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    return float(m.group(1)) * _UNIT[m.group(2)] if m else float("nan")


def parse_wrk(out: str) -> dict:
    res: dict = {}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    res["rps"] = float(m.group(1)) if m else float("nan")
    m = re.search(r"(\d+) requests in ([\d.]+\w+)", out)
    res["requests"] = int(m.group(1)) if m else 0
    for pct in ("50", "75", "90", "99"):
        m = re.search(rf"^\s+{pct}(?:\.000)?%\s+(\S+)", out, re.M)
        res[f"p{pct}_ms"] = _ms(m.group(1)) if m else float("nan")
    m = re.search(r"Latency\s+(\S+)\s+(\S+)\s+(\S+)", out)
    if m:
        res["mean_ms"], res["max_ms"] = _ms(m.group(1)), _ms(m.group(3))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    res["non2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: (.*)", out)
    res["socket_errors"] = m.group(1).strip() if m else ""
    return res


def complaint_count(url: str) -> int:
    from sqlalchemy import create_engine, text

    eng = create_engine(url)
    with eng.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM complaints")).scalar_one()
    eng.dispose()
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--scenario", action="append", choices=list(SCRIPTS), required=True)
    ap.add_argument("--duration", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--connections", type=int, default=4)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--label", default="", help="tag for the files in bench/results/")
    ap.add_argument(
        "--profile",
        type=int,
        default=0,
        help="seconds of py-spy record on each server worker during the run "
        "(py-spy from PATH or $PY_SPY)",
    )
    args = ap.parse_args()

    print_machine()
    results_dir = HERE / "results"
    results_dir.mkdir(exist_ok=True)
    db = "postgresql" if args.url.startswith("postgres") else "sqlite"
    os.environ["KESU_BENCH_TOKEN"] = bench_token(args.url)
    for scenario in args.scenario:
        tag = f"{scenario}_{db}{('_' + args.label) if args.label else ''}"
        port = free_port()
        before = complaint_count(args.url)
        proc = start_server(args.url, port, args.workers, results_dir / f"server_{tag}.log")
        spies = []
        try:
            if args.warmup:
                run_wrk(port, scenario, args.warmup, args.connections, args.threads)
            mid = complaint_count(args.url)
            if args.profile:
                for pid in worker_pids(proc):
                    spy = [
                        os.environ.get("PY_SPY", "py-spy"),
                        "record",
                        "--nonblocking",
                        "-d",
                        str(args.profile),
                        "-r",
                        "100",
                        "-p",
                        str(pid),
                        "-f",
                        "raw",
                        "-o",
                        str(results_dir / f"pyspy_{tag}_{pid}.txt"),
                    ]
                    spies.append(
                        subprocess.Popen(spy, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    )
            watch = Interference()
            out = run_wrk(port, scenario, args.duration, args.connections, args.threads)
            interference = watch.report()
            for spy in spies:
                spy.wait()
        finally:
            stop_server(proc)
        after = complaint_count(args.url)
        res = parse_wrk(out)
        res.update(
            interference=interference,
            scenario=scenario,
            database=db,
            complaints_before=mid,
            complaints_created=after - mid,
            warmup_created=mid - before,
            duration_s=args.duration,
            connections=args.connections,
            server_workers=args.workers,
        )
        (results_dir / f"wrk_{tag}.txt").write_text(out)
        (results_dir / f"wrk_{tag}.json").write_text(json.dumps(res, indent=2))
        print(f"\n=== {scenario} on {db} ({mid:,} complaints at start) ===")
        print(out)
        print(interference)
        print(
            f"RESULT {scenario:9} {db:10} {res['rps']:9.1f} req/s  p50 {res['p50_ms']:.2f} ms  "
            f"p90 {res['p90_ms']:.2f} ms  p99 {res['p99_ms']:.2f} ms  non-2xx {res['non2xx']}"
            + (f"  created {after - mid:,}" if scenario == "create" else ""),
            flush=True,
        )


if __name__ == "__main__":
    main()
