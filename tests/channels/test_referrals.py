"""Regulator referrals (管局转办) through the API: a referral registers a complaint on the
regulator channel (group level, flagged) with a deadline on the regulator's date whose
basis is the regulator's requirement (no article we do not hold), idempotent by the
reference; it joins the open complaint of the same customer and matter; bad input is a
422 in Chinese that writes nothing; the answer to the regulator is a document and, where
the regulator side runs kesu, a signed call back to a real HTTP server."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from kesu.channels import delivery, referral_sources
from kesu.store import tables as t
from tests.channels.gateway import Receiver


def referral(**overrides):
    body = {
        "ref": "豫通管转〔2026〕1128号",
        "appeal_received_on": "2026-11-25",
        "reply_due_on": "2026-12-05",
        "appellant": {"phone": "13900007777", "name": "李四"},
        "operator": "某电信公司河南分公司",
        "issue": "申诉人反映其手机号码被开通了不知情的视频会员增值业务，每月扣费15元，"
        "向运营商投诉后未获处理，要求退还全部费用。",
    }
    body.update(overrides)
    return body


def counts(rt) -> tuple[int, int, int]:
    with rt.engine.connect() as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (t.complaints, t.referrals, t.deadlines)
        )


def test_a_referral_registers_a_flagged_group_level_complaint_due_on_the_regulators_date(
    rt, client
):
    r = client.post("/api/v1/referrals", json=referral())
    assert r.status_code == 201, r.text
    made = r.json()
    c = made["complaint"]
    assert made["ref"] == "豫通管转〔2026〕1128号" and made["linked"] is False
    assert c["channel"] == "regulator" and c["channel_level"] == "group"
    assert "regulator" in c["risk_flags"]
    assert c["priority"] == "high"
    [given] = [d for d in c["deadlines"] if d["rule"] == "regulator_referral"]
    assert given["due_at"] == "2026-12-05T23:59:59.999999+08:00"
    assert given["name"] == "管局转办回复期限（豫通管转〔2026〕1128号）"
    assert given["statutory"] is False
    [basis] = given["basis"]
    assert basis["article"] is None and basis["policy"] is False
    assert "监管要求" in basis["citation"] and "非法定条款" in basis["citation"]
    # The complaint's own statutory limit stays beside it, on its own article.
    assert any(d["rule"] == "reply_15d" for d in c["deadlines"])
    assert c["next_due_at"] == min(d["due_at"] for d in c["deadlines"])
    # Where it came from is on the complaint's history.
    events = client.get(f"/api/v1/complaints/{c['number']}/events").json()["items"]
    [received] = [e for e in events if e["type"] == "referral_received"]
    # (The history masks long digit runs on read, the reference's number among them.)
    assert received["data"]["intake"]["channel"] == "regulator"
    assert received["data"]["intake"]["ref"].startswith("豫通管转〔2026〕")

    before = counts(rt)
    again = client.post("/api/v1/referrals", json=referral())
    assert again.status_code == 200, again.text
    assert again.json()["complaint"]["number"] == c["number"]
    assert counts(rt) == before
    got = client.get(f"/api/v1/referrals/{made['ref']}")
    assert got.status_code == 200 and got.json()["complaint_number"] == c["number"]


def test_a_referral_joins_the_open_complaint_of_the_same_customer_and_matter(
    rt, client, make_complaint
):
    earlier = make_complaint(
        customer={"phone": "13900007777", "name": "李四"},
        description="客户来电称手机号被开通不知情的视频会员增值业务，每月扣费15元，要求退费。",
    )
    assert "regulator" not in earlier["risk_flags"]
    complaints_before = counts(rt)[0]
    r = client.post("/api/v1/referrals", json=referral())
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["linked"] is True
    assert made["complaint"]["number"] == earlier["number"]
    assert counts(rt)[0] == complaints_before  # no second complaint
    c = made["complaint"]
    assert "regulator" in c["risk_flags"]
    [given] = [d for d in c["deadlines"] if d["rule"] == "regulator_referral"]
    assert given["due_at"].startswith("2026-12-05")
    events = client.get(f"/api/v1/complaints/{c['number']}/events").json()["items"]
    assert [e["type"] for e in events if e["type"] == "referral_received"] == ["referral_received"]

    # The same customer on another matter: a complaint of its own.
    other = client.post(
        "/api/v1/referrals",
        json=referral(
            ref="豫通管转〔2026〕1129号", issue="家中宽带每天晚上断线多次，报修三次仍未修好。"
        ),
    )
    assert other.status_code == 201, other.text
    assert other.json()["linked"] is False
    assert other.json()["complaint"]["number"] != earlier["number"]
    # The same reference again answers the joined complaint, and adds nothing.
    before = counts(rt)
    again = client.post("/api/v1/referrals", json=referral())
    assert again.status_code == 200 and again.json()["complaint"]["number"] == earlier["number"]
    assert counts(rt) == before


@pytest.mark.parametrize(
    ("body", "code", "says"),
    [
        ({k: v for k, v in referral().items() if k != "ref"}, "missing_field", "ref"),
        (referral(reply_due_on="2026-11-20"), "reply_due_before_receipt", "早于申诉受理日期"),
        (referral(channel="hotline"), "unknown_field", "channel"),
        (referral(appeal_received_on="2026-11-31"), "invalid_date", "不存在"),
        (referral(appeal_received_on="2026-12-01"), "received_in_future", "晚于今天"),
        (referral(source="nowhere"), "unknown_referral_source", "未配置的转办来源"),
        (referral(ref="  "), "text_empty", "ref"),
    ],
)
def test_bad_referrals_are_refused_in_chinese_and_write_nothing(rt, client, body, code, says):
    before = counts(rt)
    r = client.post("/api/v1/referrals", json=body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["code"] == code, problem
    assert says in problem["detail"] or says in json.dumps(problem, ensure_ascii=False)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in problem["detail"])
    assert counts(rt) == before


def test_the_answer_meets_the_deadline_and_makes_the_reply_document(rt, client):
    made = client.post("/api/v1/referrals", json=referral()).json()
    ref, number = made["ref"], made["complaint"]["number"]
    draft = client.get(f"/api/v1/referrals/{ref}/reply")
    assert draft.status_code == 200 and draft.headers["content-type"].startswith("text/html")
    assert "草稿" in draft.text and ref in draft.text

    answer = {
        "handling": "经核实，该业务系渠道误订，已于11月28日退订。",
        "result": "已退还用户三个月费用共45元，用户表示认可。",
    }
    r = client.post(f"/api/v1/referrals/{ref}/reply", json=answer)
    assert r.status_code == 200, r.text
    replied = r.json()
    assert replied["reply"]["handling"] == answer["handling"]
    [given] = [d for d in replied["complaint"]["deadlines"] if d["rule"] == "regulator_referral"]
    assert given["met_by"] == "referral_reply" and given["met_at"].startswith("2026-11-28")
    events = client.get(f"/api/v1/complaints/{number}/events").json()["items"]
    assert "referral_replied" in [e["type"] for e in events]

    doc = client.get(f"/api/v1/referrals/{ref}/reply").text
    for said in (
        "关于转办申诉处理情况的答复",
        ref,
        number,
        "2026年11月25日",  # the appeal's receipt
        "2026年12月05日".replace("05", "5"),  # the date the answer was due
        answer["handling"],
        answer["result"],
        "2026年11月28日",  # the date of the answer
        "李*",  # the appellant, masked for a reader without pii.show scope
    ):
        assert said in doc, said
    assert "草稿" not in doc and "13900007777" not in doc

    again = client.post(f"/api/v1/referrals/{ref}/reply", json=answer)
    assert again.status_code == 409 and again.json()["code"] == "referral_already_replied"
    missing = client.post(f"/api/v1/referrals/{ref}/reply", json={"handling": "只写了过程"})
    assert missing.status_code == 422


def test_the_answer_is_called_back_to_the_regulators_kesu_signed(rt, client, clock):
    receiver = Receiver(clock)
    try:
        saved = referral_sources.save(
            rt, "admin-test", "henan-ca", "河南省通信管理局", receiver.url
        )
        receiver.secret = saved["secret"]
        made = client.post("/api/v1/referrals", json=referral(source="henan-ca")).json()
        answer = {"handling": "已核实并退订。", "result": "已退费45元。"}
        r = client.post(f"/api/v1/referrals/{made['ref']}/reply", json=answer)
        assert r.status_code == 200, r.text
        assert r.json()["reply"]["callback"]
        assert receiver.requests == 0  # through the outbox: the worker sends it
        assert delivery.deliver(rt) == {"sent": 1, "retry": 0, "dead": 0}
        [got] = receiver.received
        assert receiver.refused == []  # the signature and timestamp checked by the receiver
        assert got["headers"]["x-kesu-event"] == "referral.replied"
        assert got["json"]["ref"] == made["ref"]
        assert (
            got["json"]["handling"] == "已核实并退订。" and got["json"]["result"] == "已退费45元。"
        )
        assert got["json"]["operator_complaint"]["number"] == made["complaint"]["number"]
        assert "13900007777" not in got["body"].decode()
        doc = client.get(f"/api/v1/referrals/{made['ref']}/reply").text
        assert "河南省通信管理局" in doc
    finally:
        receiver.close()


def test_a_failed_call_back_is_retried_not_lost(rt, client, clock):
    receiver = Receiver(clock, fail_first=1)
    try:
        saved = referral_sources.save(
            rt, "admin-test", "henan-ca", "河南省通信管理局", receiver.url
        )
        receiver.secret = saved["secret"]
        made = client.post("/api/v1/referrals", json=referral(source="henan-ca")).json()
        client.post(
            f"/api/v1/referrals/{made['ref']}/reply",
            json={"handling": "已处理。", "result": "已解决。"},
        )
        assert delivery.deliver(rt) == {"sent": 0, "retry": 1, "dead": 0}
        clock.advance(minutes=30)
        assert delivery.deliver(rt)["sent"] == 1
        assert [r["json"]["ref"] for r in receiver.received] == [made["ref"]]
    finally:
        receiver.close()


@pytest.mark.parametrize("existing", [False, True])
def test_the_same_referral_sent_at_once_registers_one_complaint(
    rt, client, make_complaint, existing
):
    """Two deliveries of one referral at the same moment (a retry crossing the first):
    one complaint, one referral, one regulator deadline; one answer is 'created'."""
    import threading

    from kesu.channels import referrals
    from kesu.channels.referral_in import validate

    if existing:
        make_complaint(
            customer={"phone": "13900007777"},
            description="手机号被开通不知情的视频会员增值业务，每月扣费15元，要求退费。",
        )
    before = counts(rt)
    body = validate(referral())
    gate = threading.Barrier(4)
    results: list = []

    def send() -> None:
        gate.wait()
        results.append(referrals.receive(rt, body, "api-test"))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(results) == 4
    assert sorted(created for _, created in results) == [False, False, False, True]
    assert len({view["complaint_number"] for view, _ in results}) == 1
    complaints, referral_rows, deadline_rows = counts(rt)
    assert complaints == before[0] + (0 if existing else 1)
    assert referral_rows == before[1] + 1
    with rt.engine.connect() as conn:
        given = conn.execute(
            select(func.count())
            .select_from(t.deadlines)
            .where(t.deadlines.c.rule == "regulator_referral")
        ).scalar_one()
    assert given == 1


def test_the_watcher_warns_and_records_the_breach_of_the_regulators_date(rt, client, clock):
    from datetime import datetime

    from kesu.clock import BEIJING
    from kesu.deadlines import watcher

    made = client.post("/api/v1/referrals", json=referral()).json()
    number = made["complaint"]["number"]
    ref = made["ref"]

    def said(type_: str) -> list[str]:
        items = client.get(f"/api/v1/complaints/{number}/events").json()["items"]
        return [e["note"] for e in items if e["type"] == type_ and "管局转办" in (e["note"] or "")]

    clock.now = datetime(2026, 12, 5, 12, 0, tzinfo=BEIJING)  # 12 hours before the end of the day
    watcher.warn_once(rt)
    [warned] = said("deadline_warning")
    assert "管局转办回复期限" in warned and "将于" in warned
    clock.now = datetime(2026, 12, 6, 0, 30, tzinfo=BEIJING)
    watcher.watch_once(rt)
    [breached] = said("deadline_breached")
    assert breached.endswith("已超期。")
    got = client.get(f"/api/v1/referrals/{ref}").json()["complaint"]
    [given] = [d for d in got["deadlines"] if d["rule"] == "regulator_referral"]
    assert given["breached"] is True
