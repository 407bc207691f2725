"""The centre asks a connected operator's kesu for the appellant's complaint record
(issue 17 item 2: "the operator's complaint record where the operator is connected").

The operator is a real kesu (its own SQLite database) served by uvicorn on a port; the
centre is the test's runtime (either database). The question goes signed to the
operator's POST /api/v1/complaint-records: at receipt through the outbox, on demand from
POST /api/v1/appeals/{number}/operator-record. What comes back is kept on the appeal and
decides what it can of 第十条（四）."""

from __future__ import annotations

import json
import socket
import threading
import time
from datetime import datetime

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import select

from kesu.accounts.tokens import create_token
from kesu.accounts.users import create_user
from kesu.app import create_app
from kesu.channels import delivery, referral_sources
from kesu.clock import BEIJING
from kesu.runtime import Runtime
from kesu.settings import Settings
from kesu.store import tables as t
from tests.appeals.test_api import appeal
from tests.appeals.test_exchange import signed
from tests.conftest import bearer, complaint_body

CONFIRM = {"direct_interest": True, "settled": False, "other_body": False, "other_law": False}
PHONE = "13800138000"  # the appellant of tests.appeals.test_api.appeal


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Operator:
    """An operator's kesu on its own database, served on a real port."""

    def __init__(self, tmp_path, clock) -> None:
        settings = Settings(
            database_url=f"sqlite:///{tmp_path / 'operator.db'}",
            embedded_worker=False,
            cookie_secure=False,
        )
        self.rt = Runtime.start(settings, clock=clock)
        create_user(self.rt, "test", "op-sup", "supervisor", "password-123456")
        token, _ = create_token(self.rt, "test", "op-sup", "test", expires_days=30)
        self.staff = TestClient(create_app(self.rt, watcher=False))
        self.staff.headers.update(bearer(token))
        saved = referral_sources.save(
            self.rt, "admin-test", "gd-centre", "某省申诉受理中心", "http://127.0.0.1:9/answers"
        )
        self.secret = saved["secret"]
        port = _port()
        config = uvicorn.Config(
            create_app(self.rt, watcher=False), host="127.0.0.1", port=port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline, "the operator's kesu did not start"
            time.sleep(0.05)
        self.base = f"http://127.0.0.1:{port}"

    def complaint(self, received: str, phone: str = PHONE) -> str:
        at = datetime.fromisoformat(received).replace(hour=9, tzinfo=BEIJING).isoformat()
        body = complaint_body(customer={"phone": phone, "name": "张三"}, received_at=at)
        r = self.staff.post("/api/v1/complaints", json=body)
        assert r.status_code == 201, r.text
        return r.json()["number"]

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.staff.close()
        self.rt.close()


@pytest.fixture
def operator(tmp_path, clock):
    op = Operator(tmp_path, clock)
    yield op
    op.close()


@pytest.fixture
def centre(client, tokens, operator, monkeypatch):
    monkeypatch.setenv("KESU_CENTRE_CODE", "gd-centre")  # what the operator configured
    client.headers.update(bearer(tokens("appeal_supervisor")))
    for code, url, secret in (
        ("telecom", f"{operator.base}/api/v1/referrals", operator.secret),
        ("mobile", None, None),
        ("unicom", "http://127.0.0.1:9/api/v1/referrals", "a-secret-nobody-answers-0123456789"),
    ):
        body = {"name": f"{code}公司", "address": "某市某路1号"}
        if url:
            body.update(referral_url=url, secret=secret)
        r = client.put(f"/api/v1/appeal-operators/{code}", json=body)
        assert r.status_code == 200, r.text
    return client


def _ten_four(a: dict) -> dict:
    return next(c for c in a["conditions"] if c["code"] == "10-4")


def _accept(centre, number: str, **extra):
    return centre.post(
        f"/api/v1/appeals/{number}/transitions",
        json={"action": "accept", "params": {"confirm": {**CONFIRM, **extra}}},
    )


def test_the_question_goes_out_at_receipt_and_the_answer_decides_the_condition(
    rt, centre, operator
):
    mine = operator.complaint("2026-10-08")  # the appellant's complaint, as they said
    operator.complaint("2026-10-09", phone="13900001111")  # somebody else's
    number = centre.post("/api/v1/appeals", json=appeal()).json()["number"]
    with rt.engine.connect() as conn:
        [queued] = conn.execute(
            select(t.notifications).where(t.notifications.c.channel == "appeal_rec")
        ).all()
    asked = json.loads(queued.body)
    assert queued.recipient == "telecom" and asked["appeal"] == number
    assert asked["phone"] == PHONE and asked["source"] == "gd-centre"
    assert delivery.deliver(rt)["sent"] >= 1
    a = centre.get(f"/api/v1/appeals/{number}").json()
    assert [c["number"] for c in a["operator_record"]["complaints"]] == [mine]
    assert "text" not in json.dumps(a["operator_record"]) and "张三" not in json.dumps(
        a["operator_record"]
    )
    item = _ten_four(a)
    assert (
        item["met"] is True
        and f"被申诉企业的记录相符：{mine}（2026年10月8日受理" in (item["evidence"])
    )
    [event] = [e for e in a["history"] if e["type"] == "operator_record"]
    assert event["actor"] == "operator:telecom" and event["data"]["complaints"] == [mine]
    assert _accept(centre, number).json()["status"] == "accepted"
    # The operator's audit log says who asked, for which appeal, about whom (masked).
    with operator.rt.engine.connect() as conn:
        [entry] = conn.execute(
            select(t.audit_log).where(t.audit_log.c.action == "complaint.record_query")
        ).all()
    assert entry.actor == "referral:gd-centre" and entry.target_id == "138****8000"
    assert entry.detail == {"source": "gd-centre", "appeal": number, "found": 1}


def test_a_record_without_the_stated_complaint_holds_acceptance_for_the_officer(
    rt, centre, operator
):
    number = centre.post("/api/v1/appeals", json=appeal()).json()["number"]
    r = centre.post(f"/api/v1/appeals/{number}/operator-record")  # on demand, answered now
    assert r.status_code == 200, r.text
    item = _ten_four(r.json())
    assert item["met"] is None and item["decides"] == "officer"
    assert "没有该号码在2026年10月8日前后7日内的投诉" in item["evidence"]
    refused = _accept(centre, number)
    assert refused.status_code == 409 and refused.json()["code"] == "appeal_conditions_not_met"
    # The appellant showed the officer the operator's SMS acknowledging the complaint.
    accepted = _accept(centre, number, complaint_verified=True)
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted", accepted.text


def test_an_appellant_who_left_the_date_blank_but_complained_is_not_sent_back(rt, centre, operator):
    theirs = operator.complaint("2026-10-20")
    body = appeal(complained_at=None, operator_answered_at=None)
    number = centre.post("/api/v1/appeals", json=body).json()["number"]
    before = _ten_four(centre.get(f"/api/v1/appeals/{number}").json())
    assert before["redirect"] is True  # on the appellant's word: 第十三条
    a = centre.post(f"/api/v1/appeals/{number}/operator-record").json()
    item = _ten_four(a)
    assert item["redirect"] is False and item["met"] is None and theirs in item["evidence"]
    assert a["verdict"]["redirect"] is False


def test_an_operator_not_connected_or_not_answering_changes_nothing(rt, centre, operator):
    for code, status, problem in (
        ("mobile", 409, "operator_not_connected"),
        ("unicom", 502, "operator_record_unavailable"),
    ):
        number = centre.post("/api/v1/appeals", json=appeal(operator=code)).json()["number"]
        r = centre.post(f"/api/v1/appeals/{number}/operator-record")
        assert r.status_code == status and r.json()["code"] == problem, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert any("\u4e00" <= ch <= "\u9fff" for ch in r.json()["detail"])
        a = centre.get(f"/api/v1/appeals/{number}").json()
        assert a["operator_record"] is None
        assert "operator_record" not in [e["type"] for e in a["history"]]


# ---- the operator's side: who may ask, and what they learn -------------------------------


def test_the_operators_endpoint_answers_signed_questions_only(operator, clock):
    mine = operator.complaint("2026-10-08")
    anonymous = TestClient(operator.staff.app)
    question = {"source": "gd-centre", "phone": "+86 138-0013-8000", "appeal": "SS20261128000001"}
    data, headers = signed(question, operator.secret, clock(), "gd-centre")
    r = anonymous.post("/api/v1/complaint-records", content=data, headers=headers)
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["phone"] == "138****8000" and [c["number"] for c in got["complaints"]] == [mine]
    assert set(got["complaints"][0]) == {
        "number",
        "kind",
        "category",
        "status",
        "received_on",
        "answered_on",
        "closed_on",
    }
    assert got["complaints"][0]["received_on"] == "2026-10-08"
    replay = anonymous.post("/api/v1/complaint-records", content=data, headers=headers)
    assert replay.status_code == 401 and replay.json()["code"] == "message_replayed"
    unsigned = anonymous.post("/api/v1/complaint-records", json=question)
    assert unsigned.status_code == 401 and unsigned.json()["code"] == "unauthenticated"
    forged = signed(question, "not-the-secret-0123456789", clock(), "gd-centre")
    r = anonymous.post("/api/v1/complaint-records", content=forged[0], headers=forged[1])
    assert r.status_code == 401 and r.json()["code"] == "signature_invalid"
    other = {**question, "source": "henan-ca"}
    data, headers = signed(other, operator.secret, clock(), "gd-centre")
    r = anonymous.post("/api/v1/complaint-records", content=data, headers=headers)
    assert r.status_code == 422 and r.json()["code"] == "referral_source_mismatch"
    # Staff may ask too (complaint.read), e.g. when the centre phones in.
    staff = operator.staff.post("/api/v1/complaint-records", json=question)
    assert staff.status_code == 200 and len(staff.json()["complaints"]) == 1
    bad = operator.staff.post("/api/v1/complaint-records", json={**question, "phone": "abc"})
    assert bad.status_code == 422


def test_the_officer_asks_from_the_appeal_page_and_sees_the_record(centre, operator, staff_web):
    mine = operator.complaint("2026-10-07")
    number = centre.post("/api/v1/appeals", json=appeal()).json()["number"]
    officer, csrf = staff_web("li.officer", "appeal_officer")
    page = officer.get(f"/appeals/{number}").text
    assert "被申诉企业的投诉记录" in page and "尚未收到答复" in page
    assert f'action="/appeals/{number}/operator-record"' in page
    r = officer.post(f"/appeals/{number}/operator-record", data={"csrf_token": csrf})
    assert r.status_code == 200 and "已向被申诉企业查询投诉记录。" in r.text, r.text[:500]
    assert f"<td>{mine}</td><td>2026-10-07</td><td>未答复</td>" in r.text
    assert f"被申诉企业的记录相符：{mine}" in r.text  # in 第十条（四）'s evidence
    # Without the form's CSRF token nothing is asked.
    refused = officer.post(f"/appeals/{number}/operator-record", data={})
    assert refused.status_code == 403
