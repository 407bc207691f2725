"""The centre's statistics page (/appeals/statistics): the quarter picker, the totals, per
operator and per category, each figure's definition, the xlsx link; only for who may
see the statistics."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from kesu.accounts import users
from kesu.app import create_app
from tests.appeals.test_reports import handled  # noqa: F401  (the appeals of the period)
from tests.conftest import sign_in

PASSWORD = "password-123456"


@pytest.fixture
def web(rt):
    app = create_app(rt, watcher=False)
    opened: list[TestClient] = []

    def make(name: str, role: str) -> TestClient:
        users.create_user(rt, "test", name, role, PASSWORD)
        c = TestClient(app)
        opened.append(c)
        r = sign_in(c, {"username": name, "password": PASSWORD}, follow_redirects=False)
        assert r.status_code == 303, r.text
        return c

    yield make
    for c in opened:
        c.close()


def test_the_quarter_its_figures_and_their_definitions(handled, web):  # noqa: F811
    page = web("zhang.tongji", "appeal_supervisor").get("/appeals/statistics")
    assert page.status_code == 200, page.text
    html = page.text
    assert "2026年第四季度" in html and "2026年第三季度" in html  # the picker's quarters
    assert re.search(r'data-figure="received"><span class="n">3</span>', html)
    assert re.search(r'data-figure="acceptance_rate"><span class="n">66.7%</span>', html)
    assert re.search(r'data-figure="per_million"><span class="n">1.00</span>', html)
    assert 'data-operator="telecom"><td>某电信公司</td>' in html
    assert 'data-category="service"' in html and "服务争议" in html
    assert "受理率＝受理件数÷" in html  # the definition shown with the figures
    assert 'href="/api/v1/reports/appeals.xlsx?from=2026-10-01&amp;to=2026-12-31"' in html
    assert "/static/vendor/echarts/echarts.min.js" in html

    q3 = web("li.tongji", "appeal_supervisor").get(
        "/appeals/statistics", params={"quarter": "2026-07-01/2026-09-30"}
    )
    assert re.search(r'data-figure="received"><span class="n">1</span>', q3.text)
    assert '<option value="2026-07-01/2026-09-30" selected>2026年第三季度</option>' in q3.text


def test_english_and_a_custom_period(handled, web):  # noqa: F811
    c = web("wang.tongji", "appeal_supervisor")
    html = c.get(
        "/appeals/statistics", params={"from": "2026-11-01", "to": "2026-11-30", "lang": "en"}
    ).text
    assert "Acceptance rate" in html and "Appeals per million users" in html
    assert "2026年11月" in html  # the period's own name, as the ministry writes it
    assert re.search(r'data-figure="received"><span class="n">2</span>', html)


def test_refused_to_who_may_not_see_the_statistics(handled, web):  # noqa: F811
    for name, role in (("zhao.shouli", "appeal_officer"), ("qian.zhuguan", "supervisor")):
        r = web(name, role).get("/appeals/statistics")
        assert r.status_code == 403, (role, r.status_code)
