"""Messages in under concurrency: a real `kesu serve --workers 2`, requests fired at once.

The same signed request sent eight times together is taken exactly once (the others are
refused as replays); the same message sent eight times together, each signed afresh (a
source retrying), registers one complaint and every copy is answered with its number.
Runs on SQLite and, with KESU_TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import func, select, text

from kesu.channels import source_admin
from kesu.runtime import Runtime
from kesu.settings import Settings
from kesu.store import tables as t
from kesu.store.tables import metadata
from tests.channels.messages_in_kit import URL, signed
from tests.conftest import DATABASES, PG_URL, _postgres_engine, wait_healthy

AT_ONCE = 8


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module", params=DATABASES)
def server(request, tmp_path_factory):
    """(base URL, runtime on the same database, the source's secret) of a real server
    with two worker processes."""
    tmp_path = tmp_path_factory.mktemp("messages-in")
    if request.param == "sqlite":
        database_url = f"sqlite:///{tmp_path / 'kesu.db'}"
    else:
        database_url = PG_URL
        with _postgres_engine().begin() as conn:
            names = ", ".join(table.name for table in reversed(metadata.sorted_tables))
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    rt = Runtime.start(Settings(database_url=database_url, embedded_worker=False))
    secret = source_admin.create(rt, "test", "sms-gw", "sms")["secret"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("KESU_")}
    env.update(
        KESU_HOME=str(tmp_path / "home"),
        KESU_DATABASE_URL=database_url,
        KESU_DATA_KEY=os.environ["KESU_DATA_KEY"],
        KESU_HASH_KEY=os.environ["KESU_HASH_KEY"],
        KESU_COOKIE_SECURE="0",
    )
    log = open(tmp_path / "server.log", "w+")  # noqa: SIM115 (closed below)
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "kesu.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
        + ["--workers", "2", "--no-worker", "--no-access-log"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, proc, log)
        # Each worker loads the triage model on its first message: warm both up.
        for i in range(4):
            body, headers = signed(
                secret, {"id": f"warm-{i}", "from": "13000000000", "text": "你好"}
            )
            httpx.post(base + URL.format("sms-gw"), content=body, headers=headers, timeout=60)
        yield base, rt, secret
    finally:
        rt.close()
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _at_once(send, n: int = AT_ONCE) -> list[httpx.Response]:
    """n requests together, each on its own connection."""
    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(send, range(n)))


def _complaints_of(rt, key: str) -> int:
    with rt.engine.connect() as conn:
        return conn.execute(
            select(func.count()).where(t.complaints.c.idempotency_key == key)
        ).scalar_one()


def test_the_same_signed_request_sent_together_is_taken_once(server):
    base, rt, secret = server
    message = {"id": "same-1", "from": "13912340001", "text": "话费多扣了30元，要求退还。"}
    body, headers = signed(secret, message)

    def post(_: int) -> httpx.Response:
        return httpx.post(base + URL.format("sms-gw"), content=body, headers=headers, timeout=60)

    answers = _at_once(post)
    taken = [r for r in answers if r.status_code in (200, 201)]
    refused = [r for r in answers if r.status_code == 401]
    assert len(taken) == 1, [(r.status_code, r.text) for r in answers]
    assert taken[0].json()["result"] == "registered"
    assert len(refused) == AT_ONCE - 1
    assert {r.json()["code"] for r in refused} == {"message_replayed"}
    assert _complaints_of(rt, "hook:sms-gw:same-1") == 1


def test_a_message_retried_together_with_fresh_signatures_registers_once(server):
    base, rt, secret = server
    message = {"id": "retry-1", "from": "13912340002", "text": "宽带晚上老断网，要求维修。"}

    def post(i: int) -> httpx.Response:
        body, headers = signed(secret, message, time.time() + i)  # each its own signature
        return httpx.post(base + URL.format("sms-gw"), content=body, headers=headers, timeout=60)

    answers = _at_once(post)
    assert all(r.status_code in (200, 201) for r in answers), [r.text for r in answers]
    assert len({r.json()["number"] for r in answers}) == 1
    assert sum(not r.json()["already_received"] for r in answers) == 1
    assert _complaints_of(rt, "hook:sms-gw:retry-1") == 1
    with rt.engine.connect() as conn:
        recorded = conn.execute(
            select(func.count()).where(t.channel_messages.c.message_id == "retry-1")
        ).scalar_one()
    assert recorded == 1


def test_a_reply_retried_together_is_added_to_the_complaint_once(server):
    base, rt, secret = server
    phone = "13912340003"
    url = base + URL.format("sms-gw")
    body, headers = signed(secret, {"id": "first-3", "from": phone, "text": "话费多扣了20元。"})
    first = httpx.post(url, content=body, headers=headers, timeout=60)
    assert first.status_code == 201, first.text
    number = first.json()["number"]
    reply = {"id": "reply-3", "from": phone, "text": "还没有退，请尽快处理。"}

    def post(i: int) -> httpx.Response:
        body, headers = signed(secret, reply, time.time() + i)
        return httpx.post(url, content=body, headers=headers, timeout=60)

    answers = _at_once(post)
    assert all(r.status_code == 200 for r in answers), [r.text for r in answers]
    assert {(r.json()["result"], r.json()["number"]) for r in answers} == {("supplemented", number)}
    assert sum(not r.json()["already_received"] for r in answers) == 1
    with rt.engine.connect() as conn:
        added = conn.execute(
            select(func.count())
            .select_from(t.complaint_events)
            .join(t.complaints, t.complaints.c.id == t.complaint_events.c.complaint_id)
            .where(
                t.complaints.c.number == number,
                t.complaint_events.c.type == "customer_info_added",
            )
        ).scalar_one()
    assert added == 1
