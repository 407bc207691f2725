"""Messages out (issue 15 item 10): how many SMS one `kesu worker` delivers per second to a
local HTTP gateway, and how long from a status change to its SMS arriving (p50, p99).

    .venv/bin/python bench/outbox_bench.py --url sqlite:////tmp/kesu_outbox.sqlite
    .venv/bin/python bench/outbox_bench.py --url postgresql+psycopg://postgres@127.0.0.1:5432/kesu_outbox

A fresh database each run (SQLite file removed; PostgreSQL database recreated). The gateway
is a ThreadingHTTPServer in this process that checks the HMAC signature and answers 200.

1. Throughput: N messages put in the outbox, then one `kesu worker` started as a child
   process; timed from the first message the gateway accepts to the last. The worker's
   CPU (user+sys from /proc) over that window is reported as ms per message.
2. Latency: with the worker running (its default 1 s poll), M complaints are accepted one
   by one through the transition service (each accept sends the 受理告知 SMS); for each,
   the time from the transition's commit to the gateway receiving its SMS.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SECRET = "bench-secret"
HOME = Path(tempfile.mkdtemp(prefix="kesu-outbox-bench-"))
os.environ["KESU_HOME"] = str(HOME)  # the worker and this process share the keys


class Gateway:
    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.texts: dict[str, str] = {}
        self.bad = 0
        self.lock = threading.Lock()
        gw = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                now = time.perf_counter()
                want = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
                if not hmac.compare_digest(self.headers.get("X-Kesu-Signature", ""), want):
                    gw.bad += 1
                    self.send_response(401)
                else:
                    m = json.loads(body)
                    with gw.lock:
                        gw.arrived.setdefault(m["id"], now)
                        gw.texts[m["id"]] = m["text"]
                    self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/sms"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def _cpu_ms(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime + stime
    return ticks * 1000 / os.sysconf("SC_CLK_TCK")


def _fresh(url: str) -> None:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        return
    from sqlalchemy import create_engine, text

    name = url.rsplit("/", 1)[1]
    admin = create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()


def _worker(url: str, gw: Gateway) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KESU_")}
    env.update(
        KESU_HOME=str(HOME),
        KESU_DATABASE_URL=url,
        KESU_SMS_GATEWAY_URL=gw.url,
        KESU_SMS_GATEWAY_SECRET=SECRET,
        KESU_SMS_QUIET_HOURS="off",  # measured at any hour: nothing deferred
    )
    return subprocess.Popen(
        [sys.executable, "-m", "kesu.cli", "worker", "--interval", "3600"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--n", type=int, default=5000, help="messages for the throughput run")
    ap.add_argument("--m", type=int, default=200, help="status changes for the latency run")
    a = ap.parse_args()
    _fresh(a.url)

    from kesu.accounts.roles import system
    from kesu.channels import outbox
    from kesu.complaints import registration, transitions
    from kesu.complaints.schemas import ComplaintIn
    from kesu.runtime import Runtime
    from kesu.settings import Settings
    from kesu.store.db import write

    rt = Runtime.start(
        Settings(database_url=a.url, embedded_worker=False, sms_quiet_hours="off")
    )
    gw = Gateway()

    # 1. Throughput.
    with write(rt.engine) as conn:
        for i in range(a.n):
            outbox.enqueue(conn, rt.clock(), "sms", f"139{i:08d}", f"基准测试消息 {i}", "bench")
    worker = _worker(a.url, gw)
    while not gw.arrived:
        time.sleep(0.01)
    t0, cpu0 = time.perf_counter(), _cpu_ms(worker.pid)
    while len(gw.arrived) < a.n:
        time.sleep(0.01)
    seconds = time.perf_counter() - t0
    cpu = _cpu_ms(worker.pid) - cpu0
    sent = a.n - 1  # the first arrival starts the clock
    print(
        json.dumps(
            {
                "run": "throughput",
                "db": a.url.split(":")[0],
                "messages": a.n,
                "seconds": round(seconds, 2),
                "messages_per_s": round(sent / seconds, 1),
                "worker_cpu_ms_per_message": round(cpu / sent, 3),
                "bad_signatures": gw.bad,
            }
        ),
        flush=True,
    )

    # 2. Latency: status change → SMS at the gateway, the worker polling every second.
    numbers = []
    for i in range(a.m):
        data = ComplaintIn.model_validate(
            {
                "channel": "hotline",
                "customer": {"phone": f"138{i:08d}", "province": "广东省"},
                "description": f"用户反映本月账单多扣流量费，要求核实退费（基准 {i}）。",
            }
        )
        c, _ = registration.register(rt, data.model_dump(), system("bench"))
        numbers.append(c["number"])
    committed: dict[str, float] = {}
    for n in numbers:
        transitions.transition(rt, n, "accept", {}, system("bench"))
        committed[n] = time.perf_counter()
        time.sleep(0.05)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with gw.lock:
            got = {n for n in numbers if any(f"单号{n}" in x for x in gw.texts.values())}
        if len(got) == len(numbers):
            break
        time.sleep(0.1)
    with gw.lock:
        by_number = {
            n: at for uid, at in gw.arrived.items() for n in numbers if f"单号{n}" in gw.texts[uid]
        }
    lat = sorted((by_number[n] - committed[n]) * 1000 for n in numbers if n in by_number)
    worker.terminate()
    worker.wait(10)
    p99 = lat[min(len(lat) - 1, int(round(0.99 * len(lat))) - 1)]
    print(
        json.dumps(
            {
                "run": "latency",
                "db": a.url.split(":")[0],
                "status_changes": a.m,
                "arrived": len(lat),
                "p50_ms": round(statistics.median(lat), 1),
                "p99_ms": round(p99, 1),
                "max_ms": round(lat[-1], 1),
            }
        ),
        flush=True,
    )
    rt.close()


if __name__ == "__main__":
    main()
