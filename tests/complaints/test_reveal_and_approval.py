"""Issue 14, items 2 and 3 over the API: the assignee calls back with the phone revealed
(phone only, a reason from the list, audited; others refused and still masked), and a
complaint waiting for approval says so (who must approve and why), in its view and as
a list filter."""

from __future__ import annotations

PHONE = "13800001234"  # complaint_body's caller
MASKED = "138****1234"


def _other_team(view: dict) -> str:
    return "network" if view["team"] != "network" else "billing"


def _assign(client, make_complaint, username: str) -> str:
    """A complaint transferred to `username` (the supervisor's doing), who is put in the
    receiving team first: an assignee must belong to the complaint's team."""
    from kesu.accounts import teams

    view = make_complaint()
    n = view["number"]
    team = _other_team(view)
    teams.set_user(client.app.state.runtime, "system", username, {"team": team})
    r = client.post(
        f"/api/v1/complaints/{n}/transitions",
        json={"action": "transfer", "team": team, "assignee": username},
    )
    assert r.status_code == 200, r.text
    assert r.json()["assignee"] == username
    return n


def _reveal(client, n: str, headers: dict | None = None, **body):
    return client.post(f"/api/v1/complaints/{n}/personal-data", json=body, headers=headers or {})


def _shown(client, as_role) -> list[tuple]:
    r = client.get("/api/v1/audit", params={"action": "pii.show"}, headers=as_role("auditor"))
    assert r.status_code == 200, r.text
    return [
        (e["actor"], e["target_id"], e["detail"]["reason"], e["detail"]["scope"])
        for e in reversed(r.json()["items"])
    ]


def test_the_assignee_reveals_the_phone_only_to_call_back(client, make_complaint, act, as_role):
    handler = as_role("handler")  # creates the user t-handler
    unassigned = make_complaint()["number"]
    # Not theirs: refused, as before.
    r = _reveal(client, unassigned, handler, reason="callback")
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert PHONE not in r.text

    n = _assign(client, make_complaint, "t-handler")
    r = _reveal(client, n, handler, reason="callback")
    assert r.status_code == 200, r.text
    shown = r.json()
    assert shown["customer"] == {"phone": PHONE}  # the phone, nothing else
    assert (shown["scope"], shown["reason"], shown["reason_name"], shown["basis"]) == (
        "phone",
        "callback",
        "回访客户",
        "assignee",
    )
    assert "description" not in shown and shown["shown_to"] == "t-handler"
    # The complaint itself still reads masked, for them too.
    assert (
        client.get(f"/api/v1/complaints/{n}", headers=handler).json()["customer"]["phone"] == MASKED
    )

    # Every other field needs pii.show; a reason off the list is refused.
    r = _reveal(client, n, handler, reason="callback", scope="full")
    assert r.status_code == 403 and "只能为回访查看电话号码" in r.json()["detail"]
    assert "张三" not in r.text
    r = _reveal(client, n, handler, reason="想看看")
    assert r.status_code == 422 and r.json()["code"] == "unknown_reveal_reason"
    assert "回访客户" in r.json()["detail"] and PHONE not in r.text
    r = _reveal(client, n, handler, reason="callback", scope="everything")
    assert r.status_code == 422

    # Another agent, not the assignee: refused, sees the mask.
    r = _reveal(client, n, as_role("agent"), reason="callback")
    assert r.status_code == 403 and PHONE not in r.text

    # Closed: no call to make, so the assignee no longer may.
    for action, params in (
        ("accept", {}),
        ("reply", {"resolution": "已核实多扣费用并退还。"}),
        ("callback", {"result": "satisfied"}),
        ("close", {"root_cause": "human_error"}),
    ):
        act(n, action, **params)
    assert _reveal(client, n, handler, reason="callback").status_code == 403

    # One audit entry per reveal, with its reason and scope; the refusals wrote none.
    assert _shown(client, as_role) == [("t-handler", n, "callback", "phone")]


def test_pii_show_reveals_the_phone_unless_it_asks_for_everything(client, make_complaint, as_role):
    n = make_complaint()["number"]
    r = _reveal(client, n, reason="verify")
    assert r.status_code == 200, r.text
    assert r.json()["customer"] == {"phone": PHONE} and r.json()["basis"] == "pii.show"
    r = _reveal(client, n, reason="identity", scope="full", note="客户来电要求核对")
    assert r.status_code == 200, r.text
    full = r.json()
    assert full["customer"]["name"] == "张三" and full["customer"]["phone"] == PHONE
    assert "多扣了30元" in full["description"]
    assert _shown(client, as_role) == [
        ("t-supervisor", n, "verify", "phone"),
        ("t-supervisor", n, "identity", "full"),
    ]
    reasons = client.get("/api/v1/reference").json()["reveal_reasons"]
    assert reasons["callback"]["name"] == "回访客户" and "verify" in reasons


def _propose(client, make_complaint, act, **params) -> tuple[str, dict]:
    n = make_complaint()["number"]
    act(n, "accept")
    act(n, "investigate")
    return n, act(n, "propose", resolution="经核查多扣流量费，拟退还并补偿。", **params)


def _waiting(client, **params) -> list[str]:
    r = client.get("/api/v1/complaints", params={"awaiting_approval": "true", **params})
    assert r.status_code == 200, r.text
    return [c["number"] for c in r.json()["items"]]


def test_a_complaint_waiting_for_approval_says_who_and_why(client, make_complaint, act):
    big, view = _propose(client, make_complaint, act, compensation=200)
    waiting = view["approval"]
    assert waiting["waiting"] is True
    assert [a["role"] for a in waiting["approvers"]] == ["supervisor", "legal"]
    assert [a["name"] for a in waiting["approvers"]] == ["班组长/主管", "法务"]
    assert [r["code"] for r in waiting["reasons"]] == ["amount"]
    assert "赔偿金额 200.00 元超过审批阈值 100.00 元" in waiting["text"]
    assert "班组长/主管或法务" in waiting["text"]

    small, view = _propose(client, make_complaint, act, compensation=50)
    assert view["approval"] is None  # under the threshold: no approval step
    risky, _ = _propose(client, make_complaint, act, compensation=20)
    view = act(risky, "flag", add_flags=["legal"])
    assert [r["code"] for r in view["approval"]["reasons"]] == ["risk_flags"]
    assert "法律风险" in view["approval"]["text"]

    # The 待审批 filter lists exactly those, and counts them in the export's filters too.
    assert sorted(_waiting(client)) == sorted([big, risky])
    assert _waiting(client, category="network") == []
    got = client.get(f"/api/v1/complaints/{small}").json()
    assert got["approval"] is None and got["status"] == "proposed"

    # Approved: no longer waiting anywhere.
    view = act(big, "approve")
    assert view["approval"] is None
    assert _waiting(client) == [risky]
