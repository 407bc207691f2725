"""The supervisor's dashboard reflects the day's work, in a real browser."""

from __future__ import annotations

from tests.e2e.conftest import shot
from tests.e2e.test_workbench import _register


def _intake(page) -> int:
    page.goto("/dashboard")
    return int(page.locator("#overview .stat").first.locator(".n").inner_text())


def test_a_new_complaint_shows_in_the_supervisors_figures(new_page):
    supervisor = new_page("demo-supervisor")
    before = _intake(supervisor)
    agent = new_page("demo-agent")
    _register(agent, "13900139000")
    assert _intake(supervisor) == before + 1
    # The charts are drawn (ECharts renders SVG) and each KPI has a row.
    supervisor.locator("#chart-category svg").first.wait_for()
    for kpi in ("ack_24h_rate", "reply_on_time_rate", "satisfaction_rate", "complaints_per_10k"):
        assert supervisor.locator(f"#kpis tr[data-kpi={kpi}]").count() == 1
    shot(supervisor, "dashboard")


def test_one_click_reassignment_of_a_complaint_about_to_breach(new_page):
    page = new_page("demo-supervisor")
    page.goto("/dashboard")
    row = page.locator("#breaching tbody tr[data-number]").first
    number = row.get_attribute("data-number")
    row.locator("select[name=team]").select_option("legal")
    row.locator("button[type=submit]").click()
    page.locator("#flash .flash.ok").wait_for()
    page.goto(f"/complaints/{number}")
    assert "法务组" in page.locator("main").inner_text()
    assert "转派" in page.locator("#timeline").inner_text()


def test_the_kpi_export_downloads_a_spreadsheet(new_page, tmp_path):
    page = new_page("demo-quality")
    page.goto("/dashboard")
    with page.expect_download() as info:
        page.click("text=导出 Excel")
    path = tmp_path / info.value.suggested_filename
    assert path.suffix == ".xlsx"
    info.value.save_as(path)
    from openpyxl import load_workbook

    book = load_workbook(path)
    assert "指标" in book.sheetnames
