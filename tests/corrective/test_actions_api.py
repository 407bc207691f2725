"""/api/v1/corrective-actions: opening from a complaint or a group (the complaints it
matched then linked), the lifecycle (allowed and refused moves, 409 with the allowed
ones), who may do what, progress, overdue detection and the owner's notice."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select, text

from kesu.clock import as_utc
from kesu.corrective import overdue
from kesu.store import tables as t
from tests.conftest import NOW, bearer

TODAY = NOW.date()  # 2026-11-28, Beijing


def _complaint(make_complaint, act, cause: str | None, category="billing", province="广东省"):
    c = make_complaint(category=category, customer={"phone": "13800001234", "province": province})
    n = c["number"]
    if cause:
        act(n, "accept")
        act(n, "reply", resolution="已核实处理。", root_cause=cause)
    return n


def _open(client, expect=201, **body):
    base = {
        "title": "计费系统套餐变更后重复扣费整改",
        "description": "排查套餐变更流程，修复重复扣费并复核近三个月账单。",
        "owner": "t-handler",
        "due_on": (TODAY + timedelta(days=14)).isoformat(),
    }
    r = client.post("/api/v1/corrective-actions", json={**base, **body})
    assert r.status_code == expect, r.text
    return r.json()


def _notices(client, token) -> list[dict]:
    r = client.get("/api/v1/notices", headers=bearer(token))
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_a_group_links_the_complaints_it_matches_when_opened(
    client, tokens, make_complaint, act, clock
):
    handler = tokens("handler")
    hit1 = _complaint(make_complaint, act, "system_fault")
    hit2 = _complaint(make_complaint, act, "system_fault")
    _complaint(make_complaint, act, "system_fault", category="network")  # other category
    _complaint(make_complaint, act, "human_error")  # other cause
    _complaint(make_complaint, act, None)  # no cause yet
    other_place = _complaint(make_complaint, act, "system_fault", province="河南省")
    a = _open(client, group={"root_cause": "system_fault", "category": "billing"})
    assert a["state"] == "open" and a["source"] == "group"
    assert sorted(a["complaints"]) == sorted([hit1, hit2, other_place])
    assert a["linked"] == 3
    assert a["group"] == {"root_cause": "system_fault", "category": "billing"}
    assert "系统故障" in a["group_text"] and "资费计费" in a["group_text"]
    # A region narrows it; a complaint of the group arriving later is not added.
    b = _open(client, group={"root_cause": "system_fault", "province": "河南"})
    assert b["complaints"] == [other_place] and b["group"]["province"] == "河南省"
    clock.now = as_utc(NOW + timedelta(hours=1))
    _complaint(make_complaint, act, "system_fault", province="江苏省")
    assert client.get(f"/api/v1/corrective-actions/{a['id']}").json()["linked"] == 3
    # The owner is told, once per action.
    told = [n for n in _notices(client, handler) if n["kind"] == "action_assigned"]
    assert len(told) == 2 and f"#{a['id']}" in told[-1]["text"] + told[0]["text"]
    assert [e["type"] for e in a["events"]] == ["opened"]


def test_opening_from_one_complaint_and_what_is_refused(client, tokens, make_complaint, act):
    tokens("handler")
    n = _complaint(make_complaint, act, "reseller")
    a = _open(client, complaint=n)
    assert a["complaints"] == [n] and a["source"] == "complaint" and a["complaint"] == n
    assert a["group"] == {"root_cause": "reseller", "category": "billing"}
    assert _open(client, 422, complaint=n, group={"category": "billing"})["code"] == (
        "complaint_or_group"
    )
    assert _open(client, 422, group={})["code"] == "group_required"
    assert _open(client, 422, group={"root_cause": "unknown"})["code"] == "unknown_root_cause"
    assert _open(client, 422, complaint=n, owner="nobody")["code"] == "unknown_owner"
    past = (TODAY - timedelta(days=1)).isoformat()
    assert _open(client, 422, complaint=n, due_on=past)["code"] == "due_in_past"
    assert _open(client, 404, complaint="TS20991231999999")["code"] == "not_found"
    # Refused requests wrote nothing: one action only.
    assert len(client.get("/api/v1/corrective-actions").json()["items"]) == 1


def _act(client, action_id, expect=200, headers=None, **body):
    r = client.post(
        f"/api/v1/corrective-actions/{action_id}/transitions", json=body, headers=headers
    )
    assert r.status_code == expect, r.text
    return r.json()


def test_the_lifecycle_moves_and_refuses_with_the_allowed_actions(
    client, tokens, make_complaint, act
):
    tokens("handler")
    a = _open(client, complaint=_complaint(make_complaint, act, "system_fault"))
    i = a["id"]
    assert a["allowed_actions"] == ["start", "close", "cancel", "reassign"]
    started = _act(client, i, action="start")
    assert started["state"] == "in_progress"
    again = _act(client, i, 409, action="start")
    assert again["code"] == "action_not_allowed" and "整改中" in again["detail"]
    assert again["allowed_actions"] == ["close", "cancel", "reassign"]
    assert _act(client, i, 422, action="close")["code"] == "outcome_required"
    assert _act(client, i, 422, action="cancel")["code"] == "note_required"
    assert _act(client, i, 422, action="reassign")["code"] == "nothing_to_change"
    assert _act(client, i, 422, action="fly")["code"] == "unknown_action"
    p = client.post(f"/api/v1/corrective-actions/{i}/progress", json={"note": "已定位缺陷"})
    assert p.status_code == 200, p.text
    done = _act(client, i, action="close", outcome="修复了套餐变更的计费规则，退还多扣费用。")
    assert done["state"] == "closed" and done["outcome"].startswith("修复")
    assert done["closed_at"] is not None and done["allowed_actions"] == []
    final = _act(client, i, 409, action="cancel", note="x")
    assert final["allowed_actions"] == [] and "已完成" in final["detail"]
    late = client.post(f"/api/v1/corrective-actions/{i}/progress", json={"note": "补记"})
    assert late.status_code == 409
    events = client.get(f"/api/v1/corrective-actions/{i}").json()["events"]
    assert [(e["type"], e["from_state"], e["to_state"]) for e in events] == [
        ("opened", None, "open"),
        ("started", "open", "in_progress"),
        ("progress", "in_progress", "in_progress"),
        ("closed", "in_progress", "closed"),
    ]
    assert events[2]["note"] == "已定位缺陷"
    # Cancelled from open, with the reason; a stale version is refused.
    b = _open(client, group={"category": "billing"})
    assert _act(client, b["id"], 409, action="start", expected_version=9)["code"] == (
        "version_conflict"
    )
    gone = _act(client, b["id"], action="cancel", note=f"与 #{i} 重复")
    assert gone["state"] == "cancelled" and gone["events"][-1]["note"].startswith("与")


def test_the_history_is_append_only(rt, client, tokens, make_complaint, act):
    tokens("handler")
    a = _open(client, complaint=_complaint(make_complaint, act, "system_fault"))
    for sql in (
        "UPDATE corrective_action_events SET note = 'x'",
        "DELETE FROM corrective_action_events",
    ):
        with rt.engine.connect() as conn:
            try:
                conn.execute(text(sql))
                conn.commit()
                changed = True
            except Exception:
                changed = False
        assert not changed, sql
    assert len(client.get(f"/api/v1/corrective-actions/{a['id']}").json()["events"]) == 1


def test_the_owner_works_on_theirs_and_only_a_manager_cancels_or_reassigns(
    client, tokens, make_complaint, act
):
    owner = bearer(tokens("handler"))
    other = bearer(tokens("handler", username="li.handler"))
    auditor = bearer(tokens("auditor"))
    a = _open(client, complaint=_complaint(make_complaint, act, "system_fault"))
    i = a["id"]
    seen = client.get(f"/api/v1/corrective-actions/{i}", headers=owner).json()
    assert seen["allowed_actions"] == ["start", "close"]
    assert _act(client, i, 403, headers=other, action="start")["code"] == "forbidden"
    assert _act(client, i, 403, headers=owner, action="cancel", note="不做了")["code"] == (
        "forbidden"
    )
    assert _act(client, i, 403, headers=auditor, action="start")["code"] == "forbidden"
    assert (
        client.post(
            f"/api/v1/corrective-actions/{i}/progress", json={"note": "x"}, headers=other
        ).status_code
        == 403
    )
    assert _act(client, i, headers=owner, action="start")["state"] == "in_progress"
    r = client.post(
        f"/api/v1/corrective-actions/{i}/progress", json={"note": "完成一半"}, headers=owner
    )
    assert r.status_code == 200
    # Reassigned by the supervisor: the new owner is told and now works on it.
    moved = _act(client, i, action="reassign", owner="li.handler")
    assert moved["owner"] == "li.handler"
    assert any(
        n["kind"] == "action_assigned"
        for n in _notices(client, tokens("handler", username="li.handler"))
    )
    assert _act(client, i, 403, headers=owner, action="close", outcome="x")["code"] == "forbidden"
    assert _act(client, i, headers=other, action="close", outcome="已完成")["state"] == "closed"
    assert client.get("/api/v1/corrective-actions", headers=auditor).status_code == 200


def test_overdue_is_found_and_the_owner_told_once(rt, client, tokens, make_complaint, act, clock):
    handler = tokens("handler")
    a = _open(client, complaint=_complaint(make_complaint, act, "system_fault"), due_on=str(TODAY))
    b = _open(client, group={"category": "billing"}, due_on=str(TODAY + timedelta(days=5)))
    assert overdue.tell_overdue(rt) == []  # due today: not overdue before the day is over
    assert client.get("/api/v1/corrective-actions?overdue=true").json()["items"] == []
    clock.now = as_utc(NOW + timedelta(days=1))
    assert overdue.tell_overdue(rt) == [a["id"]]
    assert overdue.tell_overdue(rt) == []  # once
    late = client.get("/api/v1/corrective-actions?overdue=true").json()["items"]
    assert [x["id"] for x in late] == [a["id"]] and late[0]["overdue"] is True
    on_time = client.get("/api/v1/corrective-actions?overdue=false").json()["items"]
    assert [x["id"] for x in on_time] == [b["id"]]
    told = [n for n in _notices(client, handler) if n["kind"] == "action_overdue"]
    assert len(told) == 1 and "逾期 1 天" in told[0]["text"]
    assert client.get(f"/api/v1/corrective-actions/{a['id']}").json()["events"][-1]["type"] == (
        "overdue"
    )
    # A new due date: told again when that one passes; a closed action never.
    new_due = (TODAY + timedelta(days=3)).isoformat()
    _act(client, a["id"], action="reassign", due_on=new_due)
    _act(client, b["id"], action="close", outcome="已整改")
    clock.now = as_utc(NOW + timedelta(days=10))
    assert overdue.tell_overdue(rt) == [a["id"]]
    with rt.engine.connect() as conn:
        n = conn.execute(
            select(t.staff_notices.c.id).where(t.staff_notices.c.kind == "action_overdue")
        ).all()
    assert len(n) == 2
    assert date.fromisoformat(new_due) < (NOW + timedelta(days=10)).date()
