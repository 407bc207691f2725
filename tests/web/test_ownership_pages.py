"""Ownership on the pages: the claim button of the complaint page, the assign list of the
team's people, 我的待办; the teams admin page's forms (policy, members, a user's team)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from kesu.accounts import teams, users
from kesu.app import create_app
from kesu.complaints import queries, registration
from kesu.complaints.schemas import ComplaintIn
from tests.conftest import complaint_body, sign_in

PASSWORD = "password-123456"


@pytest.fixture
def signed_in(rt):
    app = create_app(rt, watcher=False)
    clients: list[TestClient] = []

    def make(name: str, role: str, team: str | None = None):
        users.create_user(rt, "test", name, role, PASSWORD, team=team)
        web = TestClient(app)
        clients.append(web)
        r = sign_in(web, {"username": name, "password": PASSWORD})
        assert r.status_code == 200, r.text
        return web, re.search(r'name="csrf_token" value="([^"]+)"', r.text).group(1)

    yield make
    for web in clients:
        web.close()


def _register(rt, team: str = "billing") -> str:
    body = ComplaintIn.model_validate(complaint_body(team=team)).model_dump()
    view, _ = registration.register(rt, body, "test")
    return view["number"]


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_a_handler_claims_a_complaint_of_their_team_on_its_page(rt, signed_in):
    number = _register(rt)
    web, _ = signed_in("li.billing", "handler", "billing")
    outsider, _ = signed_in("wu.network", "handler", "network")
    assert 'data-action="claim"' not in outsider.get(f"/complaints/{number}").text
    page = web.get(f"/complaints/{number}")
    assert 'data-action="claim"' in page.text and "认领后由您负责处理" in page.text
    assert _rows(web.get("/workbench", params={"view": "mine"}).text) == []
    version = re.search(r'name="expected_version" value="(\d+)"', page.text).group(1)
    got = web.post(
        f"/complaints/{number}/act",
        data={"csrf_token": _csrf(page.text), "action": "claim", "expected_version": version},
        follow_redirects=False,
    )
    assert got.status_code == 303, got.text
    after = web.get(f"/complaints/{number}").text
    assert 'data-action="claim"' not in after
    assert re.search(r'class="first-assignee">li\.billing<', after)
    assert _rows(web.get("/workbench", params={"view": "mine"}).text) == [number]
    c = queries.get(rt, number, "system")
    assert c["assignee"] == "li.billing"


def test_a_supervisor_assigns_from_the_teams_people(rt, signed_in):
    number = _register(rt)
    users.create_user(rt, "test", "a.billing", "handler", PASSWORD, team="billing")
    users.create_user(rt, "test", "b.network", "handler", PASSWORD, team="network")
    web, _ = signed_in("boss", "supervisor", "billing")
    page = web.get(f"/complaints/{number}").text
    form = re.search(r'<details class="action" data-action="assign">(.*?)</details>', page, re.S)
    assert form, "the supervisor may assign"
    options = re.findall(r'<option value="([^"]+)"', form.group(1))
    assert "a.billing" in options and "b.network" not in options
    r = web.post(
        f"/complaints/{number}/act",
        data={"csrf_token": _csrf(page), "action": "assign", "assignee": "a.billing"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert queries.get(rt, number, "system")["assignee"] == "a.billing"


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr[^>]*data-number="([^"]+)"', html)


def test_the_teams_page_changes_a_policy_members_and_a_users_team(rt, signed_in):
    users.create_user(rt, "test", "m1", "handler", PASSWORD)
    admin, csrf = signed_in("root", "admin")
    html = admin.get("/admin/teams").text
    assert "只对修改之后分到该班组的投诉单生效" in html
    assert 'action="/admin/teams/billing"' in html
    r = admin.post(
        "/admin/teams/billing",
        data={"csrf_token": csrf, "name": "计费核查组", "policy": "round_robin"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and "done=changed" in r.headers["location"]
    assert rt.teams()["billing"].policy == "round_robin"
    r = admin.post(
        "/admin/teams/billing/members",
        data={"csrf_token": csrf, "member": ["m1"]},
        follow_redirects=False,
    )
    assert r.status_code == 303
    r = admin.post(
        "/admin/users/m1/team",
        data={"csrf_token": csrf, "team": "billing", "skill": ["billing", "usage"]},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert teams.one(rt, "system", "billing")["members"][0]["skills"] == ["billing", "usage"]
    page = admin.get("/admin/teams?done=changed").text
    assert "新的分配方式对此后分到该班组的投诉单生效" in page
    history = re.search(r'<table class="compact" id="team-history">(.*?)</table>', page, re.S)
    assert history and "root" in history.group(1) and "round_robin" in history.group(1)
    # The next complaint of the team goes to its member, by the policy.
    assert queries.get(rt, _register(rt), "system")["assignee"] == "m1"
    r = admin.post(
        "/admin/teams/billing",
        data={"csrf_token": csrf, "name": "计费核查组", "policy": "bogus"},
    )
    assert r.status_code == 422 and "未知的分配方式" in r.text


def test_an_agent_cannot_change_teams(rt, signed_in):
    web, csrf = signed_in("wang", "agent")
    r = web.post("/admin/teams/billing", data={"csrf_token": csrf, "policy": "round_robin"})
    assert r.status_code == 403
    r = web.post("/admin/teams", data={"csrf_token": csrf, "code": "mole", "name": "x"})
    assert r.status_code == 403
    assert rt.teams()["billing"].policy == "manual" and "mole" not in rt.teams()
