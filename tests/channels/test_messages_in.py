"""Messages in (SMS replies, WeChat, app): a source an admin configured posts signed
messages; signed right they register a complaint or supplement the customer's open one,
idempotent by the message id; unsigned, badly signed, late, replayed, unknown or paused
sources and bad bodies are refused with a Chinese problem and write nothing."""

from __future__ import annotations

import hashlib
import hmac
import json
import re

import pytest
from sqlalchemy import select

from kesu.store import tables as t
from tests.channels.messages_in_kit import DOC, URL, add_source, counts, send, signed

PHONE = "13912345678"
BILLING = "我的话费这个月多扣了30元流量费，要求核实退还。"
NETWORK = "家里宽带每天晚上断网，已经一个星期了，要求尽快上门修复。"


@pytest.fixture
def admin(as_role):
    return as_role("admin")


@pytest.fixture
def secret(client, admin):
    return add_source(client, admin)


@pytest.fixture
def now(clock) -> float:
    return clock().timestamp()


def _events(client, number: str) -> list[dict]:
    r = client.get(f"/api/v1/complaints/{number}/events")
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_the_documented_signature_is_the_one_kesu_checks():
    """The worked example of docs/channels.md: its stated header is what its code and an
    independent computation give."""
    body, headers = signed(
        "demo-secret-0123456789",
        {"id": "sms-20261128-0001", "from": "13912345678", "text": "话费多扣了30元，还没退"},
        1795831200,
    )
    mac = hmac.new(b"demo-secret-0123456789", b"1795831200." + body, hashlib.sha256)
    assert headers["X-Kesu-Signature"] == "sha256=" + mac.hexdigest()
    assert headers["X-Kesu-Timestamp"] == "1795831200"
    stated = re.search(
        r"sha256=([0-9a-f]{64})", DOC.read_text(encoding="utf-8").split("## Messages in", 1)[1]
    )
    assert stated and "sha256=" + stated.group(1) == headers["X-Kesu-Signature"]


def test_admins_add_a_source_whose_secret_is_shown_once_and_stored_encrypted(
    rt, client, admin, as_role
):
    r = client.post(
        "/api/v1/channel-sources",
        json={"name": "wx-service", "kind": "wechat", "label": "微信服务号"},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["url"] == "/api/v1/channels/wx-service/messages" and len(made["secret"]) >= 32
    listed = client.get("/api/v1/channel-sources", headers=admin).json()["items"]
    assert [s["name"] for s in listed] == ["wx-service"] and "secret" not in listed[0]
    with rt.engine.connect() as conn:
        raw = conn.execute(select(t.channel_sources.c.secret.cast(t.Text))).scalar_one()
    assert raw.startswith("enc1:") and made["secret"] not in raw

    again = client.post(
        "/api/v1/channel-sources", json={"name": "wx-service", "kind": "app"}, headers=admin
    )
    assert again.status_code == 409 and again.json()["code"] == "source_exists"
    for bad, code in (
        ({"name": "WX 服务号", "kind": "wechat"}, "invalid_source_name"),
        ({"name": "fax", "kind": "fax"}, "unknown_source_kind"),
        ({"name": "short", "kind": "app", "secret": "too short"}, "invalid_source_secret"),
    ):
        r = client.post("/api/v1/channel-sources", json=bad, headers=admin)
        assert r.status_code == 422 and r.json()["code"] == code, r.text
        assert any("\u4e00" <= ch <= "\u9fff" for ch in r.json()["detail"])
    refused = client.post(  # the supervisor of the client fixture: not an admin
        "/api/v1/channel-sources", json={"name": "mine", "kind": "sms"}
    )
    assert refused.status_code == 403
    assert [
        s["name"] for s in client.get("/api/v1/channel-sources", headers=admin).json()["items"]
    ] == ["wx-service"]

    rotated = client.patch(
        "/api/v1/channel-sources/wx-service", json={"new_secret": True}, headers=admin
    )
    assert rotated.status_code == 200 and rotated.json()["secret"] != made["secret"]
    assert "secret" not in client.get("/api/v1/channel-sources/wx-service", headers=admin).json()


def test_a_signed_message_registers_a_complaint_once(rt, client, secret, now):
    message = {"id": "m-1", "from": PHONE, "text": BILLING}
    r = send(client, secret, message, now)
    assert r.status_code == 201, r.text
    assert r.json()["result"] == "registered" and r.json()["already_received"] is False
    number = r.json()["number"]
    c = client.get(f"/api/v1/complaints/{number}").json()
    assert (c["channel"], c["kind"], c["category"]) == ("sms", "complaint", "billing")
    assert c["description"] == BILLING and c["customer"]["phone"].startswith("139")
    registered = _events(client, number)[0]
    assert registered["actor"] == "hook:sms-gw"
    assert registered["data"]["intake"] == {
        "source": "sms-gw",
        "kind": "sms",
        "ref": "m-1",
        "named": None,
    }

    # The source retries (signed afresh, a second later): the same complaint, nothing new.
    before = counts(rt)
    again = send(client, secret, message, now + 1)
    assert again.status_code == 200, again.text
    assert again.json() == {"result": "registered", "number": number, "already_received": True}
    after = counts(rt)
    assert after["complaints"] == before["complaints"]
    assert after["complaint_events"] == before["complaint_events"]


def test_a_reply_is_added_to_the_customers_open_complaint(rt, client, make_complaint, secret, now):
    first = make_complaint(customer={"phone": PHONE, "name": "张三"}, description=BILLING)
    n = first["number"]
    before = counts(rt)
    r = send(client, secret, {"id": "m-2", "from": "+86 139-1234-5678", "text": "还没退款。"}, now)
    assert r.status_code == 200, r.text
    assert r.json() == {"result": "supplemented", "number": n, "already_received": False}
    added = _events(client, n)[-1]
    assert added["type"] == "customer_info_added" and added["note"] == "还没退款。"
    assert added["data"]["source"] == "hook" and added["data"]["ref"] == "m-2"
    assert added["data"]["channel"] == "sms" and added["actor"] == "hook:sms-gw"
    after = counts(rt)
    assert after["complaints"] == before["complaints"]
    assert after["complaint_events"] == before["complaint_events"] + 1


def test_which_complaint_a_message_refers_to(rt, client, make_complaint, act, secret, now):
    billing = make_complaint(customer={"phone": PHONE}, description=BILLING)["number"]
    # Another matter while only the billing complaint is open: a new complaint.
    r = send(client, secret, {"id": "net-1", "from": PHONE, "text": NETWORK}, now)
    assert r.json()["result"] == "registered", r.text
    network = r.json()["number"]
    assert network != billing
    # Two open complaints: a message naming none is registered; one naming one (in its
    # field, or in its text) is added to that one.
    r = send(client, secret, {"id": "x-1", "from": PHONE, "text": "怎么还没人联系我？"}, now)
    assert r.json()["result"] == "registered"
    r = send(
        client,
        secret,
        {"id": "x-2", "from": PHONE, "text": "师傅说明天来。", "complaint_number": network},
        now,
    )
    assert r.json() == {"result": "supplemented", "number": network, "already_received": False}
    r = send(
        client, secret, {"id": "x-3", "from": PHONE, "text": f"关于{billing}，已收到退款"}, now
    )
    assert r.json() == {"result": "supplemented", "number": billing, "already_received": False}

    # Someone else's complaint, named: never added to it.
    other = make_complaint(customer={"phone": "13700001111"}, description=BILLING)["number"]
    r = send(
        client,
        secret,
        {"id": "x-4", "from": PHONE, "text": "还是不对", "complaint_number": other},
        now,
    )
    assert r.json()["result"] == "registered" and r.json()["number"] != other
    assert [e["type"] for e in _events(client, other)] == ["registered"]

    # A closed complaint of the customer, named: a request to reopen it, no new complaint.
    act(billing, "accept")
    act(billing, "reply", resolution="已退费30元。")
    act(billing, "callback", result="dissatisfied")
    act(billing, "close")
    before = counts(rt)
    message = {"id": "x-5", "from": PHONE, "text": "退款不对", "complaint_number": billing}
    r = send(client, secret, message, now)
    assert r.status_code == 200, r.text
    assert r.json() == {"result": "reopen_requested", "number": billing, "already_received": False}
    asked = _events(client, billing)[-1]
    assert asked["type"] == "reopen_requested" and asked["note"] == "退款不对"
    assert asked["data"]["status_then"] == "closed" and asked["data"]["ref"] == "x-5"
    assert client.get(f"/api/v1/complaints/{billing}").json()["status"] == "closed"
    assert counts(rt)["complaints"] == before["complaints"]
    again = send(client, secret, message, now + 1)  # the source retries: the same answer
    assert again.json() == {
        "result": "reopen_requested",
        "number": billing,
        "already_received": True,
    }
    assert counts(rt)["complaint_events"] == before["complaint_events"] + 1


def test_wechat_and_app_messages_need_the_customers_phone(rt, client, admin, now):
    wx = add_source(client, admin, "wx-service", "wechat")
    before = counts(rt)
    r = send(client, wx, {"id": "w-1", "from": "oX7f_openid", "text": NETWORK}, now, "wx-service")
    assert r.status_code == 422 and r.json()["code"] == "phone_required"
    assert "手机号码" in r.json()["detail"]
    assert counts(rt) == before
    r = send(
        client,
        wx,
        {"id": "w-1", "from": "oX7f_openid", "phone": PHONE, "text": NETWORK},
        now + 1,
        "wx-service",
    )
    assert r.status_code == 201, r.text
    assert client.get(f"/api/v1/complaints/{r.json()['number']}").json()["channel"] == "wechat"
    # The kind, like the category, is triage's reading of the text.
    ask = {"id": "w-2", "from": "oY8g_openid", "phone": "13700002222"}
    r = send(client, wx, {**ask, "text": "我想咨询一下宽带套餐怎么办理"}, now, "wx-service")
    asked = client.get(f"/api/v1/complaints/{r.json()['number']}").json()
    assert (asked["kind"], asked["category"]) == ("consultation", "handling")


def test_requests_not_signed_right_are_refused_and_write_nothing(rt, client, admin, secret, now):
    message = {"id": "bad-1", "from": PHONE, "text": BILLING}
    body, headers = signed(secret, message, now)
    wrong = add_source(client, admin, "other", "app")  # another source's secret
    paused = add_source(client, admin, "paused-gw", "sms")
    assert (
        client.patch(
            "/api/v1/channel-sources/paused-gw", json={"active": False}, headers=admin
        ).json()["state"]
        == "paused"
    )
    tampered = body.replace(b"30", b"90")
    attempts = {
        "signature_missing": client.post(URL.format("sms-gw"), content=body),
        "signature_invalid": send(client, wrong, message, now),
        "source_unknown": client.post(URL.format("nobody"), content=body, headers=headers),
        "source_paused": send(client, paused, message, now, "paused-gw"),
        "signature_expired": send(client, secret, message, now - 301),
        "signature_expired ": send(client, secret, message, now + 301),
    }
    attempts["signature_invalid "] = client.post(
        URL.format("sms-gw"), content=tampered, headers=headers
    )
    attempts["signature_invalid  "] = client.post(
        URL.format("sms-gw"),
        content=body,
        headers={**headers, "X-Kesu-Signature": headers["X-Kesu-Signature"].upper()},
    )
    before = counts(rt)
    assert before["complaints"] == 0 and before["channel_replays"] == 0
    for code, r in attempts.items():
        assert r.status_code == 401, (code, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["code"] == code.strip(), r.text
        assert any("\u4e00" <= ch <= "\u9fff" for ch in r.json()["detail"])
    assert counts(rt) == before


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"not json", "invalid_json"),
        (b"[1, 2]", "invalid_type"),
        (json.dumps({"from": PHONE, "text": "x"}).encode(), "missing_field"),
        (json.dumps({"id": "a", "from": PHONE, "text": "   "}).encode(), "text_empty"),
        (json.dumps({"id": "a", "from": PHONE, "text": "x", "to": 1}).encode(), "unknown_field"),
        (json.dumps({"id": "a b", "from": PHONE, "text": "x"}).encode(), "invalid_value"),
        (
            json.dumps({"id": "a", "from": PHONE, "text": "x", "complaint_number": "TS1"}).encode(),
            "invalid_value",
        ),
        (
            json.dumps({"id": "a", "from": PHONE, "text": "x", "received_at": "昨天"}).encode(),
            "invalid_datetime",
        ),
        (
            json.dumps(
                {"id": "a", "from": PHONE, "text": "x", "received_at": "2027-01-01T00:00:00"}
            ).encode(),
            "received_in_future",
        ),
        (
            json.dumps({"id": "a", "from": "12", "text": "x", "phone": "12"}).encode(),
            "invalid_value",
        ),
    ],
)
def test_bad_messages_signed_right_are_refused_and_write_nothing(
    rt, client, secret, now, body, code
):
    stamp = str(int(now))
    mac = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    headers = {"X-Kesu-Timestamp": stamp, "X-Kesu-Signature": "sha256=" + mac}
    before = counts(rt)
    r = client.post(URL.format("sms-gw"), content=body, headers=headers)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == code, r.text
    assert any("\u4e00" <= ch <= "\u9fff" for ch in r.json()["detail"])
    assert counts(rt) == before
    # Not a replay: the same source sends a good message with a fresh signature.
    ok = send(client, secret, {"id": "after", "from": PHONE, "text": BILLING}, now)
    assert ok.status_code == 201, ok.text


def test_the_same_signed_request_twice_is_a_replay(rt, client, secret, now):
    message = {"id": "r-1", "from": PHONE, "text": BILLING}
    body, headers = signed(secret, message, now)
    first = client.post(URL.format("sms-gw"), content=body, headers=headers)
    assert first.status_code == 201, first.text
    before = counts(rt)
    again = client.post(URL.format("sms-gw"), content=body, headers=headers)
    assert again.status_code == 401 and again.json()["code"] == "message_replayed"
    assert "重复" in again.json()["detail"]
    assert counts(rt) == before


def test_a_sources_secret_is_reencrypted_by_key_rotation_and_still_verifies(
    rt, client, secret, now
):
    from kesu.accounts import crypto, keys

    original = crypto.keyring()
    try:
        crypto.configure(
            crypto.Keyring(
                keys=(("k-new", bytes(range(100, 132))), *original.keys),
                hash_key=original.hash_key,
            )
        )
        assert keys.rotate(rt, "test")["channel_sources"] == 1
        with rt.engine.connect() as conn:
            raw = conn.execute(select(t.channel_sources.c.secret.cast(t.Text))).scalar_one()
        assert raw.startswith("enc1:k-new:")
        r = send(client, secret, {"id": "k-1", "from": PHONE, "text": BILLING}, now)
        assert r.status_code == 201, r.text
    finally:
        crypto.configure(original)


def _told(rt, username: str) -> list[str]:
    with rt.engine.connect() as conn:
        return list(
            conn.execute(
                select(t.staff_notices.c.text).where(t.staff_notices.c.username == username)
            ).scalars()
        )


def test_the_assignee_is_told_of_a_message_and_supervisors_of_one_on_a_closed_complaint(
    rt, client, make_complaint, act, secret, now
):
    from kesu.accounts import users

    users.create_user(rt, "test", "li.handler", "handler", "password-123456", team="frontline")
    users.create_user(rt, "test", "zhao.lead", "supervisor", "password-123456", team="frontline")
    n = make_complaint(customer={"phone": PHONE}, description=BILLING)["number"]
    with rt.engine.begin() as conn:
        conn.execute(
            t.complaints.update()
            .where(t.complaints.c.number == n)
            .values(team="frontline", assignee="li.handler")
        )
    r = send(client, secret, {"id": "t-1", "from": PHONE, "text": "还没退款。"}, now)
    assert r.json()["result"] == "supplemented", r.text
    assert _told(rt, "li.handler") == [f"投诉单 {n} 的客户发来消息补充了信息。"]
    assert _told(rt, "zhao.lead") == []

    with rt.engine.begin() as conn:
        conn.execute(
            t.complaints.update()
            .where(t.complaints.c.number == n)
            .values(status="closed", is_open=False)
        )
    r = send(client, secret, {"id": "t-2", "from": PHONE, "text": f"{n} 的问题又出现了"}, now)
    assert r.json() == {"result": "reopen_requested", "number": n, "already_received": False}
    closed = f"投诉单 {n} 已结束，客户又发来消息：请查看并决定是否重开。"
    assert _told(rt, "li.handler")[-1] == closed
    assert _told(rt, "zhao.lead") == [closed]
