"""`kesu serve --workers 2` on a real port, on a fresh database of either kind, with a
runtime on the same database: the server the concurrency tests send requests to at once."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text

from kesu.runtime import Runtime
from kesu.settings import Settings
from kesu.store.tables import metadata
from tests.conftest import PG_URL, _postgres_engine, wait_healthy


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(database: str, tmp_path: Path) -> Iterator[tuple[str, Runtime]]:
    """(base URL, runtime) of a two-worker server on `database` ("sqlite": a file in
    tmp_path; "postgresql": the test server's database, emptied first)."""
    if database == "sqlite":
        database_url = f"sqlite:///{tmp_path / 'kesu.db'}"
    else:
        database_url = PG_URL
        with _postgres_engine().begin() as conn:
            names = ", ".join(table.name for table in reversed(metadata.sorted_tables))
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KESU_")}
    env.update(
        KESU_HOME=str(tmp_path / "home"),
        KESU_DATABASE_URL=database_url,
        KESU_DATA_KEY=os.environ["KESU_DATA_KEY"],
        KESU_HASH_KEY=os.environ["KESU_HASH_KEY"],
        KESU_COOKIE_SECURE="0",
    )
    log = open(tmp_path / "server.log", "w+")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        [sys.executable, "-m", "kesu.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
        + ["--workers", "2", "--no-worker", "--no-access-log"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    rt = None
    try:
        wait_healthy(base, proc, log)
        rt = Runtime.start(Settings(database_url=database_url, embedded_worker=False))
        yield base, rt
    finally:
        if rt is not None:
            rt.close()
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
