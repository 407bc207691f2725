"""The outbox delivers for real: SMS to an HTTP gateway started by the test (signed, with
the message's stable id), retried with backoff when it fails or times out, dead after the
last attempt and resent by an admin; nothing lost through an hour's outage; two workers
send each message once."""

from __future__ import annotations

import random
import threading
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from kesu.channels import delivery, outbox, sms_text
from kesu.channels.senders import HttpSmsGateway, senders_for
from kesu.runtime import Runtime
from kesu.store import tables as t
from kesu.store.db import read, write
from tests.channels.gateway import Gateway

N = t.notifications.c


@pytest.fixture
def gateway():
    g = Gateway()
    yield g
    g.close()


def _with(rt: Runtime, **settings) -> Runtime:
    return Runtime(settings=replace(rt.settings, **settings), engine=rt.engine, clock=rt.clock)


def _sms(rt: Runtime, gateway: Gateway, **settings) -> Runtime:
    return _with(
        rt,
        **{
            "sms_gateway_url": gateway.url,
            "sms_gateway_secret": gateway.secret,
            "gateway_timeout": 2.0,
            **settings,
        },
    )


def _enqueue(rt: Runtime, n: int, phone: str = "13912345678") -> list[str]:
    with write(rt.engine) as conn:
        return [
            outbox.enqueue(conn, rt.clock(), "sms", phone, f"您的投诉已受理（第 {i} 条）", "test")
            for i in range(n)
        ]


def _rows(rt: Runtime) -> dict[str, dict]:
    with read(rt.engine) as conn:
        return {r.uid: dict(r._mapping) for r in conn.execute(select(t.notifications))}


def test_sms_leaves_signed_with_its_stable_id(rt, gateway):
    live = _sms(rt, gateway, sms_signature="【某某通信】")
    uids = _enqueue(live, 3)
    assert delivery.deliver(live) == {"sent": 3, "retry": 0, "dead": 0}
    assert gateway.bad_signatures == 0
    assert set(gateway.accepted) == set(uids)
    first = gateway.accepted[uids[0]]
    assert first["to"] == "13912345678"
    assert first["text"] == "【某某通信】您的投诉已受理（第 0 条）"
    rows = _rows(live)
    assert {r["status"] for r in rows.values()} == {"sent"}
    assert {r["sink"] for r in rows.values()} == {"sms-http"}
    assert all(r["attempts"] == 1 for r in rows.values())
    # Sent once: another pass finds nothing to do.
    assert delivery.deliver(live)["sent"] == 0 and sum(gateway.seen.values()) == 3


def test_a_wrong_secret_is_refused_by_the_gateway_and_retried(rt, gateway):
    live = _with(rt, sms_gateway_url=gateway.url, sms_gateway_secret="wrong", gateway_timeout=2)
    _enqueue(live, 1)
    assert delivery.deliver(live)["retry"] == 1
    assert gateway.bad_signatures == 1 and not gateway.accepted
    (row,) = _rows(live).values()
    assert row["status"] == "pending" and "HTTP 401" in row["last_error"]


def test_failures_are_retried_later_with_backoff(rt, clock, gateway):
    gateway.fail_first = 2
    live = _sms(rt, gateway, outbox_retry_seconds=60, outbox_retry_cap_seconds=600)
    (uid,) = _enqueue(live, 1)
    assert delivery.deliver(live)["retry"] == 1
    row = _rows(live)[uid]
    wait = row["next_attempt_at"] - clock()
    assert row["status"] == "pending" and row["attempts"] == 1
    assert "HTTP 503" in row["last_error"]
    assert timedelta(seconds=30) <= wait <= timedelta(seconds=60)
    # Not due yet: the gateway is not asked again at once.
    assert delivery.deliver(live) == {"sent": 0, "retry": 0, "dead": 0}
    assert gateway.requests == 1
    clock.advance(seconds=61)
    assert delivery.deliver(live)["retry"] == 1
    second = _rows(live)[uid]["next_attempt_at"] - clock()
    assert timedelta(seconds=60) <= second <= timedelta(seconds=120)  # doubled
    clock.advance(seconds=121)
    assert delivery.deliver(live)["sent"] == 1
    assert _rows(live)[uid]["attempts"] == 3 and list(gateway.accepted) == [uid]


def test_a_timeout_is_retried_and_the_gateway_drops_the_duplicate_by_id(rt, clock, gateway):
    gateway.late_once = 1.5
    live = _sms(rt, gateway, gateway_timeout=0.5)
    (uid,) = _enqueue(live, 1)
    assert delivery.deliver(live)["retry"] == 1
    assert "未应答" in _rows(live)[uid]["last_error"]
    clock.advance(minutes=5)
    assert delivery.deliver(live)["sent"] == 1
    # The gateway got the same id twice and can tell it is one message.
    assert gateway.seen[uid] == 2 and list(gateway.accepted) == [uid]


def test_dead_after_the_last_attempt_then_resent(rt, clock, gateway):
    gateway.down = True
    live = _sms(rt, gateway, outbox_max_attempts=3)
    (uid,) = _enqueue(live, 1)
    results = []
    for _ in range(3):
        results.append(delivery.deliver(live))
        clock.advance(hours=1)
    assert [r["dead"] for r in results] == [0, 0, 1]
    row = _rows(live)[uid]
    assert row["status"] == "dead" and row["attempts"] == 3 and "503" in row["last_error"]
    assert outbox.counts(live)["dead"] == 1
    assert delivery.deliver(live)["sent"] == 0  # dead stays dead
    gateway.down = False
    with write(live.engine) as conn:
        assert outbox.resend(conn, clock(), row["id"])
        assert not outbox.resend(conn, clock(), row["id"])  # pending now, not dead
    assert delivery.deliver(live)["sent"] == 1
    assert _rows(live)[uid]["status"] == "sent" and list(gateway.accepted) == [uid]


def test_an_hour_of_outage_loses_nothing(rt, clock, gateway):
    """Default retry settings: a gateway down for an hour, then back: all goes out."""
    live = _sms(rt, gateway)
    uids = _enqueue(live, 20)
    gateway.down = True
    for _ in range(60):
        delivery.deliver(live)
        clock.advance(minutes=1)
    assert outbox.counts(live) == {"pending": 20, "sent": 0, "dead": 0}
    gateway.down = False
    for _ in range(16):  # the longest wait is the cap, 15 minutes
        delivery.deliver(live)
        clock.advance(minutes=1)
    assert outbox.counts(live) == {"pending": 0, "sent": 20, "dead": 0}
    assert set(gateway.accepted) == set(uids)


def test_no_gateway_keeps_messages_waiting(rt):
    assert senders_for(rt.settings) == {}
    _enqueue(rt, 2)
    assert delivery.deliver(rt) == {"sent": 0, "retry": 0, "dead": 0}
    assert outbox.counts(rt)["pending"] == 2


def test_two_workers_send_each_message_once(rt, gateway):
    """1,000 messages, two workers (each its own database engine) at once."""
    live = _sms(rt, gateway)
    uids = _enqueue(live, 1000)
    workers = [Runtime.start(live.settings, clock=live.clock, migrate_db=False) for _ in range(2)]
    errors: list[BaseException] = []

    def work(w: Runtime) -> None:
        try:
            while delivery.deliver(w, batch=25)["sent"]:
                pass
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=300)
    for w in workers:
        w.close()
    assert not errors
    assert set(gateway.accepted) == set(uids)
    assert max(gateway.seen.values()) == 1 and sum(gateway.seen.values()) == 1000
    assert outbox.counts(live)["sent"] == 1000


def test_backoff_doubles_up_to_the_cap_with_jitter():
    rnd = random.Random(7)
    waits = [outbox.backoff(n, 30, 900, rnd) for n in range(1, 9)]
    for n, wait in enumerate(waits, start=1):
        span = min(900, 30 * 2 ** (n - 1))
        assert span / 2 <= wait <= span
    assert len({round(w, 3) for w in waits}) == len(waits)  # jittered, not a fixed ladder


def test_sms_length_is_counted_as_the_gateway_counts():
    assert sms_text.signed("您的验证码是 123456", "【客诉】") == "【客诉】您的验证码是 123456"
    assert sms_text.signed("【客诉】已签名", "【客诉】") == "【客诉】已签名"
    assert sms_text.parts("字" * 70) == 1
    assert sms_text.parts("字" * 71) == 2
    assert sms_text.parts("字" * 134) == 2
    assert sms_text.parts("字" * 135) == 3


def test_the_http_adapter_is_a_sender():
    s = HttpSmsGateway("http://127.0.0.1:9/", "k", "【客诉】", 1.0)
    assert s.name == "sms-http"


def test_a_message_that_cannot_be_decrypted_dies_alone_and_the_rest_go_out(rt, gateway):
    from sqlalchemy import text

    live = _sms(rt, gateway)
    first, broken, last = _enqueue(live, 3)
    with write(rt.engine) as conn:  # its key gone: the stored body no longer opens
        conn.execute(
            text("UPDATE notifications SET body = :v WHERE uid = :u"),
            {"v": "enc1:no-such-key:AAAA", "u": broken},
        )
    assert delivery.deliver(live) == {"sent": 2, "retry": 0, "dead": 1}
    assert set(gateway.accepted) == {first, last}
    with read(rt.engine) as conn:  # the admin's list still opens, the bad one marked
        shown = {m["uid"]: m for m in outbox.listing(conn, None, None, 50, None)}
    assert shown[broken]["status"] == "dead" and "无法解密" in shown[broken]["last_error"]
    assert shown[broken]["body"] == outbox.UNREADABLE
    assert shown[first]["body"].startswith("您的投诉已受理") and shown[first]["status"] == "sent"
