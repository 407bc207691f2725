"""The audit log: what is written to it, how it is read, and that nobody can change it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from kesu.accounts import users
from kesu.store import tables as t
from tests.accounts.route_list import http_routes
from tests.conftest import complaint_body

PASSWORD = "correct-horse-battery-1"


def body(**overrides):
    # No province: five complaints of one category from one province within six hours
    # raise the mass-incident flag (triage), and with it the approval step before a reply.
    return complaint_body(customer={"phone": "13800001234", "name": "张三"}, **overrides)


def entries(client, auditor, **filters) -> list[dict]:
    """Audit entries, oldest first, as an auditor reads them."""
    r = client.get("/api/v1/audit", params={"limit": 200, **filters}, headers=auditor)
    assert r.status_code == 200, r.text
    return list(reversed(r.json()["items"]))


def stored(rt) -> list[tuple]:
    with rt.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(t.audit_log).order_by(t.audit_log.c.id))]


def register(client, headers=None, **overrides) -> str:
    r = client.post("/api/v1/complaints", json=body(**overrides), headers=headers or {})
    assert r.status_code == 201, r.text
    return r.json()["number"]


def act(client, number, action, **params) -> dict:
    r = client.post(f"/api/v1/complaints/{number}/transitions", json={"action": action, **params})
    assert r.status_code == 200, f"{action}: {r.text}"
    return r.json()


def test_sign_in_attempts_are_audited(rt, client, as_role):
    users.create_user(rt, "test", "li.agent", "agent", PASSWORD)
    web = TestClient(client.app)
    ok = {"username": "li.agent", "password": PASSWORD}
    assert web.post("/api/v1/auth/login", json={**ok, "password": "nope-nope-1"}).status_code == 401
    assert web.post("/api/v1/auth/login", json={**ok, "username": "ghost"}).status_code == 401
    assert web.post("/api/v1/auth/login", json=ok).status_code == 200
    csrf = web.get("/api/v1/auth/me")  # the session works
    assert csrf.status_code == 200
    log = [
        (e["action"], e["actor"], e["target_id"], e["detail"].get("reason"))
        for e in entries(client, as_role("auditor"))
        if e["action"].startswith("auth.")
    ]
    assert log == [
        ("auth.login_failed", "li.agent", "li.agent", "bad_credentials"),
        ("auth.login_failed", "ghost", "ghost", "bad_credentials"),
        ("auth.login", "li.agent", "li.agent", None),
    ]
    signed_in = entries(client, as_role("auditor"), action="auth.login")[0]
    assert signed_in["role"] == "agent" and signed_in["ip"]


def test_user_and_token_changes_are_audited(rt, client, as_role):
    admin, auditor = as_role("admin"), as_role("auditor")
    r = client.post(
        "/api/v1/users",
        json={"username": "li.agent", "role": "agent", "password": PASSWORD},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    r = client.patch("/api/v1/users/li.agent", json={"role": "handler"}, headers=admin)
    assert r.status_code == 200, r.text
    r = client.post("/api/v1/tokens", json={"user": "li.agent", "name": "script"}, headers=admin)
    assert r.status_code == 201, r.text
    token_id = str(r.json()["id"])
    assert client.delete(f"/api/v1/tokens/{token_id}", headers=admin).status_code == 200
    r = client.patch("/api/v1/users/li.agent", json={"active": False}, headers=admin)
    assert r.status_code == 200, r.text

    log = [
        (e["action"], e["actor"], e["target_type"], e["target_id"])
        for e in entries(client, auditor)
        if e["actor"] == "t-admin"
    ]
    assert log == [
        ("user.create", "t-admin", "user", "li.agent"),
        ("user.role", "t-admin", "user", "li.agent"),
        ("token.create", "t-admin", "token", token_id),
        ("token.revoke", "t-admin", "token", token_id),
        ("user.disable", "t-admin", "user", "li.agent"),
    ]
    by_action = {e["action"]: e["detail"] for e in entries(client, auditor, actor="t-admin")}
    assert by_action["user.create"]["role"] == "agent"
    assert by_action["user.role"]["before"]["role"] == "agent"
    assert by_action["user.role"]["after"]["role"] == "handler"
    assert by_action["user.disable"] == {"before": {"active": True}, "after": {"active": False}}
    assert by_action["token.create"]["user"] == "li.agent"


def test_registration_and_every_transition_are_audited_with_before_and_after(client, as_role):
    quality = as_role("quality")
    main = register(client, category="billing")
    steps = [
        ("accept", {}, "registered", "accepted"),
        ("transfer", {"team": "network"}, "accepted", "accepted"),
        ("escalate", {}, "accepted", "accepted"),
        ("flag", {"add_flags": ["vip"]}, "accepted", "accepted"),
        ("classify", {"category": "network"}, "accepted", "accepted"),
        ("investigate", {}, "accepted", "investigating"),
        ("propose", {"resolution": "补偿200元", "compensation": 200}, "investigating", "proposed"),
        ("reject", {"note": "依据不足"}, "proposed", "investigating"),
        (
            "propose",
            {"resolution": "减免月租200元", "compensation": 200},
            "investigating",
            "proposed",
        ),
        ("approve", {}, "proposed", "approved"),
        ("reply", {}, "approved", "replied"),
        ("callback", {"result": "satisfied"}, "replied", "callback"),
        ("close", {"root_cause": "human_error"}, "callback", "closed"),
        ("reopen", {"note": "客户再次来电"}, "closed", "investigating"),
    ]
    for action, params, _, _ in steps:
        act(client, main, action, **params)
    invalid = register(client)
    act(client, invalid, "invalidate", reason="not_specific")
    kept, duplicate = register(client), register(client)
    act(client, duplicate, "merge", into=kept)
    consultation = register(client, kind="consultation")
    act(client, consultation, "convert")

    auditor = as_role("auditor")
    log = entries(client, auditor, target_type="complaint", target_id=main)
    assert [e["action"] for e in log] == ["complaint.register"] + [
        f"complaint.{a}" for a, *_ in steps
    ]
    for e, (action, _, before, after) in zip(log[1:], steps, strict=True):
        assert (e["detail"]["before"]["status"], e["detail"]["after"]["status"]) == (
            before,
            after,
        ), action
        assert e["detail"]["after"]["version"] == e["detail"]["before"]["version"] + 1
        assert (e["actor"], e["role"]) == ("t-supervisor", "supervisor")
    details = {e["action"]: e["detail"] for e in log}
    assert details["complaint.transfer"]["after"]["team"] == "network"
    assert details["complaint.flag"]["after"]["risk_flags"] == ["vip"]
    assert details["complaint.classify"]["after"]["category"] == "network"
    assert details["complaint.approve"]["after"]["compensation"] == "200.00"
    assert details["complaint.register"]["channel"] == "hotline"
    for number, action, before, after in (
        (invalid, "invalidate", "registered", "invalid"),
        (duplicate, "merge", "registered", "merged"),
        (consultation, "convert", "registered", "registered"),
    ):
        got = entries(client, auditor, target_type="complaint", target_id=number)
        assert [e["action"] for e in got] == ["complaint.register", f"complaint.{action}"]
        assert (got[1]["detail"]["before"]["status"], got[1]["detail"]["after"]["status"]) == (
            before,
            after,
        )
    # A refused transition is not an event of the complaint (and changes nothing).
    r = client.post(
        f"/api/v1/complaints/{kept}/transitions", json={"action": "accept"}, headers=quality
    )
    assert r.status_code == 403
    assert [e["action"] for e in entries(client, auditor, target_id=kept)] == ["complaint.register"]


def test_show_calendar_hold_and_case_promotion_are_audited(client, as_role):
    auditor = as_role("auditor")
    n = register(client)
    r = client.post(f"/api/v1/complaints/{n}/personal-data", json={"reason": "identity"})
    assert r.status_code == 200, r.text
    r = client.put(
        "/api/v1/calendar/years/2027",
        json={
            "official": True,
            "source": "国办发明电〔2026〕1号",
            "holidays": {"2027-01-01": "元旦"},
        },
        headers=as_role("admin"),
    )
    assert r.status_code == 200, r.text
    assert client.post(f"/api/v1/complaints/{n}/legal-hold", json={"reason": "诉讼"}).is_success
    assert client.delete(f"/api/v1/complaints/{n}/legal-hold").is_success
    for action, params in (
        ("accept", {}),
        ("reply", {"resolution": "已退费"}),
        ("callback", {"result": "satisfied"}),
        ("close", {"root_cause": "human_error"}),
    ):
        act(client, n, action, **params)
    r = client.post("/api/v1/cases", json={"complaint": n}, headers=as_role("quality"))
    assert r.status_code == 201, r.text

    shown = entries(client, auditor, action="pii.show")
    assert [(e["actor"], e["target_id"], e["detail"]["reason"]) for e in shown] == [
        ("t-supervisor", n, "identity")
    ]
    loaded = entries(client, auditor, action="calendar.load")
    assert [(e["actor"], e["target_type"], e["target_id"]) for e in loaded] == [
        ("t-admin", "calendar", "2027")
    ]
    assert loaded[0]["detail"]["source"] == "国办发明电〔2026〕1号"
    promoted = entries(client, auditor, action="case.promote")
    assert [(e["actor"], e["target_id"], e["detail"]["case"]) for e in promoted] == [
        ("t-quality", n, f"cmp-{n}")
    ]
    holds = [e["action"] for e in entries(client, auditor, target_id=n) if "hold" in e["action"]]
    assert len(holds) == 2


def test_law_reindex_is_audited(client, as_role):
    r = client.post("/api/v1/law/reindex", headers=as_role("admin"))
    assert r.status_code == 200, r.text
    found = [
        (e["action"], e["actor"])
        for e in entries(client, as_role("auditor"))
        if "reindex" in e["action"]
    ]
    assert found == [("law.reindex", "t-admin")], "no audit entry for the law reindex"


def test_the_audit_log_filters_pages_and_records_its_own_reading(rt, client, as_role):
    auditor, agent = as_role("auditor"), as_role("agent")
    r = client.get("/api/v1/audit", params={"actor": "somebody"}, headers=auditor)
    assert r.status_code == 200 and r.json()["items"] == []
    reads = entries(client, auditor, action="audit.read")
    assert reads[0]["actor"] == "t-auditor" and reads[0]["role"] == "auditor"
    assert reads[0]["detail"]["filters"]["actor"] == "somebody"
    mine = [register(client) for _ in range(3)]
    theirs = [register(client, headers=agent) for _ in range(2)]
    for n in mine:
        act(client, n, "accept")
    act(client, theirs[0], "accept")

    by_actor = entries(client, auditor, actor="t-agent")
    assert {e["actor"] for e in by_actor} == {"t-agent"}
    assert [e["target_id"] for e in by_actor if e["action"] == "complaint.register"] == theirs
    accepted = entries(client, auditor, action="complaint.accept")
    assert [e["target_id"] for e in accepted] == [*mine, theirs[0]]
    one = entries(client, auditor, target_type="complaint", target_id=mine[1])
    assert [e["action"] for e in one] == ["complaint.register", "complaint.accept"]
    both = entries(client, auditor, actor="t-supervisor", action="complaint.register")
    assert [e["target_id"] for e in both] == mine
    assert (
        entries(client, auditor, actor="t-agent", action="complaint.accept", target_id=mine[0])
        == []
    )

    # Paging: newest first, `before_id` continues where the page ended; no gaps, no repeats.
    first = client.get("/api/v1/audit", params={"limit": 4}, headers=auditor).json()
    top = first["items"][0]["id"]
    ids, page = [e["id"] for e in first["items"]], first
    while page["next_before_id"]:
        assert page["next_before_id"] == page["items"][-1]["id"]
        page = client.get(
            "/api/v1/audit",
            params={"limit": 4, "before_id": page["next_before_id"]},
            headers=auditor,
        ).json()
        assert len(page["items"]) <= 4
        ids += [e["id"] for e in page["items"]]
    assert ids == sorted(ids, reverse=True) and len(ids) == len(set(ids))
    assert ids == [row[0] for row in reversed(stored(rt)) if row[0] <= top]
    r = client.get("/api/v1/audit", params={"before_id": 0}, headers=auditor)
    assert r.status_code == 422


def test_the_database_refuses_to_change_or_delete_audit_entries(rt, client):
    register(client)
    before = stored(rt)
    assert before
    attempts = [
        text("UPDATE audit_log SET actor = 'someone-else'"),
        text("UPDATE audit_log SET detail = '{}' WHERE action = 'complaint.register'"),
        text("DELETE FROM audit_log"),
        text("DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)"),
        update(t.audit_log).values(action="nothing"),
        delete(t.audit_log).where(t.audit_log.c.actor == "t-supervisor"),
    ]
    for statement in attempts:
        with pytest.raises(DBAPIError), rt.engine.begin() as conn:
            conn.execute(statement)
    assert stored(rt) == before
    # Adding stays possible: that is how the application writes it.
    register(client)
    with rt.engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(t.audit_log)).scalar_one()
    assert count > len(before)


def test_no_route_changes_the_audit_log(rt, client, as_role):
    routes = http_routes(client.app)
    audit_routes = {(m, p) for m, p in routes if "audit" in p}
    # The API and the auditor's page read it; nothing writes it but the audit() call.
    assert audit_routes == {("GET", "/api/v1/audit"), ("GET", "/admin/audit")}
    admin, auditor = as_role("admin"), as_role("auditor")
    register(client)
    before = stored(rt)
    for headers in (admin, auditor, {}):
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            for url in ("/api/v1/audit", f"/api/v1/audit/{before[0][0]}"):
                r = client.request(method, url, headers=headers, json={"actor": "x"})
                assert r.status_code in (404, 405), f"{method} {url}: {r.status_code}"
    assert stored(rt) == before
