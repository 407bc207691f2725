"""Ownership: every complaint has a person. Assignees are users of kesu in the complaint's
team; accepting makes a complaint the accepter's; assign, claim and reassigning inside a
team; the first receiver stays recorded; each assignment is an `assigned` event; `me`;
bulk assign."""

from __future__ import annotations

from sqlalchemy import select

from kesu.accounts import teams, users
from kesu.store import tables as t
from tests.conftest import bearer

PASSWORD = "password-123456"


def _user(rt, name: str, role: str = "handler", team: str | None = "billing") -> str:
    users.create_user(rt, "test", name, role, PASSWORD, team=team)
    return name


def _signed(rt, tokens, name: str, team: str, role: str = "handler") -> dict[str, str]:
    """Headers of a new user of that role, in that team."""
    headers = bearer(tokens(role, username=name))
    teams.set_user(rt, "system", name, {"team": team})
    return headers


def _events(client, number: str, kind: str = "assigned") -> list[dict]:
    items = client.get(f"/api/v1/complaints/{number}/events").json()["items"]
    return [e for e in items if e["type"] == kind]


def _tx(client, number: str, headers=None, **body):
    return client.post(f"/api/v1/complaints/{number}/transitions", json=body, headers=headers)


def test_an_assignee_must_be_a_user_of_the_complaints_team(rt, client, make_complaint):
    _user(rt, "li.billing", team="billing")
    _user(rt, "wu.network", team="network")
    n = make_complaint(team="billing")["number"]
    before = client.get(f"/api/v1/complaints/{n}").json()

    r = _tx(client, n, action="assign", assignee="nobody")
    assert r.status_code == 422 and r.json()["code"] == "unknown_assignee"
    assert "nobody" in r.json()["detail"] and "用户" in r.json()["detail"]
    r = _tx(client, n, action="assign", assignee="wu.network")
    assert r.status_code == 422 and r.json()["code"] == "assignee_not_in_team"
    r = _tx(client, n, action="transfer", team="network", assignee="li.billing")
    assert r.status_code == 422 and r.json()["code"] == "assignee_not_in_team"
    r = _tx(client, n, action="assign")
    assert r.status_code == 422 and r.json()["code"] == "assignee_required"
    after = client.get(f"/api/v1/complaints/{n}").json()
    assert after["version"] == before["version"] and after["assignee"] is None
    assert _events(client, n) == []

    done = _tx(client, n, action="assign", assignee="LI.billing")  # names are lower-cased
    assert done.status_code == 200, done.text
    assert done.json()["assignee"] == "li.billing"
    [event] = _events(client, n)
    assert event["actor"] == "t-supervisor"
    assert event["data"]["assignee"] == "li.billing" and event["data"]["how"] == "assign"
    assert event["data"]["previous"] is None


def test_reassigning_inside_a_team_keeps_the_first_assignee(rt, client, make_complaint):
    _user(rt, "a.billing")
    _user(rt, "b.billing")
    n = make_complaint(team="billing")["number"]
    assert _tx(client, n, action="assign", assignee="a.billing").status_code == 200
    # The shift's need: a transfer to the same team naming a person is a reassignment.
    moved = _tx(client, n, action="transfer", team="billing", assignee="b.billing")
    assert moved.status_code == 200, moved.text
    c = moved.json()
    assert c["assignee"] == "b.billing" and c["first_assignee"] == "a.billing"
    assert c["team"] == "billing"
    again = _tx(client, n, action="assign", assignee="b.billing")
    assert again.status_code == 422 and again.json()["code"] == "same_assignee"
    # Without a person, the same team is still refused (nothing to do).
    same = _tx(client, n, action="transfer", team="billing")
    assert same.status_code == 422 and same.json()["code"] == "same_team"
    history = _events(client, n)
    assert [(e["data"]["assignee"], e["data"]["previous"]) for e in history] == [
        ("a.billing", None),
        ("b.billing", "a.billing"),
    ]
    assert _events(client, n, "transferred") == []


def test_claim_is_for_a_person_of_the_team(rt, client, make_complaint, tokens):
    mine = _signed(rt, tokens, "c.billing", "billing")
    other = _signed(rt, tokens, "d.network", "network")
    n = make_complaint(team="billing")["number"]
    seen = client.get(f"/api/v1/complaints/{n}", headers=mine).json()
    assert "claim" in seen["allowed_actions"]
    assert (
        "claim"
        not in client.get(f"/api/v1/complaints/{n}", headers=other).json()["allowed_actions"]
    )
    r = _tx(client, n, headers=other, action="claim")
    assert r.status_code == 409 and r.json()["code"] == "not_in_team"
    r = _tx(client, n, headers=mine, action="claim")
    assert r.status_code == 200, r.text
    assert r.json()["assignee"] == "c.billing" and "claim" not in r.json()["allowed_actions"]
    [event] = _events(client, n)
    assert event["actor"] == "c.billing" and event["data"]["how"] == "claim"
    listed = client.get("/api/v1/complaints", params={"assignee": "me"}, headers=mine).json()
    assert [i["number"] for i in listed["items"]] == [n]
    assert (
        client.get("/api/v1/complaints", params={"assignee": "me"}, headers=other).json()["items"]
        == []
    )


def test_accepting_makes_the_complaint_the_accepters(rt, client, make_complaint, tokens):
    h = _signed(rt, tokens, "e.front", "frontline")
    n = make_complaint()["number"]
    r = _tx(client, n, headers=h, action="accept")
    assert r.status_code == 200
    assert r.json()["assignee"] == "e.front" and r.json()["first_assignee"] == "e.front"
    [event] = _events(client, n)
    assert event["data"] == {"assignee": "e.front", "previous": None, "how": "accept"}
    # An assigned complaint keeps its person when someone else accepts it.
    n2 = make_complaint()["number"]
    _user(rt, "f.front", team="frontline")
    assert _tx(client, n2, action="assign", assignee="f.front").status_code == 200
    assert _tx(client, n2, headers=h, action="accept").json()["assignee"] == "f.front"


def test_bulk_assign_answers_per_complaint(rt, client, make_complaint):
    _user(rt, "g.billing")
    a, b = (make_complaint(team="billing")["number"] for _ in range(2))
    c = make_complaint(team="network")["number"]
    r = client.post(
        "/api/v1/complaints/bulk",
        json={"numbers": [a, b, c], "action": "assign", "params": {"assignee": "g.billing"}},
    )
    assert r.status_code == 200, r.text
    by = {x["number"]: x for x in r.json()["results"]}
    assert by[a]["status"] == by[b]["status"] == "done"
    assert by[c]["status"] == "failed" and by[c]["problem"]["code"] == "assignee_not_in_team"
    assert r.json()["summary"] == {"total": 3, "done": 2, "failed": 1}
    for n in (a, b):
        assert client.get(f"/api/v1/complaints/{n}").json()["assignee"] == "g.billing"
        assert len(_events(client, n)) == 1
    assert client.get(f"/api/v1/complaints/{c}").json()["assignee"] is None
    assert _events(client, c) == []


def test_a_team_policy_assigns_new_complaints(rt, client, make_complaint):
    for name in ("h1", "h2", "h3"):
        _user(rt, name, team="network")
    _user(rt, "q.network", role="quality", team="network")  # cannot own: never picked
    teams.change(rt, "system", "network", {"policy": "round_robin"})
    got = [make_complaint(team="network")["assignee"] for _ in range(6)]
    assert got == ["h1", "h2", "h3", "h1", "h2", "h3"]
    n = make_complaint(team="network")["number"]
    [event] = _events(client, n)
    assert event["data"]["how"] == "round_robin" and event["actor"] == "t-supervisor"

    # Least open work: h3 had one fewer (h1 and h2 got the 7th and a new one).
    teams.change(rt, "system", "network", {"policy": "least_open"})
    counts = {}
    for _ in range(3):
        who = make_complaint(team="network")["assignee"]
        counts[who] = counts.get(who, 0) + 1
    with rt.engine.connect() as conn:
        c = t.complaints.c
        open_by = dict(
            conn.execute(select(c.assignee, c.id).where(c.team == "network", c.is_open)).all()
        )
    assert set(open_by) == {"h1", "h2", "h3"}
    mine = client.get("/api/v1/complaints", params={"team": "network", "limit": 100}).json()
    per = {}
    for item in mine["items"]:
        per[item["assignee"]] = per.get(item["assignee"], 0) + 1
    assert sorted(per.values()) == [3, 3, 4]  # 10 complaints, evenly as least open goes

    # By skill: only the member who handles the category gets it.
    teams.set_user(rt, "system", "h2", {"skills": ["billing"]})
    teams.change(rt, "system", "network", {"by_skill": True, "policy": "round_robin"})
    assert {make_complaint(team="network", category="billing")["assignee"] for _ in range(3)} == {
        "h2"
    }
    # Manual: nobody is picked, the complaint waits in the team's queue.
    teams.change(rt, "system", "network", {"policy": "manual"})
    assert make_complaint(team="network")["assignee"] is None


def test_a_transfer_into_a_team_goes_by_its_policy(rt, client, make_complaint):
    _user(rt, "m1", team="marketing")
    teams.change(rt, "system", "marketing", {"policy": "round_robin"})
    n = make_complaint()["number"]
    r = _tx(client, n, action="transfer", team="marketing")
    assert r.status_code == 200 and r.json()["assignee"] == "m1"
    [event] = _events(client, n)
    assert event["data"]["how"] == "round_robin"
