"""An administrator changes a team's assignment policy in the browser; the next complaint
registered to the team is assigned by it, and the handler sees it on its page."""

from __future__ import annotations

import re

from kesu.accounts.roles import system
from kesu.complaints import queries, registration
from kesu.complaints.schemas import ComplaintIn
from tests.conftest import complaint_body
from tests.e2e.conftest import shot


def _register(server, team: str) -> dict:
    body = ComplaintIn.model_validate(
        complaint_body(team=team, description="用户反映家中宽带晚上频繁掉线，要求尽快派人检修。")
    ).model_dump()
    view, _ = registration.register(server.rt, body, "e2e-hotline")
    return view


def _set_policy(admin, team: str, policy: str) -> None:
    admin.goto("/admin/teams")
    form = admin.locator(f'tr[data-team="{team}"] form.team-policy')
    form.locator("select[name=policy]").select_option(policy)
    form.locator("button[type=submit]").click()
    admin.wait_for_url("**/admin/teams?done=changed")
    assert "新的分配方式对此后分到该班组的投诉单生效" in admin.locator("body").inner_text()


def test_admin_changes_a_teams_policy_and_the_next_complaint_follows_it(new_page, server):
    admin = new_page("demo-admin")
    _set_policy(admin, "network", "manual")
    waiting = _register(server, "network")
    assert waiting["assignee"] is None  # by hand: it waits in the team's queue

    _set_policy(admin, "network", "round_robin")
    row = admin.locator('tr[data-team="network"]')
    assert row.locator("select[name=policy]").input_value() == "round_robin"
    shot(admin, "admin-teams")
    history = admin.locator("#team-history").inner_text()
    assert "demo-admin" in history and "round_robin" in history
    members = {"zhou.tao", "ma.chao"}  # the demo's network team
    first = _register(server, "network")
    second = _register(server, "network")
    assert {first["assignee"], second["assignee"]} == members

    supervisor = new_page("demo-supervisor")
    supervisor.goto(f"/complaints/{first['number']}")
    text = supervisor.locator("main").inner_text()
    assert first["assignee"] in text
    supervisor.goto(f"/complaints/{waiting['number']}")
    assert supervisor.locator('details[data-action="assign"]').count() == 1


def test_a_supervisor_reassigns_several_inside_the_team(new_page, server):
    # The escalations team goes round robin in the demo: one each for its two people.
    made = [_register(server, "escalation") for _ in range(2)]
    numbers = [c["number"] for c in made]
    assert {c["assignee"] for c in made} == {"demo-supervisor", "guo.jianguo"}
    page = new_page("demo-supervisor")
    page.goto("/workbench?view=open&team=escalation&sort=received")
    for number in numbers:
        page.locator(f"#queue input[name=number][value='{number}']").check()
    page.select_option("#bulk select[name=action]", "assign")
    page.fill("#bulk input[name=assignee]", "guo.jianguo")
    page.locator("#bulk button.primary").click()
    page.wait_for_url(re.compile("/workbench/bulk"))
    # The one guo.jianguo already had is refused and says why; the other moved to him.
    assert "完成 1 件，未完成 1 件" in page.locator("#bulk-summary").inner_text()
    assert "无需重新指派" in page.locator("#bulk-results").inner_text()
    for c in made:
        after = queries.get(server.rt, c["number"], system())
        assert after["assignee"] == "guo.jianguo" and after["first_assignee"] == c["assignee"]
