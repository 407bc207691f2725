"""Webhooks out, to a real HTTP receiver started by the test: complaint events arrive
signed (timestamp and signature verified by the receiver, no customer data), failures
are retried through the outbox, a subscription failing for a day is paused (audited) and
its deliveries wait for it to be resumed; test-send and the API, for admins only."""

from __future__ import annotations

import hashlib
import hmac
import urllib.error
import urllib.request
from datetime import datetime

import pytest
from sqlalchemy import select

from kesu.channels import delivery, webhook_admin, webhooks
from kesu.store import tables as t
from kesu.store.db import read
from tests.channels.gateway import Receiver

N = t.notifications.c


@pytest.fixture
def receiver(clock):
    r = Receiver(clock)
    yield r
    r.close()


def _subscribe(rt, receiver, events=webhooks.EVENTS) -> int:
    made = webhook_admin.create(rt, "admin-test", receiver.url, list(events))
    receiver.secret = made["secret"]
    return made["id"]


def _sub(rt, sid: int) -> dict:
    with read(rt.engine) as conn:
        s = webhooks.get(conn, sid)
    assert s is not None
    return s


def _outbox(rt) -> list[dict]:
    with read(rt.engine) as conn:
        rows = conn.execute(select(t.notifications).where(N.channel == "webhook").order_by(N.id))
        return [dict(r._mapping) for r in rows]


def test_complaint_events_arrive_signed_and_without_the_customers_data(
    rt, clock, receiver, make_complaint, act
):
    everything = _subscribe(rt, receiver)
    closed_only = webhook_admin.create(rt, "admin-test", receiver.url + "?closed", ["closed"])
    c = make_complaint()
    n = c["number"]
    act(n, "accept")
    act(n, "reply", resolution="已核实并退费。")
    act(n, "callback", result="satisfied")
    act(n, "close")
    # Written in each change's transaction; nothing leaves before the worker's pass.
    assert receiver.requests == 0
    assert delivery.deliver(rt) == {"sent": 6, "retry": 1, "dead": 0}
    # The second subscription has its own secret: the receiver (holding the first) refuses it.
    assert receiver.refused == ["signature"]
    got = receiver.events()
    assert got == [
        ("registered", n),
        ("status_changed", n),
        ("status_changed", n),
        ("status_changed", n),
        ("status_changed", n),
        ("closed", n),
    ]
    statuses = [
        (r["json"].get("previous_status"), r["json"]["complaint"]["status"])
        for r in receiver.received
    ]
    assert statuses[1:5] == [
        ("registered", "accepted"),
        ("accepted", "replied"),
        ("replied", "callback"),
        ("callback", "closed"),
    ]
    first = receiver.received[0]
    body = first["json"]
    assert set(body) == {"id", "event", "occurred_at", "complaint"}
    assert body["complaint"]["number"] == n and body["complaint"]["kind"] == c["kind"]
    assert set(body["complaint"]) == {
        "number",
        "status",
        "kind",
        "category",
        "team",
        "priority",
        "next_due_at",
    }
    assert datetime.fromisoformat(body["occurred_at"]) == clock()
    assert body["occurred_at"].endswith("+08:00")  # Beijing time, as everywhere in kesu
    raw = b"".join(r["body"] for r in receiver.received).decode()
    assert "13800001234" not in raw and "张三" not in raw and "账单" not in raw
    # The headers: the event, the delivery's stable id, the timestamp it was signed with.
    h = first["headers"]
    assert h["x-kesu-event"] == "registered"
    assert h["x-kesu-timestamp"] == str(int(clock().timestamp()))
    expected = hmac.new(
        receiver.secret.encode(), h["x-kesu-timestamp"].encode() + b"." + first["body"], "sha256"
    ).hexdigest()
    assert h["x-kesu-signature"] == f"sha256={expected}"
    rows = _outbox(rt)
    assert h["x-kesu-delivery"] == rows[0]["uid"] and rows[0]["webhook_id"] == everything
    assert len({r["json"]["id"] for r in receiver.received}) == 6  # an id per event
    # The closed-only subscription got one message, now retried (wrong secret on purpose).
    theirs = [r for r in rows if r["webhook_id"] == closed_only["id"]]
    assert [(r["purpose"], r["status"]) for r in theirs] == [("webhook.closed", "pending")]

    # A delivery replayed later is refused by its timestamp.
    clock.advance(minutes=10)
    again = urllib.request.Request(receiver.url, data=first["body"], method="POST", headers=dict(h))
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(again, timeout=5)
    assert refused.value.code == 401 and receiver.refused[-1] == "timestamp"


def test_a_receiver_failing_at_first_gets_the_delivery_later(rt, clock, receiver, make_complaint):
    sid = _subscribe(rt, receiver, ["registered"])
    receiver.fail_first = 2
    n = make_complaint()["number"]
    assert delivery.deliver(rt)["retry"] == 1
    s = _sub(rt, sid)
    assert s["failing_since"] == clock() and "HTTP 503" in s["last_error"]
    clock.advance(seconds=31)
    assert delivery.deliver(rt)["retry"] == 1
    clock.advance(seconds=61)
    assert delivery.deliver(rt)["sent"] == 1
    assert receiver.events() == [("registered", n)] and receiver.refused == []
    # Signed at the time it was sent (the receiver's clock agrees).
    assert receiver.received[0]["headers"]["x-kesu-timestamp"] == str(int(clock().timestamp()))
    assert _sub(rt, sid)["failing_since"] is None  # a success clears it
    (log,) = webhook_admin.deliveries(rt, "admin-test", sid)["items"]
    assert log["status"] == "sent" and log["attempts"] == 3 and log["event"] == "registered"
    assert log["last_error"] is None and log["sent_at"] is not None


def test_failing_for_a_day_pauses_it_audited_and_its_deliveries_wait(
    rt, clock, receiver, make_complaint, client, as_role
):
    sid = _subscribe(rt, receiver, ["registered"])
    receiver.down = True
    make_complaint()
    paused_at_hour = None
    for hour in range(1, 27):
        if hour % 6 == 0:
            webhook_admin.test(rt, "admin-test", sid)
        delivery.deliver(rt)
        if paused_at_hour is None and _sub(rt, sid)["state"] == "paused":
            paused_at_hour = hour
        clock.advance(hours=1)
    assert paused_at_hour is not None and paused_at_hour >= 24
    s = _sub(rt, sid)
    assert s["pause_reason"] == "auto" and s["failing_since"] is not None
    with read(rt.engine) as conn:
        entries = conn.execute(
            select(t.audit_log).where(t.audit_log.c.action == "webhook.pause")
        ).all()
    assert len(entries) == 1 and entries[0].actor == "system"
    assert entries[0].target_id == str(sid)
    # The API shows it paused, automatically.
    shown = client.get(f"/api/v1/webhooks/{sid}", headers=as_role("admin")).json()
    assert shown["state"] == "paused" and shown["paused_automatically"] is True

    # Paused: new events are not queued for it, and what waits is held, not sent or lost.
    before = len(_outbox(rt))
    make_complaint()
    assert len(_outbox(rt)) == before
    receiver.down = False
    clock.advance(hours=2)
    delivery.deliver(rt)
    assert receiver.received == []
    waiting = [m for m in _outbox(rt) if m["status"] == "pending"]
    assert waiting and all("暂停" in m["last_error"] for m in waiting)

    # Resumed: what waited, and what died while it failed, goes out (same ids).
    r = client.patch(f"/api/v1/webhooks/{sid}", json={"active": True}, headers=as_role("admin"))
    assert r.status_code == 200 and r.json()["state"] == "active"
    delivery.deliver(rt)
    uids = {m["uid"] for m in _outbox(rt)}
    assert {r["headers"]["x-kesu-delivery"] for r in receiver.received} == uids
    assert [e for e, _ in receiver.events()].count("registered") == 1
    assert _sub(rt, sid)["failing_since"] is None


def test_test_send_and_the_api(rt, clock, receiver, client, as_role):
    admin = as_role("admin")
    r = client.post(
        "/api/v1/webhooks",
        json={"url": receiver.url, "events": ["closed", "registered"]},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    made = r.json()
    sid, receiver.secret = made["id"], made["secret"]
    assert len(made["secret"]) >= 32 and made["events"] == ["registered", "closed"]
    with rt.engine.connect() as conn:  # the secret is stored encrypted, like personal data
        raw = conn.execute(
            select(t.webhook_subscriptions.c.secret.cast(t.Text)).where(
                t.webhook_subscriptions.c.id == sid
            )
        ).scalar_one()
    assert raw.startswith("enc1:") and made["secret"] not in raw
    listed = client.get("/api/v1/webhooks", headers=admin).json()
    assert [s["id"] for s in listed["items"]] == [sid]
    assert "secret" not in listed["items"][0] and made["secret"] not in str(listed)

    r = client.post(f"/api/v1/webhooks/{sid}/test", headers=admin)
    assert r.status_code == 202 and r.json()["event"] == "ping"
    assert delivery.deliver(rt)["sent"] == 1
    (ping,) = receiver.received
    assert ping["json"]["event"] == "ping" and ping["json"]["subscription"] == sid
    assert ping["headers"]["x-kesu-delivery"] == r.json()["delivery"]
    log = client.get(f"/api/v1/webhooks/{sid}/deliveries", headers=admin).json()["items"]
    assert [(m["event"], m["status"]) for m in log] == [("ping", "sent")]

    # A secret given by the admin is used as it is.
    given = "a-shared-secret-of-the-receiver"
    r = client.post(
        "/api/v1/webhooks",
        json={"url": "https://hooks.example.cn/kesu", "events": ["closed"], "secret": given},
        headers=admin,
    )
    assert r.status_code == 201 and r.json()["secret"] == given
    other = r.json()["id"]
    assert hmac.compare_digest(
        webhooks.signature(given, "1", b"{}"),
        "sha256=" + hmac.new(given.encode(), b"1.{}", hashlib.sha256).hexdigest(),
    )

    for body, code in (
        ({"url": "ftp://example.cn/x", "events": ["closed"]}, "invalid_webhook_url"),
        ({"url": "hooks.example.cn", "events": ["closed"]}, "invalid_webhook_url"),
        ({"url": receiver.url, "events": []}, "invalid_webhook_events"),
        ({"url": receiver.url, "events": ["deleted"]}, "invalid_webhook_events"),
        ({"url": receiver.url, "events": ["closed"], "secret": "short"}, "invalid_webhook_secret"),
    ):
        r = client.post("/api/v1/webhooks", json=body, headers=admin)
        assert r.status_code == 422 and r.json()["code"] == code, r.text
        assert any("\u4e00" <= ch <= "\u9fff" for ch in r.json()["detail"])
    assert len(client.get("/api/v1/webhooks", headers=admin).json()["items"]) == 2

    r = client.patch(f"/api/v1/webhooks/{sid}", json={"events": ["status_changed"]}, headers=admin)
    assert r.json()["events"] == ["status_changed"]
    r = client.patch(f"/api/v1/webhooks/{sid}", json={"active": False}, headers=admin)
    assert r.json()["state"] == "paused" and r.json()["paused_automatically"] is False
    assert client.delete(f"/api/v1/webhooks/{other}", headers=admin).status_code == 204
    r = client.get(f"/api/v1/webhooks/{other}", headers=admin)
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    with read(rt.engine) as conn:
        actions = (
            conn.execute(select(t.audit_log.c.action).where(t.audit_log.c.action.like("webhook.%")))
            .scalars()
            .all()
        )
    assert sorted(actions) == sorted(
        [
            "webhook.create",
            "webhook.create",
            "webhook.test",
            "webhook.change",
            "webhook.change",
            "webhook.delete",
        ]
    )

    for role in ("supervisor", "handler", "auditor"):
        h = as_role(role)
        assert client.get("/api/v1/webhooks", headers=h).status_code == 403
        r = client.post(
            "/api/v1/webhooks", json={"url": receiver.url, "events": ["closed"]}, headers=h
        )
        assert r.status_code == 403 and r.json()["code"] == "forbidden"
        assert client.post(f"/api/v1/webhooks/{sid}/test", headers=h).status_code == 403
        assert client.delete(f"/api/v1/webhooks/{sid}", headers=h).status_code == 403
    assert len(client.get("/api/v1/webhooks", headers=admin).json()["items"]) == 1


def test_the_watchers_warning_and_breach_are_sent(rt, clock, receiver, make_complaint):
    from kesu.deadlines import watcher

    _subscribe(rt, receiver, ["deadline_warning", "deadline_breached"])
    n = make_complaint()["number"]
    assert _outbox(rt) == []  # not subscribed to registrations
    clock.advance(hours=20)  # the 24-hour acknowledgement is 4 hours away (lead: 6 hours)
    assert watcher.warn_once(rt) >= 1
    clock.advance(hours=5)
    assert watcher.watch_once(rt) >= 1
    delivery.deliver(rt)
    got = receiver.received
    assert [(r["json"]["event"], r["json"]["complaint"]["number"]) for r in got][:1] == [
        ("deadline_warning", n)
    ]
    kinds = {r["json"]["event"] for r in got}
    assert kinds == {"deadline_warning", "deadline_breached"}
    breach = next(r["json"] for r in got if r["json"]["event"] == "deadline_breached")
    assert breach["deadline"]["rule"] == "ack_24h" and breach["deadline"]["due_at"]
    assert receiver.refused == []


def test_a_bulk_import_sends_each_registration(rt, receiver):
    from kesu.complaints import registration
    from kesu.complaints.schemas import ComplaintIn
    from tests.conftest import complaint_body

    _subscribe(rt, receiver, ["registered"])
    item = ComplaintIn.model_validate(complaint_body()).model_dump()
    numbers = registration.bulk_import(rt, [item] * 3, "import")
    assert delivery.deliver(rt)["sent"] == 3
    assert sorted(receiver.events()) == sorted(("registered", n) for n in numbers)
    assert {r["json"]["complaint"]["status"] for r in receiver.received} == {"registered"}


def test_a_redirect_is_not_a_delivery(rt, receiver):
    """urllib would follow a 302 with a GET and report success; kesu does not follow it."""
    sid = _subscribe(rt, receiver, ["closed"])
    receiver.status = 302
    webhook_admin.test(rt, "admin-test", sid)
    assert delivery.deliver(rt)["retry"] == 1
    (log,) = webhook_admin.deliveries(rt, "admin-test", sid)["items"]
    assert log["status"] == "pending" and "HTTP 302" in log["last_error"]


def test_the_admin_who_made_a_subscription_is_told_when_it_is_paused(rt, clock, receiver):
    from kesu.accounts import users
    from kesu.channels import staff_notices

    users.create_user(rt, "test", "hook-owner", "admin", "password-123456")
    users.set_email(rt, "test", "hook-owner", "owner@op.example.cn")
    made = webhook_admin.create(rt, "hook-owner", receiver.url, ["registered"])
    sid = made["id"]
    receiver.down = True
    for _ in range(26):
        webhook_admin.test(rt, "hook-owner", sid)
        delivery.deliver(rt)
        clock.advance(hours=1)
    assert _sub(rt, sid)["state"] == "paused"
    with read(rt.engine) as conn:
        told = staff_notices.listing(conn, "hook-owner")
        mail = conn.execute(
            select(t.notifications).where(N.channel == "email").order_by(N.id)
        ).all()
    assert [n["kind"] for n in told] == ["webhook_paused"]  # once, not at every failure
    assert f"推送订阅 #{sid}" in told[0]["text"] and "自动暂停" in told[0]["text"]
    assert "503" in told[0]["text"] or "HTTP" in told[0]["text"]  # the last error
    (m,) = mail
    assert m.recipient == "owner@op.example.cn"
    assert m.subject == f"[kesu] 推送订阅 #{sid} 已自动暂停"
    assert f"/admin/webhooks/{sid}" in m.body
