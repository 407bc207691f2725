"""Teams as admins change them (API and service): create, rename, assignment policy,
members, a user's team and skills; each change in the history (who, when, before, after)
and the audit log; teams made here accepted wherever a team is named; round robin under
concurrency."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from kesu.accounts import team_store, teams, users
from kesu.complaints import registration
from kesu.complaints.schemas import ComplaintIn
from kesu.store import tables as t
from kesu.store.db import write
from tests.conftest import complaint_body

PASSWORD = "password-123456"


def _audit(rt, action: str) -> list:
    with rt.engine.connect() as conn:
        return conn.execute(select(t.audit_log).where(t.audit_log.c.action == action)).all()


def test_the_files_teams_are_a_new_installations(rt, client):
    listing = client.get("/api/v1/teams").json()
    assert [x["code"] for x in listing["teams"]][:6] == [
        "frontline",
        "billing",
        "network",
        "marketing",
        "escalation",
        "legal",
    ]
    assert listing["teams"][1]["name"] == "计费核查组"
    assert all(x["policy"] == "manual" for x in listing["teams"])
    assert {h["action"] for h in listing["history"]} == {"seeded"}
    assert set(listing["policies"]) == {"manual", "round_robin", "least_open"}


def test_an_admin_creates_renames_and_sets_a_policy(rt, client, as_role):
    admin = as_role("admin")
    made = client.post(
        "/api/v1/teams",
        json={"code": "billing_north", "name": "北区计费组", "policy": "round_robin"},
        headers=admin,
    )
    assert made.status_code == 201, made.text
    assert made.json()["policy"] == "round_robin" and made.json()["members"] == []
    again = client.post(
        "/api/v1/teams", json={"code": "billing_north", "name": "重复"}, headers=admin
    )
    assert again.status_code == 409 and again.json()["code"] == "team_exists"
    bad = client.post("/api/v1/teams", json={"code": "Bad Code", "name": "x"}, headers=admin)
    assert bad.status_code == 422
    r = client.patch(
        "/api/v1/teams/billing_north",
        json={"name": "北区计费核查组", "policy": "sideways"},
        headers=admin,
    )
    assert r.status_code == 422 and r.json()["code"] == "unknown_policy"
    assert "轮流分配" in r.json()["detail"]
    r = client.patch(
        "/api/v1/teams/billing_north",
        json={"name": "北区计费核查组", "policy": "least_open", "by_skill": True},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "北区计费核查组" and r.json()["policy"] == "least_open"
    assert (
        client.patch("/api/v1/teams/nowhere", json={"name": "x"}, headers=admin).json()["code"]
        == "team_not_found"
    )
    # The supervisor reads teams but does not change them.
    refused = client.patch("/api/v1/teams/billing_north", json={"name": "改名"})
    assert refused.status_code == 403

    history = client.get("/api/v1/teams").json()["history"]
    changed = next(h for h in history if h["team"] == "billing_north" and h["action"] == "policy")
    assert changed["actor"] == "t-admin"
    assert (
        changed["before"]["policy"] == "round_robin" and changed["before"]["name"] == "北区计费组"
    )
    assert changed["after"]["policy"] == "least_open" and changed["after"]["by_skill"] is True
    [entry] = _audit(rt, "team.change")
    assert entry.detail["after"]["name"] == "北区计费核查组"

    # A team made here is a team everywhere: registration, the list filter, transfer.
    c = client.post("/api/v1/complaints", json=complaint_body(team="billing_north"))
    assert c.status_code == 201, c.text
    listed = client.get("/api/v1/complaints", params={"team": "billing_north"}).json()
    assert [i["number"] for i in listed["items"]] == [c.json()["number"]]
    n = client.post("/api/v1/complaints", json=complaint_body()).json()["number"]
    moved = client.post(
        f"/api/v1/complaints/{n}/transitions", json={"action": "transfer", "team": "billing_north"}
    )
    assert moved.status_code == 200 and moved.json()["team"] == "billing_north"
    unknown = client.post("/api/v1/complaints", json=complaint_body(team="nowhere"))
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_team"
    assert client.get("/api/v1/reference").json()["teams"]["billing_north"]["name"] == (
        "北区计费核查组"
    )


def test_members_and_a_users_team_and_skills(rt, client, as_role):
    admin = as_role("admin")
    for name in ("p1", "p2", "p3"):
        users.create_user(rt, "test", name, "handler", PASSWORD, team="network")
    r = client.put("/api/v1/teams/billing/members", json={"members": ["p1", "P2"]}, headers=admin)
    assert r.status_code == 200, r.text
    assert [m["username"] for m in r.json()["members"]] == ["p1", "p2"]
    net = client.get("/api/v1/teams/network").json()
    assert [m["username"] for m in net["members"]] == ["p3"]
    r = client.put("/api/v1/teams/billing/members", json={"members": ["ghost"]}, headers=admin)
    assert r.status_code == 422 and r.json()["code"] == "unknown_user"
    assert [m["username"] for m in client.get("/api/v1/teams/billing").json()["members"]] == [
        "p1",
        "p2",
    ]
    r = client.put(
        "/api/v1/users/p1/team", json={"team": "legal", "skills": ["security"]}, headers=admin
    )
    assert r.status_code == 200 and r.json()["team"] == "legal"
    assert r.json()["skills"] == ["security"]
    r = client.put("/api/v1/users/p1/team", json={"skills": ["nonsense"]}, headers=admin)
    assert r.status_code == 422 and r.json()["code"] == "unknown_category"
    r = client.put("/api/v1/users/p1/team", json={"team": "nowhere"}, headers=admin)
    assert r.status_code == 422 and r.json()["code"] == "unknown_team"
    listing = client.get("/api/v1/teams").json()
    member = [h for h in listing["history"] if h["action"] == "member"]
    assert {h["team"] for h in member} == {"billing", "legal"}
    assert member[0]["before"]["team"] == "billing" and member[0]["after"]["team"] == "legal"
    assert _audit(rt, "team.members") and _audit(rt, "user.team")


def test_round_robin_turns_are_taken_atomically(rt):
    """Concurrent turns each get their own number: the counter moves in one statement."""
    with write(rt.engine) as conn:
        base = team_store.advance(conn, "billing")

    def take(_):
        with write(rt.engine) as conn:
            return team_store.advance(conn, "billing")

    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(take, range(40)))
    assert sorted(got) == list(range(base + 1, base + 41))


def test_concurrent_registrations_share_the_round_robin_evenly(rt):
    for name in ("r1", "r2"):
        users.create_user(rt, "test", name, "handler", PASSWORD, team="billing")
    teams.change(rt, "system", "billing", {"policy": "round_robin"})
    body = ComplaintIn.model_validate(complaint_body(team="billing")).model_dump()

    def register(i):
        data = {**body, "customer": {**body["customer"], "phone": f"1380000{i:04d}"}}
        view, _ = registration.register(rt, data, "system")
        return view["assignee"]

    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(register, range(12)))
    assert Counter(got) == {"r1": 6, "r2": 6}
    with rt.engine.connect() as conn:
        counter = conn.execute(
            select(t.teams.c.rr_counter).where(t.teams.c.code == "billing")
        ).scalar_one()
    assert counter == 12
