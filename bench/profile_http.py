"""A/B measurements of the HTTP stack: which per-request cost is where.

    .venv/bin/python bench/profile_http.py --url sqlite:////tmp/kesu_bench_100k.sqlite \
        --variant base --variant noaccess --variant fixfilter ... \
        [--scenario health --scenario queue --scenario get] [--rounds 2] [--duration 10] \
        [--workers 1] [--connections 4]

Nothing in src/ is edited. Each variant is the same app started by this script
with uvicorn (uvloop + httptools, log level info, access log on: what `kesu serve`
runs) and with zero or more changes applied in the server process by monkeypatching
before `create_app()` runs. A variant is a '+'-separated list of flags:

  base          no change
  noaccess      uvicorn access_log=False (what `--no-access-log` does)
  nofilter      kesu.accounts.logs.install() not run: no MaskingFilter on any logger
  fixfilter     MaskingFilter that masks the record's *args* (keeps the tuple uvicorn's
                AccessFormatter unpacks) instead of replacing msg and setting args=()
  nobodylimit   the BodyLimit middleware taken out of the stack
  tokencache    token_principal answers from a 10 s per-process cache (still one
                threadpool hop)
  tokeninline   as tokencache, and a cache hit is answered on the event loop (no hop)
  threads=N     anyio's default thread limiter set to N tokens (default 40)
  asyncio       loop=asyncio, http=h11 instead of uvloop + httptools
  nowarm        the similar-complaints index is not built at start

Before measuring, the script waits until the server processes are idle (the
start-up index build is done). For each scenario it runs wrk for 3 s (discarded)
and then --duration s, and prints requests/s, p50, p99 and the server's CPU
milliseconds per request (user+sys of all server processes / requests), which is
much less sensitive to other load on the machine than requests/s. Rounds
interleave the variants so that each comparison is made within a minute or two.

Scenarios: health (GET /healthz), queue (bench/queue.lua, a team's open queue by
deadline, 50 rows), get (GET /api/v1/complaints/<number>, bench/get.lua cycles
through 200 open complaints), create (bench/create.lua).
"""

from __future__ import annotations

import argparse
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
VENV_PY = sys.executable

# ---------------------------------------------------------------- server side


def _flags() -> dict[str, str]:
    out = {}
    for part in os.environ.get("KESU_AB_VARIANT", "base").split("+"):
        k, _, v = part.partition("=")
        out[k] = v
    return out


def make_app():
    """uvicorn factory: kesu.app.create_app() with the variant's changes applied."""
    flags = _flags()
    import kesu.app as kapp
    from kesu.accounts import logs

    if "nofilter" in flags:
        logs.install = lambda: None
    if "fixfilter" in flags:
        logs.MaskingFilter = _FixedMaskingFilter
    if "nowarm" in flags:
        kapp._warm_triage = lambda rt: None
    if "tokencache" in flags or "tokeninline" in flags:
        _patch_token_cache(inline="tokeninline" in flags)
    app = kapp.create_app()
    if "nobodylimit" in flags:
        app.user_middleware = [m for m in app.user_middleware if m.cls is not kapp.BodyLimit]
    if "threads" in flags:
        return _ThreadLimit(app, int(flags["threads"]))
    return app


class _FixedMaskingFilter:
    """What MaskingFilter should do: mask inside the arguments, keep their shape."""

    def filter(self, record):
        from kesu.accounts import logs, masking

        def clean(s: str) -> str:
            if not logs._SUSPECT.search(s):
                return s
            s = logs._SECRETS.sub(lambda m: (m.group(1) or m.group(2)) + "***", s)
            return masking.text(s)

        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(clean(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str) and not record.args:
            record.msg = clean(record.msg)
        return True


def _patch_token_cache(inline: bool) -> None:
    from kesu.accounts import tokens, web

    real = tokens.token_principal
    cache: dict[tuple[str, str | None], tuple[float, object]] = {}

    def cached(rt, raw, ip):
        hit = cache.get((raw, ip))
        if hit is not None and time.monotonic() - hit[0] < 10:
            return hit[1]
        p = real(rt, raw, ip)
        if p is not None:
            cache[(raw, ip)] = (time.monotonic(), p)
        return p

    tokens.token_principal = cached
    if inline:
        real_run = web.run_in_threadpool

        async def run(fn, *args, **kwargs):
            if fn is cached:
                hit = cache.get((args[1], args[2]))
                if hit is not None and time.monotonic() - hit[0] < 10:
                    return hit[1]
            return await real_run(fn, *args, **kwargs)

        web.run_in_threadpool = run


class _ThreadLimit:
    def __init__(self, app, n: int) -> None:
        self.app, self.n, self.done = app, n, False

    async def __call__(self, scope, receive, send):
        if not self.done:
            import anyio.to_thread

            anyio.to_thread.current_default_thread_limiter().total_tokens = self.n
            self.done = True
        await self.app(scope, receive, send)

    def __getattr__(self, name):  # app.state etc.
        return getattr(self.app, name)


def serve(port: int, workers: int) -> None:
    import uvicorn

    flags = _flags()
    aio = "asyncio" in flags
    uvicorn.run(
        "profile_http:make_app",
        factory=True,
        host="127.0.0.1",
        port=port,
        workers=workers,
        log_level="info",
        access_log="noaccess" not in flags,
        http="h11" if aio else "httptools",
        loop="asyncio" if aio else "uvloop",
    )


# ---------------------------------------------------------------- driver side


def _descendants(pid: int) -> list[int]:
    parent = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                s = Path(f"/proc/{name}/stat").read_text()
                parent[int(name)] = int(s[s.rindex(")") + 2 :].split()[1])
            except (OSError, ValueError):
                pass
    out, todo = [pid], [pid]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        out += kids
        todo += kids
    return out


def _cpu_ticks(pids: list[int]) -> int:
    total = 0
    for p in pids:
        try:
            f = Path(f"/proc/{p}/stat").read_text()
            parts = f[f.rindex(")") + 2 :].split()
            total += int(parts[11]) + int(parts[12])  # utime + stime
        except (OSError, ValueError):
            pass
    return total


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(url: str, variant: str, workers: int, log: Path) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    env = dict(
        os.environ,
        KESU_DATABASE_URL=url,
        KESU_EMBEDDED_WORKER="0",
        KESU_AB_VARIANT=variant,
        PYTHONPATH=str(HERE) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    )
    proc = subprocess.Popen(
        [VENV_PY, str(Path(__file__).resolve()), "--serve", str(port), "--workers", str(workers)],
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited, see {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                break
        except OSError:
            time.sleep(0.3)
    # wait for the start-up work (similar-complaints index) to finish: < 10 % CPU for 1 s
    hz = os.sysconf("SC_CLK_TCK")
    deadline = time.time() + 120
    while time.time() < deadline:
        pids = _descendants(proc.pid)
        a = _cpu_ticks(pids)
        time.sleep(1.0)
        if (_cpu_ticks(pids) - a) / hz < 0.1 and len(pids) >= (workers + 1 if workers > 1 else 1):
            break
    return proc, port


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the group this script started
            proc.wait()


_UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    return float(m.group(1)) * _UNIT[m.group(2)] if m else float("nan")


def wrk(port: int, scenario: str, seconds: int, conns: int, token: str) -> dict:
    cmd = ["wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    path = "/"
    if scenario == "health":
        path = "/healthz"
    else:
        cmd += ["-s", str(HERE / {"queue": "queue.lua", "get": "get.lua", "create": "create.lua"}[scenario])]
    out = subprocess.run(
        cmd + [f"http://127.0.0.1:{port}{path}"],
        capture_output=True,
        text=True,
        env=dict(os.environ, KESU_BENCH_TOKEN=token),
    ).stdout
    res = {"rps": float("nan"), "requests": 0, "p50": float("nan"), "p99": float("nan"), "non2xx": 0}
    if m := re.search(r"Requests/sec:\s+([\d.]+)", out):
        res["rps"] = float(m.group(1))
    if m := re.search(r"(\d+) requests in", out):
        res["requests"] = int(m.group(1))
    for pct in ("50", "99"):
        if m := re.search(rf"^\s+{pct}(?:\.000)?%\s+(\S+)", out, re.M):
            res[f"p{pct}"] = _ms(m.group(1))
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        res["non2xx"] = int(m.group(1))
    return res


def write_get_lua(url: str) -> None:
    from sqlalchemy import create_engine, text

    eng = create_engine(url)
    with eng.connect() as conn:
        nums = [
            r[0]
            for r in conn.execute(
                text("SELECT number FROM complaints WHERE is_open = 1 ORDER BY id LIMIT 200")
            )
        ]
    eng.dispose()
    (HERE / "get.lua").write_text(
        "-- wrk script (written by profile_http.py): GET one complaint, cycling over 200.\n"
        "local numbers = {" + ",".join(f'"{n}"' for n in nums) + "}\n"
        "local i = 0\n"
        "function request()\n"
        "  i = i + 1\n"
        '  return wrk.format("GET", "/api/v1/complaints/" .. numbers[(i % #numbers) + 1],\n'
        '    {["Authorization"] = "Bearer " .. (os.getenv("KESU_BENCH_TOKEN") or "")})\n'
        "end\n"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--url")
    ap.add_argument("--variant", action="append")
    ap.add_argument("--scenario", action="append")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--connections", type=int, default=4)
    args = ap.parse_args()
    if args.serve:
        return serve(args.serve, args.workers)
    sys.path.insert(0, str(HERE))
    from http_bench import bench_token

    variants = args.variant or ["base"]
    scenarios = args.scenario or ["health", "queue", "get"]
    token = bench_token(args.url)
    if "get" in scenarios:
        write_get_lua(args.url)
    logdir = Path("/tmp/kesu_profile_http")
    logdir.mkdir(exist_ok=True)
    hz = os.sysconf("SC_CLK_TCK")
    rows = []
    print(
        f"workers {args.workers}, wrk -t1 -c{args.connections}, {args.duration} s per run "
        f"after 3 s discarded; cpu = server CPU ms per request",
        flush=True,
    )
    for rnd in range(1, args.rounds + 1):
        for variant in variants:
            log = logdir / f"server_{variant.replace('=', '')}_{rnd}.log"
            proc, port = start(args.url, variant, args.workers, log)
            try:
                pids = _descendants(proc.pid)
                for sc in scenarios:
                    wrk(port, sc, 3, args.connections, token)
                    a = _cpu_ticks(pids)
                    r = wrk(port, sc, args.duration, args.connections, token)
                    cpu_ms = (_cpu_ticks(pids) - a) / hz * 1000 / max(r["requests"], 1)
                    rows.append((rnd, variant, sc, r, cpu_ms))
                    print(
                        f"round {rnd}  {variant:28} {sc:7} {r['rps']:9.1f} req/s  "
                        f"p50 {r['p50']:7.2f} ms  p99 {r['p99']:7.2f} ms  "
                        f"cpu {cpu_ms:6.2f} ms/req  non2xx {r['non2xx']}",
                        flush=True,
                    )
            finally:
                stop(proc)
            size = log.stat().st_size
            print(f"         server log {log}: {size:,} bytes", flush=True)


if __name__ == "__main__":
    main()
