"""The signed exchange between a centre's and an operator's kesu, one app at a time (both
databases): a referral posted without a token, signed by a configured referral source, is
received as the source; the operator's answer posted to the centre, signed with the
operator's secret, is recorded once; anything unsigned, badly signed, late or replayed is
a 401 that writes nothing; a redirected appeal handed over (第十三条) goes out as a referral
too. tests/appeals/test_exchange_e2e.py runs the whole exchange between two servers."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kesu.channels import referral_sources
from kesu.channels.webhooks import signature
from kesu.store import tables as t
from tests.appeals.test_api import appeal
from tests.conftest import bearer

SECRET = "a-secret-both-sides-hold-0123456789"


def signed(body: dict, secret: str, at, source: str | None = None) -> tuple[bytes, dict]:
    data = json.dumps(body, ensure_ascii=False).encode()
    stamp = str(int(at.timestamp()))
    headers = {
        "Content-Type": "application/json",
        "X-Kesu-Timestamp": stamp,
        "X-Kesu-Signature": signature(secret, stamp, data),
    }
    if source:
        headers["X-Kesu-Source"] = source
    return data, headers


def count(rt, table) -> int:
    with rt.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


# ---- the operator's side: a referral in, signed by the centre ---------------------------


@pytest.fixture
def operator(rt, client):
    saved = referral_sources.save(
        rt, "admin-test", "gd-centre", "某省申诉受理中心", "http://127.0.0.1:9/answers"
    )
    return TestClient(client.app), saved["secret"]


def referral(**over):
    body = {
        "ref": "SS20261127000001",
        "source": "gd-centre",
        "appeal_received_on": "2026-11-25",
        "reply_due_on": "2026-12-05",
        "appellant": {"phone": "13900007777", "name": "李四"},
        "operator": "某电信公司某省分公司",
        "issue": "申诉要求：退还视频会员费45元\n事实根据：未订购却每月扣费15元。",
    }
    body.update(over)
    return body


def test_a_signed_referral_needs_no_token_and_is_received_as_the_source(rt, operator, clock):
    anonymous, secret = operator
    data, headers = signed(referral(), secret, clock(), "gd-centre")
    r = anonymous.post("/api/v1/referrals", content=data, headers=headers)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["complaint"]["channel"] == "regulator"
    with rt.engine.connect() as conn:
        actors = conn.execute(
            select(t.audit_log.c.actor).where(t.audit_log.c.action == "complaint.register")
        ).scalars()
        assert set(actors) == {"referral:gd-centre"}
    # The outbox sends it again (a later timestamp, a new signature): the same referral.
    clock.advance(seconds=30)
    data, headers = signed(referral(), secret, clock(), "gd-centre")
    again = anonymous.post("/api/v1/referrals", content=data, headers=headers)
    assert (
        again.status_code == 200
        and again.json()["complaint"]["number"] == (made["complaint"]["number"])
    )
    assert count(rt, t.complaints) == 1


def test_unsigned_badly_signed_late_or_replayed_referrals_are_refused(rt, operator, clock):
    anonymous, secret = operator
    body = referral()
    data, good = signed(body, secret, clock(), "gd-centre")
    cases = {
        "unauthenticated": {"Content-Type": "application/json"},
        "signature_missing": {"Content-Type": "application/json", "X-Kesu-Source": "gd-centre"},
        "signature_invalid": signed(body, "another-secret-0123456789", clock(), "gd-centre")[1],
        "signature_expired": signed(body, secret, clock() - timedelta(minutes=6), "gd-centre")[1],
        "source_unknown": signed(body, secret, clock(), "elsewhere")[1],
    }
    for code, headers in cases.items():
        r = anonymous.post("/api/v1/referrals", content=data, headers=headers)
        assert r.status_code == 401 and r.json()["code"] == code, (code, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    assert count(rt, t.complaints) == 0 and count(rt, t.referrals) == 0
    assert anonymous.post("/api/v1/referrals", content=data, headers=good).status_code == 201
    replay = anonymous.post("/api/v1/referrals", content=data, headers=good)
    assert replay.status_code == 401 and replay.json()["code"] == "message_replayed"
    other = referral(ref="SS20261127000002", source="henan-ca")
    data, headers = signed(other, secret, clock(), "gd-centre")
    r = anonymous.post("/api/v1/referrals", content=data, headers=headers)
    assert r.status_code == 422 and r.json()["code"] == "referral_source_mismatch", r.text
    assert count(rt, t.complaints) == 1


def test_a_signed_referral_may_do_nothing_else(operator, clock):
    anonymous, secret = operator
    data, headers = signed({"handling": "x", "result": "y"}, secret, clock(), "gd-centre")
    r = anonymous.post("/api/v1/referrals/SS20261127000001/reply", content=data, headers=headers)
    assert r.status_code == 401 and r.json()["code"] == "unauthenticated"


# ---- the centre's side: the operator's answer in ----------------------------------------


@pytest.fixture
def centre(client, tokens):
    client.headers.update(bearer(tokens("appeal_supervisor")))
    for code, name in (("telecom", "某电信公司某省分公司"), ("mobile", "某移动公司某省分公司")):
        r = client.put(
            f"/api/v1/appeal-operators/{code}",
            json={
                "name": name,
                "address": "某市某路1号",
                "referral_url": f"http://127.0.0.1:9/{code}/api/v1/referrals",
                "secret": SECRET if code == "telecom" else SECRET[::-1],
            },
        )
        assert r.status_code == 200, r.text
    return client


def _referred(centre) -> str:
    number = centre.post("/api/v1/appeals", json=appeal()).json()["number"]
    confirm = {"direct_interest": True, "settled": False, "other_body": False, "other_law": False}
    for action, params in (("accept", {"confirm": confirm}), ("refer", {})):
        r = centre.post(
            f"/api/v1/appeals/{number}/transitions", json={"action": action, "params": params}
        )
        assert r.status_code == 200, r.text
    return number


def answer(number: str, **over) -> dict:
    body = {
        "id": "4f1c0d2e9a8b4c6d8e0f1a2b3c4d5e6f",
        "event": "referral.replied",
        "ref": number,
        "replied_at": "2026-11-28T10:00:00+08:00",
        "operator_complaint": {"number": "TS20261128000007", "status": "investigating"},
        "handling": "已核实并退订。",
        "result": "已退费45元。",
    }
    body.update(over)
    return body


URL = "/api/v1/appeals/operator-answers"


def test_the_operators_answer_is_recorded_once(rt, centre, clock):
    number = _referred(centre)
    with rt.engine.connect() as conn:
        [queued] = conn.execute(
            select(t.notifications).where(t.notifications.c.channel == "appeal_ref")
        ).all()
    assert queued.recipient == "telecom" and json.loads(queued.body)["ref"] == number
    anonymous = TestClient(centre.app)
    data, headers = signed(answer(number), SECRET, clock())  # no X-Kesu-Source: by the ref
    r = anonymous.post(URL, content=data, headers=headers)
    assert r.status_code == 200 and r.json()["result"] == "recorded", r.text
    a = centre.get(f"/api/v1/appeals/{number}").json()
    assert a["status"] == "answered"
    assert a["referral"]["answer"] == "处理过程：已核实并退订。\n处理结果：已退费45元。"
    assert a["referral"]["operator_complaint"] == "TS20261128000007"
    [event] = [e for e in a["history"] if e["type"] == "operator_answered"]
    assert event["actor"] == "operator:telecom" and event["data"]["via"] == "operator"
    # Delivered twice (the outbox did not hear the first 200): recorded once.
    clock.advance(seconds=20)
    data, headers = signed(answer(number), SECRET, clock(), "telecom")
    again = anonymous.post(URL, content=data, headers=headers)
    assert again.status_code == 200 and again.json()["result"] == "already_recorded"
    # A different answer to an appeal no longer waiting for one: a real conflict.
    data, headers = signed(answer(number, result="不予退费。"), SECRET, clock(), "telecom")
    r = anonymous.post(URL, content=data, headers=headers)
    assert r.status_code == 409 and r.json()["code"] == "appeal_answer_conflict", r.text
    history = centre.get(f"/api/v1/appeals/{number}").json()["history"]
    assert [e["type"] for e in history].count("operator_answered") == 1


def test_answers_not_signed_right_are_refused_and_write_nothing(rt, centre, clock):
    number = _referred(centre)
    anonymous = TestClient(centre.app)
    body = answer(number)
    data, good = signed(body, SECRET, clock(), "telecom")
    cases = {
        "signature_missing": {"Content-Type": "application/json"},
        "signature_invalid": signed(body, SECRET[::-1], clock(), "telecom")[1],
        "signature_expired": signed(body, SECRET, clock() - timedelta(minutes=6), "telecom")[1],
        "source_unknown": signed(body, SECRET, clock(), "unicom")[1],
    }
    for code, headers in cases.items():
        r = anonymous.post(URL, content=data, headers=headers)
        assert r.status_code == 401 and r.json()["code"] == code, (code, r.text)
    # Another operator, signing right with its own secret, cannot answer for this one.
    data2, other = signed(body, SECRET[::-1], clock(), "mobile")
    assert anonymous.post(URL, content=data2, headers=other).status_code == 404
    assert centre.get(f"/api/v1/appeals/{number}").json()["status"] == "referred"
    assert anonymous.post(URL, content=data, headers=good).status_code == 200
    replay = anonymous.post(URL, content=data, headers=good)
    assert replay.status_code == 401 and replay.json()["code"] == "message_replayed"


def test_a_redirected_appeal_is_handed_over_to_the_connected_operator(rt, centre, clock):
    body = appeal()
    del body["complained_at"], body["operator_answered_at"]
    number = centre.post("/api/v1/appeals", json=body).json()["number"]
    r = centre.post(
        f"/api/v1/appeals/{number}/transitions",
        json={"action": "redirect", "params": {"hand_over": True}},
    )
    assert r.status_code == 200 and r.json()["status"] == "redirected", r.text
    [event] = [e for e in r.json()["history"] if e["type"] == "handed_over"]
    assert event["data"]["operator"] == "telecom" and event["data"]["reply_due_on"]
    with rt.engine.connect() as conn:
        [queued] = conn.execute(
            select(t.notifications).where(t.notifications.c.purpose == "appeal.hand_over")
        ).all()
    sent = json.loads(queued.body)
    assert queued.channel == "appeal_ref" and sent["ref"] == number
    assert "第十三条" in sent["issue"] and sent["reply_due_on"] == event["data"]["reply_due_on"]
    # The operator's answer to the complaint it registered is kept on the closed appeal.
    data, headers = signed(answer(number), SECRET, clock(), "telecom")
    r = TestClient(centre.app).post(URL, content=data, headers=headers)
    assert r.status_code == 200 and r.json()["result"] == "noted", r.text
    a = centre.get(f"/api/v1/appeals/{number}").json()
    assert a["status"] == "redirected" and a["referral"]["operator_complaint"]


def test_without_hand_over_nothing_goes_to_the_operator(rt, centre):
    body = appeal()
    del body["complained_at"], body["operator_answered_at"]
    number = centre.post("/api/v1/appeals", json=body).json()["number"]
    r = centre.post(
        f"/api/v1/appeals/{number}/transitions", json={"action": "redirect", "params": {}}
    )
    assert r.status_code == 200, r.text
    with rt.engine.connect() as conn:
        n = conn.execute(
            select(func.count())
            .select_from(t.notifications)
            .where(t.notifications.c.channel == "appeal_ref")
        ).scalar_one()
    assert n == 0
