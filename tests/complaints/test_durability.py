"""Durability: a server killed with SIGKILL during a burst of idempotent creates loses no
acknowledged complaint, and retrying every request after restart creates no duplicate.

A real `kesu serve --workers 2` (SQLite, and PostgreSQL when KESU_TEST_DATABASE_URL is
set) in its own process group; eight clients send creates, each with its own
Idempotency-Key; once some have been acknowledged the whole group is killed with SIGKILL
mid-burst. A new server on the same database must show every acknowledged complaint,
and resending all requests (acknowledged, lost or refused) must give one complaint per key.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

KEYS = 200


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(env: dict[str, str], log) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "kesu.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
        + ["--workers", "2", "--no-worker"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own group: SIGKILL reaches the workers too
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.TransportError:
            pass
        assert proc.poll() is None, "server exited"
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.3)


def _kill(proc: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    proc.wait(timeout=30)


def _body(i: int) -> dict:
    return {
        "channel": "hotline",
        "customer": {"phone": f"1390000{i:04d}"},
        "description": f"第 {i} 位用户来电反映宽带断线。",
    }


def test_no_acknowledged_complaint_is_lost_and_retries_make_no_duplicates(database_url, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("KESU_TEST")}
    env.update(KESU_HOME=str(tmp_path / "home"), KESU_DATABASE_URL=database_url)
    cli = [sys.executable, "-m", "kesu.cli"]
    subprocess.run(
        cli + ["user", "add", "dur-agent", "--role", "supervisor", "--password", "z" * 12],
        env=env,
        check=True,
        capture_output=True,
    )
    out = subprocess.run(
        cli + ["token", "create", "dur-agent"], env=env, check=True, capture_output=True, text=True
    ).stdout
    auth = {"Authorization": "Bearer " + re.search(r"(kesu_\S+)", out).group(1)}  # type: ignore[union-attr]

    acked: dict[str, str] = {}
    lock = threading.Lock()
    with open(tmp_path / "server.log", "w") as log:
        proc, base = _start(env, log)

        def create(i: int) -> None:
            key = f"dur-{i}"
            try:
                r = httpx.post(
                    f"{base}/api/v1/complaints",
                    json=_body(i),
                    headers={**auth, "Idempotency-Key": key},
                    timeout=30,
                )
            except httpx.TransportError:
                return  # the server died before answering: not acknowledged
            if r.status_code in (200, 201):
                with lock:
                    acked[key] = r.json()["number"]

        def killer() -> None:
            while len(acked) < 40 and proc.poll() is None:
                time.sleep(0.01)
            _kill(proc, signal.SIGKILL)

        k = threading.Thread(target=killer)
        k.start()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(create, range(KEYS)))
        k.join()
        assert 40 <= len(acked) < KEYS, "the kill must fall inside the burst"

        proc, base = _start(env, log)
        try:
            with httpx.Client(base_url=base, headers=auth, timeout=30) as c:
                for key, number in acked.items():
                    assert c.get(f"/api/v1/complaints/{number}").status_code == 200, key
                numbers: dict[str, str] = {}
                for i in range(KEYS):
                    key = f"dur-{i}"
                    r = c.post(
                        "/api/v1/complaints", json=_body(i), headers={"Idempotency-Key": key}
                    )
                    assert r.status_code in (200, 201), r.text
                    numbers[key] = r.json()["number"]
                    if key in acked:
                        assert r.status_code == 200 and numbers[key] == acked[key], key
                seen: list[str] = []
                cursor = None
                while True:
                    params = {"limit": 200, **({"cursor": cursor} if cursor else {})}
                    page = c.get("/api/v1/complaints", params=params).json()
                    seen += [item["number"] for item in page["items"]]
                    cursor = page.get("next_cursor")
                    if not cursor:
                        break
        finally:
            _kill(proc, signal.SIGINT)
    assert len(seen) == len(set(seen)) == KEYS
    assert set(seen) == set(numbers.values())
