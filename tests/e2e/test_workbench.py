"""Agents and handlers at work, in a real browser."""

from __future__ import annotations

import re

from sqlalchemy import select

from kesu.store import tables as t
from tests.e2e.conftest import shot

TEXT = "家里宽带从前天晚上开始断网，打了三次报修电话一直没人上门，耽误孩子上网课，请尽快处理。"


def _register(page, phone: str) -> str:
    page.goto("/complaints/new")
    page.fill("input[name=phone]", phone)
    page.fill("input[name=name]", "刘晓红")
    page.select_option("select[name=province]", "河南省")
    page.fill("input[name=city]", "郑州市")
    page.fill("textarea[name=description]", TEXT)
    # Triage answers while the agent types: a category with a button to use it.
    suggest = page.locator("#suggest")
    suggest.locator("button[data-apply=category]").first.wait_for(timeout=60_000)
    assert "分类" in suggest.inner_text()
    suggest.locator("button[data-apply=category]").first.click()
    assert page.locator("select[name=category]").input_value() != ""
    shot(page, "new-complaint")
    page.keyboard.press("Control+Enter")
    page.wait_for_url(re.compile(r"/complaints/[A-Z]{2}\d+"))
    return page.url.rsplit("/", 1)[-1].split("?")[0]


def _act(page, action: str, fields: dict[str, str] | None = None) -> None:
    box = page.locator(f"details[data-action={action}]")
    box.locator("summary").click()
    for name, value in (fields or {}).items():
        el = box.locator(f"[name={name}]")
        if el.evaluate("e => e.tagName") == "SELECT":
            el.select_option(value)
        else:
            el.fill(value)
    # Done: htmx follows the server's redirect to the page, which then says so.
    with page.expect_navigation(url=re.compile(r"done=action")):
        box.locator("button[type=submit]").click()
    page.locator("#flash .flash.ok").wait_for()


def test_agent_registers_and_handler_takes_it_to_closed(new_page):
    agent = new_page("demo-agent")
    number = _register(agent, "13800138000")
    assert agent.locator("h1").inner_text().startswith(number)
    assert "已登记" in agent.locator("h1").inner_text()
    # The same caller again: the form shows the earlier complaint at once.
    agent.goto("/complaints/new")
    agent.fill("input[name=phone]", "13800138000")
    agent.locator("input[name=phone]").dispatch_event("change")
    agent.locator("#suggest .flash.info").wait_for()
    assert number in agent.locator("#suggest").inner_text()

    handler = new_page("demo-handler")
    handler.goto(f"/complaints/{number}")
    _act(handler, "accept", {"note": "已电话告知处理流程和时限"})
    _act(handler, "investigate")
    _act(handler, "propose", {"resolution": "经核查为光猫故障，已上门更换并恢复宽带。"})
    # The reply draft cites held articles and can be copied into the reply.
    handler.locator("#draft button[type=submit]").click()
    handler.locator("#draft-text").wait_for()
    assert "尊敬的" in handler.locator("#draft-text").input_value()
    _act(handler, "reply")
    shot(handler, "complaint")
    _act(handler, "callback", {"result": "satisfied"})
    _act(handler, "close", {"root_cause": "human_error"})  # the cause is a required select
    assert "已归档" in handler.locator("h1").inner_text()
    timeline = handler.locator("#timeline").inner_text()
    for step in ("登记", "受理", "开始调查", "拟定方案", "答复客户", "回访", "归档"):
        assert step in timeline


def test_the_queue_filters_and_counts_down(new_page):
    page = new_page("demo-supervisor")
    page.goto("/workbench?view=open")
    rows = page.locator("table.queue tbody tr[data-number]")
    assert rows.count() > 0
    # Countdowns are rendered by the page's script, red once breached.
    page.locator(".countdown.breached, .countdown.ok, .countdown.warn").first.wait_for()
    page.select_option("select[name=due]", "overdue")
    page.wait_for_url(re.compile("due=overdue"))
    page.wait_for_load_state("networkidle")
    assert page.locator("table.queue tbody .countdown:not(.breached)").count() == 0
    shot(page, "workbench")


def test_two_people_editing_at_once_are_not_silently_overwritten(new_page, server):
    first = new_page("demo-handler")
    second = new_page("demo-supervisor")
    with server.rt.engine.connect() as conn:
        number = conn.execute(
            select(t.complaints.c.number)
            .where(t.complaints.c.status == "accepted")
            .order_by(t.complaints.c.id)
        ).scalar()
    first.goto(f"/complaints/{number}")
    second.goto(f"/complaints/{number}")
    _act(first, "investigate")
    # The second page still shows the old version: its action is refused, not applied.
    box = second.locator("details[data-action=escalate]")
    box.locator("summary").click()
    box.locator("button[type=submit]").click()
    second.locator("#flash .flash.error").wait_for()
    assert "已被他人修改" in second.locator("#flash").inner_text()


def test_a_reseller_cannot_open_another_resellers_complaint(new_page, server):
    with server.rt.engine.connect() as conn:
        number = conn.execute(
            select(t.complaints.c.number).where(t.complaints.c.reseller == "示例代理商甲")
        ).scalar()
    assert number, "the demo data ties some complaints to 示例代理商甲"
    own = new_page("demo-reseller")
    own.goto(f"/complaints/{number}")
    assert number in own.locator("h1").inner_text()
    other = new_page("reseller-b", "kesu-e2e-reseller-b")
    response = other.goto(f"/complaints/{number}")
    assert response.status == 404
    assert number not in other.locator("main").inner_text().split("\n")[0]
