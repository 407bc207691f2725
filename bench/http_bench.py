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
  create_nocat  the same without a category, so registration runs the triage
           classifier on every complaint (create.lua with KESU_BENCH_NO_CATEGORY=1)
  queue    GET /api/v1/complaints?team=T&open=true&sort=due&limit=50, T cycling
           through the six teams (bench/queue.lua)
  health   GET /healthz (no database; the ceiling of this server stack on this machine)
  triage   POST /api/v1/triage, a different text every request (bench/triage.lua)
  lawsearch GET /api/v1/law/search?q=…, colloquial questions in turn (bench/law_search.lua)

Prints requests/s, latency p50/p90/p99, non-2xx responses and, for create, the
number of complaints the database gained. The raw wrk output is kept in
bench/results/.

It also prints the CPU the measured run cost, per request, which is much less
sensitive than requests/s to other load on a shared machine:

  server-cpu  user+sys of the server's processes (the uvicorn master and its
              workers, from /proc/<pid>/stat) over the measured run / requests.
              On SQLite this includes the database work (it runs in the workers).
  db-cpu      PostgreSQL only: user+sys of the backends connected to the database
              under test (pids from pg_stat_activity, sampled every second so that
              backends that come or go during the run are counted) / requests.
  pg-bg-cpu   PostgreSQL only: user+sys of the server-wide walwriter, checkpointer
              and background writer / requests. They serve every database on the
              server, so this is an upper bound for the run's share, not its cost.
  wrk-cpu     user+sys of wrk (the load generator) / requests, for reference.

Before it measures, the script waits until the server is idle after start-up (the
similar-complaints index is built in the background), so that start-up work is
not counted in the warm-up or the run. It prints which kesu the server imports
(the virtualenv of the python running this script).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import Interference, print_machine  # noqa: E402

VENV_BIN = Path(sys.executable).parent
SCRIPTS = {
    "create": HERE / "create.lua",
    "create_nocat": HERE / "create.lua",
    "queue": HERE / "queue.lua",
    "health": None,
    "triage": HERE / "triage.lua",
    "lawsearch": HERE / "law_search.lua",
}
PATHS = {
    "create": "/",
    "create_nocat": "/",
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


def descendants(pid: int) -> list[int]:
    """pid and all its descendants (from the ppid field of /proc/*/stat)."""
    parent = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                st = Path(f"/proc/{name}/stat").read_text()
                parent[int(name)] = int(st[st.rindex(")") + 2 :].split()[1])
            except (OSError, ValueError, IndexError):
                pass
    out, todo = [pid], [pid]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        out += kids
        todo += kids
    return out


def cpu_ticks(pids) -> dict[int, int]:
    """utime+stime in clock ticks of each pid that still exists."""
    out = {}
    for p in pids:
        try:
            st = Path(f"/proc/{p}/stat").read_text()
            f = st[st.rindex(")") + 2 :].split()
            out[p] = int(f[11]) + int(f[12])
        except (OSError, ValueError, IndexError):
            pass
    return out


def wait_idle(proc: subprocess.Popen, workers: int, limit: float = 120.0) -> float:
    """Wait until the server's processes use < 10 % of a core for 1 s; returns the wait."""
    hz = os.sysconf("SC_CLK_TCK")
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        pids = descendants(proc.pid)
        a = sum(cpu_ticks(pids).values())
        time.sleep(1.0)
        if (sum(cpu_ticks(pids).values()) - a) / hz < 0.1 and len(pids) >= workers + 1:
            break
    return time.monotonic() - t0


def server_identity(proc: subprocess.Popen) -> str:
    """Which interpreter the server runs and which kesu it imports."""
    pids = descendants(proc.pid)
    try:
        cmd = Path(f"/proc/{pids[-1]}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        cmd = "?"
    with (VENV_BIN / "kesu").open() as f:
        shebang = f.readline().strip()
    py = shebang[2:] if shebang.startswith("#!") else str(VENV_BIN / "python")
    mod = subprocess.run(
        [py, "-c", "import kesu; print(kesu.__file__)"], capture_output=True, text=True
    ).stdout.strip()
    return (
        f"server: {VENV_BIN / 'kesu'} ({shebang}); imports {mod}; "
        f"{len(pids)} processes, a worker runs: {cmd.strip()[:160]}"
    )


class PgBackends:
    """CPU of the PostgreSQL backends of one database, sampled from pg_stat_activity.

    Every `every` seconds: the pids connected to the database (and the server-wide
    walwriter, checkpointer, background writer) and their utime+stime. A backend
    first seen after the start began during the run (its ticks count from 0); one
    that ends keeps the ticks of its last sample (up to `every` s of CPU can be lost).
    """

    BG = ("walwriter", "checkpointer", "background writer")

    def __init__(self, url: str, every: float = 1.0) -> None:
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url

        u = make_url(url)
        self.db = u.database
        self.engine = create_engine(u.set(database="postgres"), pool_size=1)
        self.every = every
        self.start: dict[int, int] = {}
        self.last: dict[int, int] = {}
        self.kind: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _pids(self) -> dict[int, str]:
        from sqlalchemy import text

        with self.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT pid, backend_type, datname FROM pg_stat_activity "
                    "WHERE datname = :db OR backend_type = ANY(:bg)"
                ),
                {"db": self.db, "bg": list(self.BG)},
            ).all()
        return {pid: ("bg" if bt in self.BG else "db") for pid, bt, _ in rows}

    def _sample(self) -> None:
        kinds = self._pids()
        self.kind.update(kinds)
        self.last.update(cpu_ticks(kinds))

    def begin(self) -> None:
        kinds = self._pids()
        self.kind.update(kinds)
        self.start = cpu_ticks(kinds)
        self.last = dict(self.start)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            # a missed sample only loses precision
            with contextlib.suppress(Exception):
                self._sample()

    def end(self) -> dict[str, float]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._sample()
        self.engine.dispose()
        hz = os.sysconf("SC_CLK_TCK")
        used = {"db": 0, "bg": 0}
        for pid, ticks in self.last.items():
            used[self.kind[pid]] += ticks - self.start.get(pid, 0)
        n_db = sum(1 for k in self.kind.values() if k == "db")
        return {"db_cpu_s": used["db"] / hz, "bg_cpu_s": used["bg"] / hz, "db_backends": n_db}


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
    env = dict(os.environ)
    if scenario == "create_nocat":
        env["KESU_BENCH_NO_CATEGORY"] = "1"
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env)
    shown = ("KESU_BENCH_NO_CATEGORY=1 " if scenario == "create_nocat" else "") + " ".join(cmd)
    return shown + "\n" + out.stdout + out.stderr


def children_cpu_s() -> float:
    """user+sys of this script's waited-for children (wrk, once it has exited)."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


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


def db_name(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).database or ""


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
            waited = wait_idle(proc, args.workers)
            ident = server_identity(proc)
            print(f"\n{ident}\n(waited {waited:.1f} s for the server to be idle after start-up)")
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
            hz = os.sysconf("SC_CLK_TCK")
            pg = PgBackends(args.url) if db == "postgresql" else None
            if pg is not None:
                pg.begin()
            srv_pids = descendants(proc.pid)
            srv0 = cpu_ticks(srv_pids)
            wrk0 = children_cpu_s()
            watch = Interference()
            out = run_wrk(port, scenario, args.duration, args.connections, args.threads)
            interference = watch.report()
            wrk_cpu = children_cpu_s() - wrk0
            srv_pids = sorted(set(srv_pids) | set(descendants(proc.pid)))
            srv1 = cpu_ticks(srv_pids)
            server_cpu = sum(srv1[p] - srv0.get(p, 0) for p in srv1) / hz
            pgcpu = pg.end() if pg is not None else None
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
            server=ident,
            server_processes=len(srv_pids),
            server_cpu_s=server_cpu,
            wrk_cpu_s=wrk_cpu,
        )
        n = max(res["requests"], 1)
        res["server_cpu_ms_per_req"] = server_cpu * 1000 / n
        res["wrk_cpu_ms_per_req"] = wrk_cpu * 1000 / n
        if pgcpu is not None:
            res.update(pgcpu)
            res["db_cpu_ms_per_req"] = pgcpu["db_cpu_s"] * 1000 / n
            res["pg_bg_cpu_ms_per_req"] = pgcpu["bg_cpu_s"] * 1000 / n
        cpu_line = (
            f"cpu: server {server_cpu:.1f} s over {len(srv_pids)} processes = "
            f"{res['server_cpu_ms_per_req']:.3f} ms/req; "
            f"wrk {res['wrk_cpu_ms_per_req']:.3f} ms/req; "
            + (
                f"PostgreSQL backends of {db_name(args.url)} ({pgcpu['db_backends']}) "
                f"{pgcpu['db_cpu_s']:.1f} s = {res['db_cpu_ms_per_req']:.3f} ms/req; "
                f"walwriter+checkpointer+bgwriter (server-wide) {pgcpu['bg_cpu_s']:.1f} s = "
                f"{res['pg_bg_cpu_ms_per_req']:.3f} ms/req"
                if pgcpu is not None
                else "database: SQLite, its work is in the server processes"
            )
        )
        (results_dir / f"wrk_{tag}.txt").write_text(out)
        (results_dir / f"wrk_{tag}.json").write_text(json.dumps(res, indent=2))
        print(f"\n=== {scenario} on {db} ({mid:,} complaints at start) ===")
        print(out)
        print(interference)
        print(cpu_line)
        print(
            f"RESULT {scenario:9} {db:10} {res['rps']:9.1f} req/s  p50 {res['p50_ms']:.2f} ms  "
            f"p90 {res['p90_ms']:.2f} ms  p99 {res['p99_ms']:.2f} ms  non-2xx {res['non2xx']}"
            + (f"  created {after - mid:,}" if scenario.startswith("create") else "")
            + f"  server-cpu {res['server_cpu_ms_per_req']:.3f} ms/req"
            + (f"  db-cpu {res['db_cpu_ms_per_req']:.3f} ms/req" if pgcpu is not None else ""),
            flush=True,
        )


if __name__ == "__main__":
    main()
