"""The queue's bulk bar, total and exports, as pages (no browser): checkboxes per row,
per-complaint results in Chinese, the total for the filters, exports with the filters."""

from __future__ import annotations

import csv
import io
import re

import pytest
from fastapi.testclient import TestClient

from kesu.accounts import users
from kesu.accounts.roles import system
from kesu.app import create_app
from kesu.complaints import queries, registration, transitions
from kesu.complaints.schemas import ComplaintIn
from tests.conftest import complaint_body, sign_in

PASSWORD = "password-123456"


def _register(rt, **overrides) -> str:
    body = ComplaintIn.model_validate(complaint_body(**overrides)).model_dump()
    return registration.register(rt, body, system())[0]["number"]


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


@pytest.fixture
def signed_in(rt):
    app = create_app(rt, watcher=False)
    clients: list[TestClient] = []

    def make(role: str) -> tuple[TestClient, str]:
        name = f"q-{role}"
        users.create_user(rt, "test", name, role, PASSWORD)
        web = TestClient(app)
        clients.append(web)
        got = sign_in(web, {"username": name, "password": PASSWORD})
        assert got.status_code == 200
        return web, _csrf(got.text)

    yield make
    for web in clients:
        web.close()


@pytest.fixture
def three(rt):
    a, b, c = (_register(rt) for _ in range(3))
    transitions.transition(rt, c, "invalidate", {"reason": "anonymous"}, system())
    return a, b, c


def test_the_queue_has_checkboxes_a_bulk_bar_a_total_and_export_links(rt, signed_in, three):
    a, b, c = three
    web, _ = signed_in("supervisor")
    page = web.get("/workbench", params={"view": "all", "kind": "complaint"}).text
    boxes = re.findall(r'<input type="checkbox" name="number" value="([^"]+)" form="bulk"', page)
    assert set(boxes) == {a, b, c}
    assert 'class="select-all"' in page and "全选本页" in page
    bar = page.split('<form id="bulk"', 1)[1].split("</form>", 1)[0]
    options = set(re.findall(r'<option value="([a-z_]+)">', bar.split('name="team"')[0]))
    assert {"transfer", "escalate", "flag"} <= options
    assert "对所选执行" in bar and "导出所选（CSV）" in bar and "导出所选（Excel）" in bar
    assert 'href="/workbench/export.csv?view=all&amp;kind=complaint"' in page
    assert 'href="/workbench/export.xlsx?view=all&amp;kind=complaint"' in page
    assert 'hx-get="/workbench/total?view=all&amp;kind=complaint"' in page

    assert "共 3 件" in web.get("/workbench/total", params={"view": "all"}).text
    assert "共 2 件" in web.get("/workbench/total", params={"view": "open"}).text
    assert "共 0 件" in web.get("/workbench/total", params={"view": "all", "kind": "fault"}).text


def test_an_agent_gets_the_actions_they_may_take_and_no_export(rt, signed_in, three):
    web, _ = signed_in("agent")
    page = web.get("/workbench").text
    bar = page.split('<form id="bulk"', 1)[1].split("</form>", 1)[0]
    options = set(re.findall(r'<option value="([a-z_]+)">', bar.split('name="team"')[0]))
    assert "transfer" in options and "flag" in options and "escalate" not in options
    assert "导出" not in page
    r = web.get("/workbench/export.csv")
    assert r.status_code == 403 and "无权执行此操作：查看报表与指标" in r.text


def test_bulk_transfer_from_the_page_shows_each_result(rt, signed_in, three):
    a, b, c = three
    web, csrf = signed_in("supervisor")
    r = web.post(
        "/workbench/bulk",
        data={
            "csrf_token": csrf,
            "number": [a, c, b],
            "action": "transfer",
            "team": "network",
            "assignee": "",
            "flag": "media",  # not for a transfer: ignored
            "note": "夜班批量转派",
            "back": "/workbench?view=all",
        },
    )
    assert r.status_code == 200, r.text
    assert "批量操作结果" in r.text
    assert "“转派”：共 3 件，完成 2 件，未完成 1 件。" in r.text
    results = dict(re.findall(r'<tr data-number="([^"]+)" data-result="([a-z]+)">', r.text))
    assert results == {a: "done", b: "done", c: "failed"}
    failed_row = r.text.split(f'data-number="{c}"', 1)[1].split("</tr>", 1)[0]
    assert "未完成" in failed_row and "action_not_allowed" in failed_row
    assert 'href="/workbench?view=all"' in r.text
    for number in (a, b):
        view = queries.get(rt, number, system())
        assert view["team"] == "network" and "media" not in view["risk_flags"]
    assert queries.get(rt, c, system())["team"] != "network"


def test_bulk_flag_from_the_page(rt, signed_in, three):
    a, b, _ = three
    web, csrf = signed_in("supervisor")
    r = web.post(
        "/workbench/bulk",
        data={"csrf_token": csrf, "number": [a, b], "action": "flag", "flag": "vip"},
    )
    assert "完成 2 件" in r.text
    assert all("vip" in queries.get(rt, n, system())["risk_flags"] for n in (a, b))


def test_bulk_needs_the_csrf_token_and_a_selection(rt, signed_in, three):
    a, _, _ = three
    web, csrf = signed_in("supervisor")
    r = web.post("/workbench/bulk", data={"number": [a], "action": "escalate"})
    assert r.status_code == 403
    r = web.post("/workbench/bulk", data={"csrf_token": csrf, "action": "escalate"})
    assert r.status_code == 422 and "请至少选择一件投诉单" in r.text
    r = web.post("/workbench/bulk", data={"csrf_token": csrf, "number": [a], "action": ""})
    assert r.status_code == 422
    assert queries.get(rt, a, system())["version"] == 1


def _csv_numbers(resp) -> list[str]:
    assert resp.status_code == 200, resp.text
    rows = list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))
    assert rows[0][0] == "单号"
    return [row[0] for row in rows[1:]]


def test_exports_carry_the_queue_filters_or_the_selection(rt, signed_in, three):
    a, b, c = three
    transitions.transition(rt, a, "transfer", {"team": "billing"}, system())
    web, csrf = signed_in("supervisor")
    assert sorted(_csv_numbers(web.get("/workbench/export.csv", params={"view": "all"}))) == sorted(
        [a, b, c]
    )
    assert sorted(_csv_numbers(web.get("/workbench/export.csv"))) == sorted([a, b])  # open
    only = web.get("/workbench/export.csv", params={"view": "all", "team": "billing"})
    assert _csv_numbers(only) == [a]
    chosen = web.post("/workbench/export.csv", data={"csrf_token": csrf, "number": [b, c]})
    assert sorted(_csv_numbers(chosen)) == sorted([b, c])
    xlsx = web.post("/workbench/export.xlsx", data={"csrf_token": csrf, "number": [b]})
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert web.get("/workbench/export.pdf").status_code == 404
    assert web.post("/workbench/export.csv", data={"number": [b]}).status_code == 403
