"""Staff are told: the person a complaint is assigned to (not when they take it
themselves), the approvers when a proposal waits, the assignee and the team's supervisors
on a deadline warning and a breach; in their list and header counter, and by email where
they have an address and kept email on. Each kind can be switched off; nobody reads or
marks another user's notices."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kesu.accounts import teams, users
from kesu.channels import staff_notices
from kesu.deadlines import watcher
from kesu.problems import Problem
from kesu.store import tables as t
from tests.conftest import bearer

PASSWORD = "password-123456"


def _user(rt, name: str, role: str = "handler", team: str | None = "billing", email=None) -> str:
    users.create_user(rt, "test", name, role, PASSWORD, team=team)
    if email:
        users.set_email(rt, "test", name, email)
    return name


def _told(rt, username: str) -> list[tuple[str, str | None]]:
    with rt.engine.connect() as conn:
        rows = conn.execute(
            select(t.staff_notices.c.kind, t.staff_notices.c.complaint_number)
            .where(t.staff_notices.c.username == username)
            .order_by(t.staff_notices.c.id)
        ).all()
    return [tuple(r) for r in rows]


def _mails(rt) -> list:
    with rt.engine.connect() as conn:
        return conn.execute(
            select(t.notifications).where(t.notifications.c.channel == "email")
        ).all()


def test_an_assignment_tells_the_assignee_by_list_and_email(rt, client, make_complaint):
    _user(rt, "li.billing", email="Li.Lei@Example.COM")
    _user(rt, "wang.billing")  # no address: no email
    a = make_complaint(team="billing")["number"]
    b = make_complaint(team="billing", customer={"phone": "13900002222"})["number"]
    assert client.post(
        f"/api/v1/complaints/{a}/transitions", json={"action": "assign", "assignee": "li.billing"}
    ).is_success
    assert client.post(
        f"/api/v1/complaints/{b}/transitions",
        json={"action": "assign", "assignee": "wang.billing"},
    ).is_success
    assert _told(rt, "li.billing") == [("assigned", a)]
    assert _told(rt, "wang.billing") == [("assigned", b)]
    [mail] = _mails(rt)
    assert mail.recipient == "Li.Lei@example.com"
    assert a in mail.subject and "分派" in mail.subject
    assert f"http://localhost:8000/complaints/{a}" in mail.body and "已分派给您" in mail.body
    assert mail.purpose == "staff.assigned" and mail.status == "pending"


def test_a_teams_policy_assigning_at_registration_tells_the_assignee(rt, client, make_complaint):
    _user(rt, "wu.network", team="network")
    teams.change(rt, "system", "network", {"policy": "round_robin"})
    c = make_complaint(team="network")
    assert c["assignee"] == "wu.network"
    assert _told(rt, "wu.network") == [("assigned", c["number"])]


def test_taking_a_complaint_oneself_tells_nobody(rt, client, make_complaint, tokens):
    h = bearer(tokens("handler", username="self.taker"))
    teams.set_user(rt, "system", "self.taker", {"team": "billing"})
    n = make_complaint(team="billing")["number"]
    r = client.post(f"/api/v1/complaints/{n}/transitions", json={"action": "claim"}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["assignee"] == "self.taker"
    assert _told(rt, "self.taker") == []


def test_a_proposal_above_the_threshold_tells_the_teams_approvers(rt, client, make_complaint, act):
    _user(rt, "boss.billing", role="supervisor", team="billing", email="boss@example.cn")
    _user(rt, "boss.network", role="supervisor", team="network")
    _user(rt, "li.billing")
    big = make_complaint(team="billing")["number"]
    small = make_complaint(team="billing", customer={"phone": "13900003333"})["number"]
    for n, amount in ((big, 200), (small, 50)):
        act(n, "accept")
        act(n, "investigate")
        act(n, "propose", resolution="经核查多扣流量费，拟退还并补偿。", compensation=amount)
    assert ("approval_waiting", big) in _told(rt, "boss.billing")
    assert ("approval_waiting", small) not in _told(rt, "boss.billing")
    assert _told(rt, "boss.network") == []  # the team has its own approver
    assert _told(rt, "li.billing") == []  # a handler does not approve
    [mail] = [m for m in _mails(rt) if m.purpose == "staff.approval_waiting"]
    assert mail.recipient == "boss@example.cn" and big in mail.subject
    assert "超过审批阈值" in mail.body


def test_without_an_approver_in_the_team_every_approver_is_told(rt, client, make_complaint, act):
    _user(rt, "boss.network", role="supervisor", team="network")
    n = make_complaint(team="billing")["number"]
    act(n, "accept")
    act(n, "investigate")
    act(n, "propose", resolution="经核查多扣流量费，拟退还并补偿。", compensation=300)
    assert _told(rt, "boss.network") == [("approval_waiting", n)]


def test_a_warning_and_a_breach_tell_the_assignee_and_the_teams_supervisors(
    rt, client, make_complaint, act, clock
):
    _user(rt, "li.billing", email="li@example.cn")
    _user(rt, "boss.billing", role="supervisor", team="billing")
    _user(rt, "boss.network", role="supervisor", team="network")
    n = make_complaint(team="billing")["number"]
    act(n, "assign", assignee="li.billing")
    clock.advance(hours=23)
    assert watcher.warn_once(rt) >= 1
    assert ("deadline_warning", n) in _told(rt, "li.billing")
    assert ("deadline_warning", n) in _told(rt, "boss.billing")
    clock.advance(hours=2)
    assert watcher.watch_once(rt) >= 1
    assert ("deadline_breached", n) in _told(rt, "li.billing")
    assert ("deadline_breached", n) in _told(rt, "boss.billing")
    assert _told(rt, "boss.network") == []
    purposes = sorted(m.purpose for m in _mails(rt))
    assert "staff.deadline_warning" in purposes and "staff.deadline_breached" in purposes
    assert not any(m.recipient != "li@example.cn" for m in _mails(rt))


def test_switches_turn_a_kind_or_its_email_off(rt, client, make_complaint, tokens):
    h = bearer(tokens("handler", username="li.billing"))
    teams.set_user(rt, "system", "li.billing", {"team": "billing"})
    users.set_email(rt, "test", "li.billing", "li@example.cn")
    r = client.put("/api/v1/notices/prefs", json={"assigned": {"email": False}}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["prefs"]["assigned"] == {"off": False, "email": False}
    a = make_complaint(team="billing")["number"]
    client.post(
        f"/api/v1/complaints/{a}/transitions", json={"action": "assign", "assignee": "li.billing"}
    )
    assert _told(rt, "li.billing") == [("assigned", a)] and _mails(rt) == []

    r = client.put("/api/v1/notices/prefs", json={"assigned": {"off": True}}, headers=h)
    assert r.json()["prefs"]["assigned"] == {"off": True, "email": False}
    b = make_complaint(team="billing", customer={"phone": "13900004444"})["number"]
    client.post(
        f"/api/v1/complaints/{b}/transitions", json={"action": "assign", "assignee": "li.billing"}
    )
    assert _told(rt, "li.billing") == [("assigned", a)]
    bad = client.put("/api/v1/notices/prefs", json={"nonsense": {"off": True}}, headers=h)
    assert bad.status_code == 422 and bad.json()["code"] == "unknown_field"
    with pytest.raises(Problem) as refused:  # the service says it the same way to the pages
        staff_notices.set_my_prefs(rt, "li.billing", {"nonsense": {"off": True}})
    assert refused.value.code == "unknown_notice_kind" and "未知的通知类型" in refused.value.detail


def test_each_user_reads_and_marks_only_their_own(rt, client, make_complaint, tokens):
    li = bearer(tokens("handler", username="li.billing"))
    wang = bearer(tokens("handler", username="wang.billing"))
    for name in ("li.billing", "wang.billing"):
        teams.set_user(rt, "system", name, {"team": "billing"})
    numbers = []
    for i, who in enumerate(("li.billing", "li.billing", "wang.billing")):
        n = make_complaint(team="billing", customer={"phone": f"1390000500{i}"})["number"]
        client.post(
            f"/api/v1/complaints/{n}/transitions", json={"action": "assign", "assignee": who}
        )
        numbers.append(n)
    mine = client.get("/api/v1/notices", headers=li).json()
    assert [x["complaint"] for x in mine["items"]] == [numbers[1], numbers[0]]  # newest first
    assert mine["unread"] == 2 and mine["items"][0]["kind_name"] == "分派给我的投诉"
    theirs = client.get("/api/v1/notices", headers=wang).json()
    assert [x["complaint"] for x in theirs["items"]] == [numbers[2]]

    # Li cannot mark Wang's notice read: the id is not Li's.
    r = client.post("/api/v1/notices/read", json={"ids": [theirs["items"][0]["id"]]}, headers=li)
    assert r.status_code == 200 and r.json()["marked"] == 0
    assert client.get("/api/v1/notices", headers=wang).json()["unread"] == 1

    r = client.post("/api/v1/notices/read", json={"ids": [mine["items"][0]["id"]]}, headers=li)
    assert r.json() == {"marked": 1, "unread": 1}
    r = client.post("/api/v1/notices/read", json={"all": True}, headers=li)
    assert r.json() == {"marked": 1, "unread": 0}
    bad = client.post("/api/v1/notices/read", json={}, headers=li)
    assert bad.status_code == 422 and bad.json()["code"] == "nothing_to_change"


def test_admins_set_an_address_checked_and_shown_masked(rt, client, as_role):
    _user(rt, "li.billing")
    admin = as_role("admin")
    bad = client.patch("/api/v1/users/li.billing", json={"email": "not-an-address"}, headers=admin)
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_email"
    assert "电子邮件" in bad.json()["detail"]
    r = client.patch("/api/v1/users/li.billing", json={"email": "lilei@example.cn"}, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["email"] == "l***@example.cn"
    listed = {u["username"]: u for u in client.get("/api/v1/users", headers=admin).json()["items"]}
    assert listed["li.billing"]["email"] == "l***@example.cn"
    refused = client.patch(
        "/api/v1/users/li.billing", json={"email": "x@example.cn"}, headers=as_role("handler")
    )
    assert refused.status_code == 403
    r = client.patch("/api/v1/users/li.billing", json={"email": ""}, headers=admin)
    assert r.json()["email"] is None
