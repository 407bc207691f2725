"""The appeal centre's API from receipt to conclusion (on both databases)."""

from __future__ import annotations

import pytest

from tests.conftest import bearer


@pytest.fixture
def centre(client, tokens):
    client.headers.update(bearer(tokens("appeal_supervisor")))
    r = client.put(
        "/api/v1/appeal-operators/telecom",
        json={"name": "某电信公司某省分公司", "address": "某市某路1号", "users": 2_000_000},
    )
    assert r.status_code == 200, r.text
    return client


def appeal(**over):
    body = {
        "appellant": {
            "name": "张三",
            "phone": "13800138000",
            "address": "某市某区某街2号",
            "postcode": "100000",
        },
        "operator": "telecom",
        "request": "退还多收的流量费120元",
        "reasons": "未订购的流量包被扣费",
        "facts": "2026年9月账单出现未订购的流量包，10月向客服投诉后答复不予退费。",
        "dispute": "fee",
        "occurred_at": "2026-09-01",
        "complained_at": "2026-10-08",
        "operator_answered_at": "2026-10-12",
    }
    body.update(over)
    return body


def test_complete_appeal_starts_both_clocks_and_lists_conditions(centre):
    r = centre.post("/api/v1/appeals", json=appeal())
    assert r.status_code == 201, r.text
    a = r.json()
    assert a["number"].startswith("SS") and a["status"] == "reviewing"
    rules = {d["rule"]: d for d in a["deadlines"]}
    assert rules["appeal_accept_5wd"]["due_at"] and rules["appeal_reply_30d"]["due_at"]
    assert rules["appeal_accept_5wd"]["basis"][0]["article"] == "第十四条"
    assert rules["appeal_reply_30d"]["basis"][0]["article"] == "第三十九条"
    cites = {(c["article"], c["item"]) for c in a["conditions"]}
    assert ("第十条", "（四）") in cites and ("第十一条", "（一）") in cites


def test_incomplete_materials_wait_and_the_clock_waits(centre):
    body = appeal()
    del body["appellant"]["postcode"]
    a = centre.post("/api/v1/appeals", json=body).json()
    assert a["status"] == "awaiting_materials"
    assert [m["field"] for m in a["missing"]] == ["appellant.postcode"]
    accept = next(d for d in a["deadlines"] if d["rule"] == "appeal_accept_5wd")
    assert accept["due_at"] is None and accept["state"] == "waiting"
    r = centre.post(
        f"/api/v1/appeals/{a['number']}/transitions",
        json={"action": "supplement", "params": {"appellant.postcode": "100001"}},
    )
    assert r.status_code == 200, r.text
    b = r.json()
    assert b["status"] == "reviewing" and b["missing"] == []
    accept = next(d for d in b["deadlines"] if d["rule"] == "appeal_accept_5wd")
    assert accept["due_at"] is not None


def test_accept_refer_answer_mediate_agree_perform(centre):
    number = centre.post("/api/v1/appeals", json=appeal()).json()["number"]

    def act(action, **params):
        r = centre.post(
            f"/api/v1/appeals/{number}/transitions", json={"action": action, "params": params}
        )
        assert r.status_code == 200, r.text
        return r.json()

    r = centre.post(
        f"/api/v1/appeals/{number}/transitions", json={"action": "accept", "params": {}}
    )
    assert r.status_code == 409 and r.json()["code"] == "appeal_conditions_not_met"
    confirm = {"direct_interest": True, "settled": False, "other_body": False, "other_law": False}
    assert act("accept", confirm=confirm)["status"] == "accepted"
    a = act("refer")
    assert a["status"] == "referred" and a["referral"]["operator_due_on"]
    assert act("answer", answer="已核实，同意退还120元")["status"] == "answered"
    letter = centre.get(f"/api/v1/appeals/{number}/referral-letter")
    assert letter.status_code == 200 and "申诉转办函" in letter.text
    due = a["referral"]["operator_due_on"]
    assert f"{int(due[:4])}年{int(due[5:7])}月{int(due[8:])}日" in letter.text
    assert "已核实，同意退还120元" in letter.text and "第三十九条" in letter.text
    assert "草稿" not in letter.text
    a = act("mediate", held_on="2026-11-27", participants="申诉人、企业代表", notes="双方同意退费")
    assert a["status"] == "mediating" and a["mediated"] is True
    a = act("agree", terms="企业于12月20日前退还120元", perform_by="2026-12-20")
    assert a["status"] == "agreed" and a["replied_at"]
    a = act("perform", note="已退还")
    assert a["status"] == "concluded" and a["outcome"] == "agreement"
    r = centre.post(
        f"/api/v1/appeals/{number}/transitions", json={"action": "mediate", "params": {}}
    )
    assert r.status_code == 409 and r.json()["code"] == "appeal_transition_not_allowed"
    types = [e["type"] for e in centre.get(f"/api/v1/appeals/{number}").json()["history"]]
    assert types == [
        "received",
        "accepted",
        "referred",
        "operator_answered",
        "mediation_session",
        "agreement",
        "agreement_performed",
    ]


def test_never_complained_is_redirected(centre):
    body = appeal()
    del body["complained_at"], body["operator_answered_at"]
    a = centre.post("/api/v1/appeals", json=body).json()
    assert a["verdict"]["redirect"] is True
    r = centre.post(
        f"/api/v1/appeals/{a['number']}/transitions", json={"action": "redirect", "params": {}}
    )
    assert r.status_code == 200 and r.json()["status"] == "redirected"


def test_operator_staff_never_see_the_centre(client, tokens):
    for role in ("agent", "handler", "supervisor", "admin", "auditor"):
        r = client.get("/api/v1/appeals", headers=bearer(tokens(role)))
        assert r.status_code == 403, role


def _sms(rt) -> list[dict]:
    from kesu.channels import outbox
    from kesu.store.db import read

    with read(rt.engine) as conn:
        return [m for m in outbox.listing(conn, None, "sms", 100, None)]


def test_the_appellant_is_told_either_way_with_the_article(centre, rt):
    late = appeal(occurred_at="2026-03-01")  # a fee dispute more than five months old
    a = centre.post("/api/v1/appeals", json=late).json()
    item = next(c for c in a["conditions"] if (c["article"], c["item"]) == ("第十一条", "（一）"))
    assert item["met"] is False
    r = centre.post(
        f"/api/v1/appeals/{a['number']}/transitions",
        json={"action": "reject", "params": {"reason": "11-1"}},
    )
    assert r.status_code == 200 and r.json()["status"] == "not_accepted"
    told = [m for m in _sms(rt) if m["purpose"] == "appeal.not_accepted"]
    assert len(told) == 1 and told[0]["recipient"] == "13800138000"
    assert a["number"] in told[0]["body"] and "第十一条" in told[0]["body"]
    assert "五个月" in told[0]["body"]

    other = appeal()
    other["appellant"] = {**other["appellant"], "phone": "13800138001"}  # someone else
    b = centre.post("/api/v1/appeals", json=other).json()
    confirm = {"direct_interest": True, "settled": False, "other_body": False, "other_law": False}
    r = centre.post(
        f"/api/v1/appeals/{b['number']}/transitions",
        json={"action": "accept", "params": {"confirm": confirm}},
    )
    assert r.status_code == 200, r.text
    told = [m for m in _sms(rt) if m["purpose"] == "appeal.accepted"]
    assert len(told) == 1 and "第三十九条" in told[0]["body"]


def test_a_reason_that_is_no_item_is_refused_and_changes_nothing(centre):
    a = centre.post("/api/v1/appeals", json=appeal()).json()
    r = centre.post(
        f"/api/v1/appeals/{a['number']}/transitions",
        json={"action": "reject", "params": {"reason": "11-9"}},
    )
    assert r.status_code == 422 and r.json()["code"] == "appeal_reason_required"
    after = centre.get(f"/api/v1/appeals/{a['number']}").json()
    assert after["status"] == "reviewing" and len(after["history"]) == 1


def test_an_unknown_operator_is_refused(centre):
    r = centre.post("/api/v1/appeals", json=appeal(operator="nobody"))
    assert r.status_code == 422 and r.json()["code"] == "unknown_operator"
    assert centre.get("/api/v1/appeals", params={"queue": "all"}).json()["total"] == 0


def test_the_same_matter_again_is_already_handled(centre):
    """第十一条（三）: the centre already accepted or handled the same appellant's matter."""
    first = centre.post("/api/v1/appeals", json=appeal()).json()
    confirm = {"direct_interest": True, "settled": False, "other_body": False, "other_law": False}
    r = centre.post(
        f"/api/v1/appeals/{first['number']}/transitions",
        json={"action": "accept", "params": {"confirm": confirm}},
    )
    assert r.status_code == 200, r.text
    again = centre.post("/api/v1/appeals", json=appeal()).json()
    item = next(
        c for c in again["conditions"] if c["item"] == "（三）" and c["article"] == "第十一条"
    )
    assert item["met"] is False and first["number"] in item["evidence"]
    r = centre.post(
        f"/api/v1/appeals/{again['number']}/transitions",
        json={"action": "accept", "params": {"confirm": confirm}},
    )
    assert r.status_code == 409 and r.json()["code"] == "appeal_conditions_not_met"


def test_triage_reads_the_category_and_the_officer_corrects_it(centre):
    a = centre.post("/api/v1/appeals", json=appeal()).json()
    received = a["history"][0]["data"]
    # "未订购的流量包被扣费": ordered without consent.
    assert a["category"] == received["triage"]["category"] == "unauthorized"
    r = centre.post(
        f"/api/v1/appeals/{a['number']}/transitions",
        json={"action": "classify", "params": {"category": "billing"}},
    )
    assert r.status_code == 200, r.text
    b = r.json()
    assert b["category"] == "billing" and b["status"] == a["status"]
    assert b["history"][-1]["data"] == {"from": "unauthorized", "to": "billing"}
