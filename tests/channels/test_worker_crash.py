"""A worker killed with SIGKILL in the middle of a batch loses nothing: the messages it
had claimed go out through the next worker once their lease runs out."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from kesu.channels import outbox
from kesu.store.db import write
from tests.channels.gateway import Gateway


def _env(tmp_path, database_url: str, gateway: Gateway) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KESU_")}
    env.update(
        # The same keys as this process: the outbox's recipients and texts are encrypted.
        KESU_DATA_KEY=os.environ["KESU_DATA_KEY"],
        KESU_HASH_KEY=os.environ["KESU_HASH_KEY"],
        KESU_HOME=str(tmp_path / "home"),
        KESU_DATABASE_URL=database_url,
        KESU_SMS_GATEWAY_URL=gateway.url,
        KESU_SMS_GATEWAY_SECRET=gateway.secret,
        KESU_OUTBOX_LEASE_SECONDS="1",
        KESU_OUTBOX_POLL_SECONDS="0.2",
    )
    return env


def test_a_killed_worker_loses_nothing(rt, database_url, tmp_path):
    gateway = Gateway()
    gateway.delay = 0.05
    try:
        with write(rt.engine) as conn:
            uids = [
                outbox.enqueue(conn, rt.clock(), "sms", "13812345678", f"通知 {i}", "test")
                for i in range(80)
            ]
        env = _env(tmp_path, database_url, gateway)
        log = tmp_path / "worker.log"
        with log.open("wb") as out:
            worker = subprocess.Popen(
                [sys.executable, "-m", "kesu.cli", "worker", "--interval", "600"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        # A loaded machine may take long to start the worker (the law index, the model):
        # wait for its first deliveries, not for a fixed time.
        deadline = time.monotonic() + 300
        while len(gateway.accepted) < 10 and time.monotonic() < deadline:
            if worker.poll() is not None:
                break
            time.sleep(0.05)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
        first = len(gateway.accepted)
        said = log.read_text(errors="replace")[-2000:]
        assert 10 <= first < 80, f"the worker should have been killed mid-way: {said}"
        time.sleep(1.2)  # the dead worker's lease runs out
        for _ in range(10):
            done = subprocess.run(
                [sys.executable, "-m", "kesu.cli", "worker", "--once"],
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert done.returncode == 0, done.stderr
            if outbox.counts(rt)["pending"] == 0:
                break
        assert outbox.counts(rt) == {"pending": 0, "sent": 80, "dead": 0}
        assert set(gateway.accepted) == set(uids)
        # At most the messages in flight at the kill reached the gateway twice.
        assert sum(gateway.seen.values()) - 80 <= 1
    finally:
        gateway.close()
