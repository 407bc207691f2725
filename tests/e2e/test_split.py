"""One call, two problems: a handler splits the second off in the browser."""

from __future__ import annotations

import re

from tests.e2e.test_workbench import _register


def test_a_handler_splits_off_the_second_problem_and_both_pages_link(new_page):
    agent = new_page("demo-agent")
    first = _register(agent, "13800138123")

    handler = new_page("demo-handler")
    handler.goto(f"/complaints/{first}")
    box = handler.locator("#split details")
    box.locator("summary").click()
    category = box.locator("select[name=category]")
    # The first complaint's category is not offered: a split is for another problem.
    options = category.locator("option").evaluate_all("os => os.map(o => o.value)")
    assert "billing" in options and len(options) > 2
    category.select_option("billing")
    box.locator("textarea[name=description]").fill("另外本月账单多扣了30元流量费，要求核实后退还。")
    with handler.expect_navigation(url=re.compile(r"done=split")):
        box.locator("button[type=submit]").click()
    second = handler.url.rsplit("/", 1)[-1].split("?")[0]
    assert second != first
    assert "已拆分" in handler.locator("#flash").inner_text()
    assert handler.locator("[data-split-from]").inner_text() == first
    assert "由拆分登记" in handler.locator("#timeline").inner_text()

    handler.locator("[data-split-from]").click()
    handler.wait_for_url(re.compile(first))
    assert handler.locator("[data-split-into]").inner_text() == second
    assert "拆分出新投诉" in handler.locator("#timeline").inner_text()
