"""The reports API: periods and their errors, permissions, the xlsx export."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from kesu.store import tables as t
from tests.reports.conftest import bj

ROUTES = [
    "/api/v1/reports/kpis",
    "/api/v1/reports/kpis.xlsx",
    "/api/v1/reports/overview",
    "/api/v1/reports/series",
    "/api/v1/reports/about-to-breach",
    "/api/v1/reports/approvals",
]


def test_kpis_default_to_the_last_30_days(client):
    r = client.get("/api/v1/reports/kpis")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["period"] == {"from": "2026-10-30", "to": "2026-11-28", "days": 30}
    assert body["previous_period"] == {"from": "2026-09-30", "to": "2026-10-29"}
    assert len(body["kpis"]) == 9 and body["trend_unit"] == "day"
    assert len(body["trends"]["ack_24h_rate"]) == 30
    r = client.get("/api/v1/reports/kpis", params={"from": "2026-11-20"})
    assert r.json()["period"]["to"] == "2026-11-28"
    r = client.get("/api/v1/reports/kpis", params={"to": "2026-11-10"})
    assert r.json()["period"]["from"] == "2026-10-12"


@pytest.mark.parametrize(
    "params, code",
    [
        ({"from": "2026-13-01", "to": "2026-12-01"}, "invalid_date"),
        ({"from": "20261101", "to": "2026-11-30"}, "invalid_date"),
        ({"from": "2026-11-01T00:00", "to": "2026-11-30"}, "invalid_date"),
        ({"from": "2026-11-30", "to": "2026-11-01"}, "invalid_period"),
        ({"from": "2025-01-01", "to": "2026-11-30"}, "period_too_long"),
        ({"from": "2026-11-01", "to": "2026-11-30", "region": "火星"}, "unknown_province"),
    ],
)
def test_bad_periods_are_422_problems(client, params, code):
    for path in ("/api/v1/reports/kpis", "/api/v1/reports/kpis.xlsx", "/api/v1/reports/series"):
        if path.endswith("series") and "region" in params:
            continue
        r = client.get(path, params=params)
        assert r.status_code == 422, (path, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        body = r.json()
        assert body["code"] == code
        assert any(ord(ch) > 127 for ch in body["detail"])  # Chinese detail


@pytest.mark.parametrize("role", ["agent", "handler", "reseller"])
def test_roles_without_report_read_are_refused(client, as_role, role):
    headers = as_role(role, "代理商甲" if role == "reseller" else None)
    for path in ROUTES:
        r = client.get(path, headers=headers)
        assert r.status_code == 403, (path, r.text)
        assert r.json()["code"] == "forbidden"


@pytest.mark.parametrize("role", ["quality", "legal", "admin", "auditor"])
def test_roles_with_report_read_may_read(client, as_role, role):
    for path in ROUTES:
        r = client.get(path, headers=as_role(role))
        assert r.status_code == 200, (path, r.text)


def test_dashboard_routes(client, desk):
    desk.register(bj(11, 28, 8))
    desk.done()
    assert client.get("/api/v1/reports/overview").json()["intake_today"] == 1
    items = client.get("/api/v1/reports/about-to-breach", params={"hours": 48}).json()["items"]
    assert len(items) == 1 and items[0]["rule"] == "ack_24h"
    assert client.get("/api/v1/reports/approvals").json() == {"items": []}
    s = client.get("/api/v1/reports/series", params={"from": "2026-11-28", "to": "2026-11-28"})
    assert s.json()["by_category"]["network"] == [1]
    r = client.get("/api/v1/reports/about-to-breach", params={"hours": 0})
    assert r.status_code == 422 and r.json()["code"] == "out_of_range"


def test_xlsx_holds_the_same_numbers_as_the_json(rt, client, desk):
    a = desk.register(bj(11, 2, 9), province="河南省")
    desk.act(a, "accept", bj(11, 2, 12))
    desk.register(bj(11, 3, 9), province="广东省", category="billing")
    b = desk.register(bj(11, 1, 9), province="河南省", category="usage")
    desk.close(b, bj(11, 1, 10), bj(11, 2, 21))
    desk.done()
    params = {"from": "2026-11-01", "to": "2026-11-07"}
    data = client.get("/api/v1/reports/kpis", params=params).json()
    r = client.get("/api/v1/reports/kpis.xlsx", params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert r.headers["content-disposition"] == (
        'attachment; filename="kesu-kpis-2026-11-01-2026-11-07.xlsx"'
    )
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["指标", "趋势", "万户投诉率", "说明"]

    sheet = list(wb["指标"].iter_rows(values_only=True))
    header, rows = sheet[0], sheet[1:]
    col = {name: i for i, name in enumerate(header)}
    by_id = {row[col["指标代码"]]: row for row in rows}
    assert len(rows) == len(data["kpis"])
    for k in data["kpis"]:
        row = by_id[k["id"]]
        assert row[col["指标"]] == k["name"]
        assert row[col["数值"]] == k["value"]
        assert row[col["分子"]] == k["numerator"]
        assert row[col["分母"]] == k["denominator"]
        assert row[col["口径"]] == k["definition"] and row[col["来源"]] == k["source"]
    ack = by_id["ack_24h_rate"]
    # a and b in time, the Guangdong complaint never accepted
    assert ack[col["数值"]] == round(2 / 3, 6)
    assert wb["指标"].cell(row=2, column=col["数值"] + 1).number_format == "0.00%"

    trend = list(wb["趋势"].iter_rows(values_only=True))
    assert trend[0][:2] == ("日期", "截至") and len(trend) == 1 + 7
    ack_col = trend[0].index("24小时受理率")
    assert [row[ack_col] for row in trend[1:]] == [
        p["value"] for p in data["trends"]["ack_24h_rate"]
    ]

    regions = list(wb["万户投诉率"].iter_rows(values_only=True))[1:]
    as_json = [
        (x["province"], x["city"], x["complaints"], x["subscribers"], x["per_10k"])
        for x in data["by_region"]
    ]
    assert [row[:5] for row in regions] == as_json
    assert ("河南省", None, 2) in [x[:3] for x in regions]

    with rt.engine.connect() as conn:
        entry = conn.execute(
            select(t.audit_log).where(t.audit_log.c.action == "report.export")
        ).one()
    assert entry.actor == "t-supervisor"
    assert entry.detail == {
        "format": "xlsx",
        "from": "2026-11-01",
        "to": "2026-11-07",
        "region": None,
    }
