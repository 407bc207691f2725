"""GET /api/v1/reports/appeals and its xlsx: the ministry's figures of the appeals received
in a period, from appeals the centre handled through the API (now: 2026-11-28)."""

from __future__ import annotations

import io
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook

from tests.appeals.test_api import appeal
from tests.conftest import bearer

CONFIRM = {"direct_interest": True, "settled": False, "other_body": False, "other_law": False}


@pytest.fixture
def handled(client, tokens):
    """Q4: A accepted then mediation ended, B not accepted, C (another operator) accepted
    and never answered (its 30 days ran out 11-09); Q3: D redirected."""
    client.headers.update(bearer(tokens("appeal_supervisor")))
    for code, name, users in (
        ("telecom", "某电信公司", 2_000_000),
        ("mobile", "某移动公司", 1_000_000),
    ):
        r = client.put(
            f"/api/v1/appeal-operators/{code}",
            json={"name": name, "address": "某市某路1号", "users": users},
        )
        assert r.status_code == 200, r.text

    def receive(at, **over):
        r = client.post("/api/v1/appeals", json=appeal(received_at=at, **over))
        assert r.status_code == 201, r.text
        return r.json()["number"]

    def act(number, action, **params):
        r = client.post(
            f"/api/v1/appeals/{number}/transitions", json={"action": action, "params": params}
        )
        assert r.status_code == 200, r.text

    a = receive("2026-11-02T10:00:00+08:00")
    act(a, "accept", confirm=CONFIRM)
    act(a, "mediate", held_on="2026-11-20", participants="申诉人、企业代表", notes="企业不同意退费")
    act(a, "end_mediation", reason="双方分歧较大")
    b = receive("2026-11-03T09:00:00+08:00")
    act(b, "reject", reason="11-1")
    c = receive(
        "2026-10-10T00:30:00+08:00",
        operator="mobile",
        complained_at="2026-09-20",
        operator_answered_at="2026-09-25",
    )
    act(c, "accept", confirm=CONFIRM)
    body = appeal(received_at="2026-08-01T08:00:00+08:00", occurred_at="2026-07-01")
    del body["complained_at"], body["operator_answered_at"]
    r = client.post("/api/v1/appeals", json=body)
    act(r.json()["number"], "redirect")
    return client


def test_the_quarter_by_default_with_the_scheme_in_force(handled):
    r = handled.get("/api/v1/reports/appeals")
    assert r.status_code == 200, r.text
    f = r.json()
    assert f["period"] == {
        "from": "2026-10-01",
        "to": "2026-12-31",
        "name": "2026年第四季度",
        "as_of": "2026-11-28",  # the quarter is not over: counted as it stands today
    }
    assert f["scheme"]["id"] == "miit-2025q1"
    t = f["totals"]
    assert (t["received"], t["accepted"], t["not_accepted"], t["redirected"]) == (3, 2, 1, 0)
    assert t["acceptance_rate"] == 66.7
    # A and B answered before their reply date; C's ran out unanswered.
    assert (t["handled_within_limit"], t["limit_counted"], t["within_limit_rate"]) == (2, 3, 66.7)
    assert (t["mediation_success"], t["mediation_concluded"]) == (0, 1)
    assert t["mediation_success_rate"] == 0.0
    assert t["per_million"] == 1.0  # 3 appeals over 3 million users
    ops = {o["operator"]: o for o in f["by_operator"]}
    assert ops["telecom"]["received"] == 2 and ops["telecom"]["per_million"] == 1.0
    assert ops["mobile"]["received"] == 1 and ops["mobile"]["acceptance_rate"] == 100.0
    assert "受理率" in f["definitions"]["acceptance_rate"]


def test_a_period_and_a_scheme_chosen(handled):
    f = handled.get(
        "/api/v1/reports/appeals", params={"from": "2026-07-01", "to": "2026-09-30"}
    ).json()
    assert f["period"]["name"] == "2026年第三季度" and f["period"]["as_of"] is None
    assert (f["totals"]["received"], f["totals"]["redirected"]) == (1, 1)
    f = handled.get("/api/v1/reports/appeals", params={"scheme": "miit-2022q4"}).json()
    assert f["scheme"]["id"] == "miit-2022q4"
    assert sum(c["accepted"] for c in f["by_category"]) == 2


@pytest.mark.parametrize(
    "params, code",
    [
        ({"from": "2026-12-01", "to": "2026-11-01"}, "invalid_period"),
        ({"from": "2025-01-01", "to": "2026-06-30"}, "period_too_long"),
        ({"from": "2026-13-01"}, "invalid_date"),
        ({"scheme": "miit-1999"}, "unknown_scheme"),
    ],
)
def test_bad_periods_and_schemes_are_refused(handled, params, code):
    r = handled.get("/api/v1/reports/appeals", params=params)
    assert r.status_code == 422 and r.json()["code"] == code, r.text
    assert r.headers["content-type"].startswith("application/problem+json")


def test_the_workbook_has_a_chinese_name_and_the_notice_layout(handled):
    r = handled.get(
        "/api/v1/reports/appeals.xlsx", params={"from": "2026-10-01", "to": "2026-12-31"}
    )
    assert r.status_code == 200, r.text
    disposition = r.headers["content-disposition"]
    assert "kesu-appeals-2026-10-01-2026-12-31.xlsx" in disposition
    assert unquote(disposition.split("UTF-8''")[1]) == "电信用户申诉统计（2026年第四季度）.xlsx"
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["申诉情况", "分企业", "分类"]
    summary = {row[0]: row[1] for row in wb["申诉情况"].iter_rows(min_row=4, values_only=True)}
    assert summary["收到申诉（人次）"] == 3 and summary["受理率（%）"] == 66.7


def test_only_who_may_see_the_statistics(handled, tokens):
    for role in ("appeal_officer", "supervisor", "admin"):
        for path in ("/api/v1/reports/appeals", "/api/v1/reports/appeals.xlsx"):
            r = handled.get(path, headers=bearer(tokens(role)))
            assert r.status_code == 403, (role, path)
