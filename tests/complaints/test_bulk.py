"""POST /api/v1/complaints/bulk: one action on several complaints, each its own
transition — the refused ones unchanged, the others changed with one event each."""

from __future__ import annotations

from sqlalchemy import select

from kesu.store import tables as t

UNKNOWN = "TS20991231999999"


def _events(rt, number: str, kind: str) -> list:
    c, e = t.complaints.c, t.complaint_events.c
    with rt.engine.connect() as conn:
        cid = conn.execute(select(c.id).where(c.number == number)).scalar_one()
        return conn.execute(
            select(t.complaint_events).where(e.complaint_id == cid, e.type == kind)
        ).all()


def _audit(rt, action: str) -> list:
    with rt.engine.connect() as conn:
        return conn.execute(
            select(t.audit_log).where(t.audit_log.c.action == action).order_by(t.audit_log.c.id)
        ).all()


def test_mixed_bulk_transfer_changes_the_good_ones_and_refuses_the_rest(
    rt, client, make_complaint, act
):
    a, b, c = (make_complaint()["number"] for _ in range(3))
    act(c, "invalidate", reason="anonymous")  # closed: transfer is not allowed any more
    before_c = client.get(f"/api/v1/complaints/{c}").json()
    before_a = client.get(f"/api/v1/complaints/{a}").json()

    r = client.post(
        "/api/v1/complaints/bulk",
        json={
            "numbers": [a, c, UNKNOWN, b],
            "action": "transfer",
            "params": {"team": "network"},
            "note": "批量转网络组",
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["summary"] == {"total": 4, "done": 2, "failed": 2}
    by = {x["number"]: x for x in body["results"]}
    assert [x["number"] for x in body["results"]] == [a, c, UNKNOWN, b]  # the order asked
    assert by[a]["status"] == "done" and by[a]["version"] == before_a["version"] + 1
    assert by[b]["status"] == "done"
    assert by[c]["status"] == "failed"
    assert by[c]["problem"]["status"] == 409 and by[c]["problem"]["code"] == "action_not_allowed"
    assert "转派" in by[c]["problem"]["detail"]
    assert by[UNKNOWN]["problem"] == {
        "code": "not_found",
        "status": 404,
        "detail": f"投诉单“{UNKNOWN}”不存在。",
    }

    for number in (a, b):
        now = client.get(f"/api/v1/complaints/{number}").json()
        assert now["team"] == "network"
        moved = _events(rt, number, "transferred")
        assert len(moved) == 1 and moved[0].note == "批量转网络组"
    after_c = client.get(f"/api/v1/complaints/{c}").json()
    assert after_c["version"] == before_c["version"] and after_c["team"] == before_c["team"]
    assert _events(rt, c, "transferred") == []

    # Each change audited as the single API audits it, plus the bulk request itself.
    assert {e.target_id for e in _audit(rt, "complaint.transfer")} == {a, b}
    (entry,) = _audit(rt, "complaint.bulk")
    assert entry.detail["action"] == "transfer"
    assert entry.detail["done"] == 2 and entry.detail["failed"] == 2
    assert entry.detail["failed_numbers"] == {c: "action_not_allowed", UNKNOWN: "not_found"}


def test_bulk_flag_and_escalate(client, make_complaint, rt):
    numbers = [make_complaint()["number"] for _ in range(3)]
    r = client.post(
        "/api/v1/complaints/bulk",
        json={"numbers": numbers, "action": "flag", "params": {"add_flags": ["media"]}},
    )
    assert r.status_code == 200 and r.json()["summary"]["done"] == 3
    for number in numbers:
        assert "media" in client.get(f"/api/v1/complaints/{number}").json()["risk_flags"]
        assert len(_events(rt, number, "flags_changed")) == 1
    r = client.post("/api/v1/complaints/bulk", json={"numbers": numbers[:2], "action": "escalate"})
    assert r.json()["summary"] == {"total": 2, "done": 2, "failed": 0}
    levels = [client.get(f"/api/v1/complaints/{n}").json()["escalation_level"] for n in numbers]
    assert levels == [1, 1, 0]


def test_bad_input_for_the_action_fails_each_complaint_and_changes_none(client, make_complaint):
    numbers = [make_complaint()["number"] for _ in range(2)]
    r = client.post("/api/v1/complaints/bulk", json={"numbers": numbers, "action": "transfer"})
    assert r.status_code == 200
    assert {x["problem"]["code"] for x in r.json()["results"]} == {"team_required"}
    assert all(client.get(f"/api/v1/complaints/{n}").json()["version"] == 1 for n in numbers)


def test_limits_are_refused_whole(client, make_complaint, rt):
    number = make_complaint()["number"]
    cases = [
        ({"numbers": [], "action": "escalate"}, "numbers_required"),
        ({"numbers": [number, number], "action": "escalate"}, "duplicate_numbers"),
        ({"numbers": [f"TS{i:014d}" for i in range(501)], "action": "escalate"}, "too_many_items"),
        ({"numbers": [number], "action": "fly"}, "unknown_action"),
        ({"numbers": [number], "action": "flag", "params": {"colour": "red"}}, "unknown_field"),
        ({"action": "escalate"}, "missing_field"),
    ]
    for body, code in cases:
        r = client.post("/api/v1/complaints/bulk", json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["code"] == code, r.text
    assert client.get(f"/api/v1/complaints/{number}").json()["version"] == 1
    assert _audit(rt, "complaint.bulk") == []


def test_who_may_not_take_the_action_is_refused_before_anything(
    client, make_complaint, as_role, rt
):
    number = make_complaint()["number"]
    body = {"numbers": [number], "action": "escalate"}
    r = client.post("/api/v1/complaints/bulk", json=body, headers=as_role("agent"))
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    # A reseller sees only its own organisation's complaints: others read as not found.
    r = client.post(
        "/api/v1/complaints/bulk",
        json={"numbers": [number], "action": "transfer", "params": {"team": "network"}},
        headers=as_role("reseller", org="代理商甲"),
    )
    assert r.status_code == 403  # no transfer permission at all
    assert client.get(f"/api/v1/complaints/{number}").json()["version"] == 1


def test_numbers_out_of_scope_read_as_not_found(rt, make_complaint, tokens):
    from dataclasses import replace

    from kesu.accounts.roles import for_role
    from kesu.complaints import bulk

    mine = make_complaint(reseller="代理商甲")["number"]
    other = make_complaint()["number"]
    # A principal scoped to one organisation that may flag (as a custom role could).
    p = for_role("r-flagger", "reseller", org="代理商甲")
    p = replace(p, permissions=p.permissions | {"complaint.flag"})
    out = bulk.run(rt, [mine, other], "flag", {"add_flags": ["vip"]}, p)
    by = {x["number"]: x for x in out["results"]}
    assert by[mine]["status"] == "done"
    assert by[other]["problem"]["code"] == "not_found"
