"""A supervisor works on many complaints at once in the queue, in a real browser: selects
some, transfers them to another team, reads the per-complaint results, and exports the
selection and the filtered queue."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from openpyxl import load_workbook

from kesu.accounts.roles import system
from kesu.complaints import queries


def _checked(page) -> int:
    return page.locator("#queue input[name=number]:checked").count()


def test_a_supervisor_bulk_transfers_and_exports(new_page, server, tmp_path):
    page = new_page("demo-supervisor")
    page.goto("/workbench?view=open&team=frontline")
    rows = page.locator("#queue tbody tr[data-number]")
    assert rows.count() >= 3
    # The total for the filters comes in after the page.
    total = page.locator("#queue-total .queue-total")
    total.wait_for()
    n = int(re.search(r"共 (\d+) 件", total.inner_text()).group(1))  # type: ignore[union-attr]
    assert n == queries.count(server.rt, {"open": True, "team": ["frontline"]}, system())

    # Select all on the page, then none, then three.
    page.locator("#queue input.select-all").check()
    assert _checked(page) == rows.count()
    page.locator("#queue input.select-all").uncheck()
    assert _checked(page) == 0
    numbers = [rows.nth(i).get_attribute("data-number") for i in range(3)]
    for number in numbers:
        page.locator(f"#queue input[name=number][value='{number}']").check()
    assert page.locator("#bulk-selected").inner_text() == "已选 3 件"

    # Export the selection (the bar's button posts the checked numbers).
    with page.expect_download() as info:
        page.locator("#bulk button[formaction='/workbench/export.csv']").click()
    saved = tmp_path / "selected.csv"
    info.value.save_as(saved)
    table = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    assert table[0][0] == "单号" and sorted(r[0] for r in table[1:]) == sorted(numbers)
    assert not any(re.search(r"1[3-9]\d{9}", cell) for row in table for cell in row)

    # Export the filtered queue as Excel: every complaint the total counts.
    with page.expect_download() as info:
        page.locator("#queue a.export[href*='export.xlsx']").click()
    book = tmp_path / "queue.xlsx"
    info.value.save_as(book)
    ws = load_workbook(Path(book), read_only=True)["投诉单"]
    listed = [r[0] for r in ws.iter_rows(min_row=2, values_only=True)]
    assert len(listed) == n and set(numbers) <= set(listed)

    # Transfer the three to the network team.
    page.select_option("#bulk select[name=action]", "transfer")
    assert page.locator("#bulk label[data-for=flag]").is_hidden()
    page.select_option("#bulk select[name=team]", "network")
    page.fill("#bulk input[name=note]", "批量转网络组处理")
    page.locator("#bulk button.primary").click()
    page.wait_for_url(re.compile("/workbench/bulk"))
    assert "批量操作结果" in page.locator("h1").inner_text()
    assert "完成 3 件，未完成 0 件" in page.locator("#bulk-summary").inner_text()
    done = page.locator("#bulk-results tr[data-result=done]")
    assert done.count() == 3
    for number in numbers:
        assert queries.get(server.rt, number, system())["team"] == "network"

    # Back in the queue, they have left the front line's list.
    page.locator("a.button", has_text="返回工单列表").click()
    page.wait_for_url(re.compile("team=frontline"))
    shown = set(
        page.locator("#queue tbody tr[data-number]").evaluate_all(
            "rows => rows.map(r => r.dataset.number)"
        )
    )
    assert not shown & set(numbers)


def test_a_refused_complaint_says_why(new_page, server):
    closed = queries.list_complaints(server.rt, {"open": False, "limit": 1}, system())
    # Escalation is open to every open status but callback (the lifecycle's rule).
    open_ = queries.list_complaints(
        server.rt, {"status": ["registered", "accepted", "investigating"], "limit": 1}, system()
    )
    numbers = [closed["items"][0]["number"], open_["items"][0]["number"]]
    page = new_page("demo-supervisor")
    page.goto("/workbench?view=all")
    for number in numbers:
        page.goto(f"/workbench?view=all&q={number}")
        page.locator(f"#queue input[name=number][value='{number}']").check()
        page.select_option("#bulk select[name=action]", "escalate")
        page.locator("#bulk button.primary").click()
        page.wait_for_url(re.compile("/workbench/bulk"))
        row = page.locator(f"#bulk-results tr[data-number='{number}']")
        if number == numbers[0]:
            assert row.get_attribute("data-result") == "failed"
            assert "当前状态下不能执行“升级”" in row.inner_text()
        else:
            assert row.get_attribute("data-result") == "done"
