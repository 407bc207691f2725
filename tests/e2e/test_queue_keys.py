"""The queue from the keyboard, and the queue's filters kept while working a complaint
(issue 14, item 11), in a real browser."""

from __future__ import annotations

import re

from sqlalchemy import select

from kesu.store import tables as t


def _highlighted(page) -> str | None:
    row = page.locator("#queue tr.kb-current")
    return row.get_attribute("data-number") if row.count() == 1 else None


def _status(server, number: str) -> str:
    with server.rt.engine.connect() as conn:
        return conn.execute(
            select(t.complaints.c.status).where(t.complaints.c.number == number)
        ).scalar_one()


def test_j_k_enter_and_a_work_the_queue(new_page, server):
    page = new_page("demo-supervisor")
    page.goto("/workbench?view=open&status=registered&sort=received")
    rows = page.locator("#queue tr[data-number]")
    assert rows.count() >= 2
    first = rows.nth(0).get_attribute("data-number")
    second = rows.nth(1).get_attribute("data-number")
    assert _highlighted(page) is None
    page.keyboard.press("j")
    assert _highlighted(page) == first
    page.keyboard.press("j")
    assert _highlighted(page) == second
    page.keyboard.press("k")
    assert _highlighted(page) == first

    # a: accepted for real (the same action the complaint page posts), and said so.
    page.keyboard.press("a")
    page.locator("#flash .flash.ok").wait_for()
    assert f"已受理 {first}" in page.locator("#flash").inner_text()
    assert _status(server, first) == "accepted"
    # The queue (only 已登记) refreshes without it.
    page.wait_for_function(
        "n => !document.querySelector(`#queue tr[data-number='${n}']`)", arg=first
    )
    # Enter opens the highlighted complaint.
    page.keyboard.press("j")
    chosen = _highlighted(page)
    assert chosen and chosen != first
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(f"/complaints/{chosen}$"))


def test_slash_searches_and_question_mark_lists_the_shortcuts(new_page):
    page = new_page("demo-handler")
    page.goto("/workbench?view=open")
    help_box = page.locator("#keys-help")
    assert help_box.is_hidden()
    page.keyboard.press("?")
    help_box.wait_for(state="visible")
    listed = help_box.inner_text()
    for text in ("键盘快捷键", "下一条", "上一条", "打开选中的投诉", "受理选中的投诉", "搜索"):
        assert text in listed
    page.keyboard.press("Escape")
    help_box.wait_for(state="hidden")

    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"
    # Typing in the search box types: j is a letter there, not a move.
    page.keyboard.type("jk")
    assert page.locator("#q").input_value() == "jk"
    assert _highlighted(page) is None
    assert help_box.is_hidden()


def test_the_queue_keeps_its_filters_after_visiting_a_complaint(new_page):
    page = new_page("demo-supervisor")
    page.goto("/workbench?view=all&sort=received")
    page.select_option("select[name=kind]", "complaint")
    page.wait_for_url(re.compile("kind=complaint"))
    page.wait_for_load_state("networkidle")
    page.select_option("select[name=channel]", "hotline")
    page.wait_for_url(re.compile("channel=hotline"))
    page.wait_for_load_state("networkidle")
    filtered = page.url.split("?", 1)[1]

    page.locator("#queue tr[data-number] a").first.click()
    page.wait_for_url(re.compile(r"/complaints/[A-Z]{2}\d+"))
    page.get_by_role("link", name="返回队列").click()
    page.wait_for_url(re.compile("/workbench"))
    assert page.url.split("?", 1)[1] == filtered
    assert page.locator("select[name=kind]").input_value() == "complaint"
    assert page.locator("select[name=channel]").input_value() == "hotline"

    # The nav's 工作台 leads back to the same filters from any page.
    page.goto("/dashboard")
    page.locator("nav.mainnav a", has_text="工作台").click()
    page.wait_for_url(re.compile("/workbench"))
    assert "channel=hotline" in page.url and "kind=complaint" in page.url
