"""The operator's statistics for the regulator (issue 18 items 7 and 8): a month's
complaints by channel level, kind and the ministry's categories, valid and invalid, the
time limits, the referrals, 万户投诉率 by province and city, the top causes — and the
report's totals equal the KPI API's on the same data."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
import pytest

from kesu.channels import referrals
from kesu.channels.referral_in import ReferralIn
from kesu.reports import kpi_report, regulator
from tests.reports.conftest import bj, kpi


@pytest.fixture
def month(rt, desk):
    """November 2026: complaints from two levels of channel, three kinds, two provinces
    (one with cities configured), closed with causes; one invalid, one inquiry; a referral
    answered late and one still open; and a complaint of October that is not counted."""
    made = {}
    made["a"] = desk.register(bj(11, 2), category="billing", province="河南省", city="郑州市")
    made["b"] = desk.register(bj(11, 3), category="billing", province="河南省", city="洛阳市")
    made["c"] = desk.register(bj(11, 4), category="network", province="河南省", city="郑州市")
    made["d"] = desk.register(
        bj(11, 5), kind="fault", category="network", channel="group_hotline", province="河南省"
    )
    made["e"] = desk.register(
        bj(11, 6), category="marketing", channel="weibo", province="广东省", city="广州市"
    )
    made["f"] = desk.register(bj(11, 7), category="service")  # no province
    desk.register(bj(11, 8), kind="inquiry", category="network", province="河南省")
    bad = desk.register(bj(11, 9), category="other", province="河南省")
    desk.act(bad, "invalidate", bj(11, 9, 11), reason="not_specific")
    desk.register(bj(10, 30), category="billing", province="河南省")  # October
    for key, cause in (("a", "system_fault"), ("b", "system_fault"), ("c", "network_fault")):
        n = made[key]
        desk.act(n, "accept", bj(11, 10, 9))
        desk.act(n, "reply", bj(11, 11, 9), resolution="已处理。", root_cause=cause)
        desk.act(n, "callback", bj(11, 11, 10), result="satisfied")
        desk.act(n, "close", bj(11, 11, 11))
    for ref, due, reply in (("ZB-1", "2026-11-15", bj(11, 20)), ("ZB-2", "2026-11-20", None)):
        desk.clock.now = bj(11, 12)
        body = ReferralIn.model_validate(
            {
                "ref": ref,
                "source": None,
                "appeal_received_on": "2026-11-10",
                "reply_due_on": due,
                "appellant": {"phone": f"1370000000{ref[-1]}"},
                "issue": "申诉人反映营业厅办理业务时被搭售流量包。",
            }
        )
        referrals.receive(rt, body, "system")
        if reply:
            desk.clock.now = reply
            referrals.reply(rt, ref, "已核实。", "已退费。", "system")
    desk.done()
    return made


def test_the_months_complaints_by_level_kind_category_and_validity(rt, month):
    r = regulator.report(rt, "system", month="2026-11")
    assert r["label"] == "2026年11月" and r["period"] == {"from": "2026-11-01", "to": "2026-11-30"}
    got = r["received"]
    # The two referrals registered complaints on the regulator channel (group level) too.
    levels = {lv["level"]: lv for lv in got["by_level"]}
    assert levels["province"]["kinds"] == {"fault": 0, "complaint": 4, "appeal": 0}
    assert levels["group"]["kinds"] == {"fault": 1, "complaint": 3, "appeal": 0}
    assert got["valid"] == 8 and got["invalid"] == 1 and got["total"] == 9
    assert [lv["name"] for lv in got["by_level"]] == ["省级渠道", "集团渠道"]
    cats = r["categories"]
    assert cats["total"] == got["valid"]
    assert sum(c["count"] for c in cats["rows"]) == got["valid"]
    assert cats["scheme"]["id"]  # the ministry's scheme in force on 2026-11-30


def test_the_reports_figures_equal_the_kpi_apis(rt, month):
    r = regulator.report(rt, "system", month="2026-11")
    k = kpi_report.kpis(rt, "system", date(2026, 11, 1), date(2026, 11, 30))
    for shown in r["kpis"]:
        same = kpi(k, shown["id"])
        assert (shown["value"], shown["numerator"], shown["denominator"]) == (
            same["value"],
            same["numerator"],
            same["denominator"],
        )
    per = kpi(k, "complaints_per_10k")
    assert r["per_10k"]["value"] == per["value"]
    assert r["per_10k"]["complaints"] == per["numerator"]
    assert r["per_10k"]["provinces"] == k["by_region"]
    # Every valid complaint is in one province line (or the line of none given).
    assert sum(x["complaints"] for x in r["per_10k"]["provinces"]) == r["received"]["valid"]
    # The cities of a province add up to no more than it; 郑州 has a and c.
    cities = {(x["province"], x["city"]): x for x in r["per_10k"]["cities"]}
    assert cities[("河南省", "郑州市")]["complaints"] == 2
    assert cities[("河南省", "洛阳市")]["complaints"] == 1
    assert cities[("河南省", "郑州市")]["per_10k"] == round(2 / 52000 * 10000, 4)


def test_referrals_and_causes(rt, month, client):
    action = {
        "title": "计费系统套餐变更同步整改",
        "description": "套餐变更后计费未同步，修复同步任务并复核当月账单。",
        "owner": "t-supervisor",
        "due_on": "2026-12-31",
        "group": {"root_cause": "system_fault"},
    }
    r = client.post("/api/v1/corrective-actions", json=action)
    assert r.status_code == 201, r.text
    r = regulator.report(rt, "system", month="2026-11")
    f = r["referrals"]
    assert (f["received"], f["answered"], f["late"], f["on_time"]) == (2, 1, 1, 0)
    assert (f["open"], f["overdue"]) == (1, 1)  # due 11-20, still open on 11-28
    c = r["causes"]
    assert c["closed"] == 3 and c["without_cause"] == 0
    assert [(x["cause"], x["count"]) for x in c["top"]] == [
        ("system_fault", 2),
        ("network_fault", 1),
    ]
    assert c["top"][0]["name"] == "系统故障" and c["top"][0]["share"] == round(2 / 3, 6)
    [act] = c["top"][0]["actions"]  # the corrective action of that cause (整改)
    assert act["title"] == "计费系统套餐变更同步整改" and act["state_name"] == "已立项"
    assert c["top"][1]["actions"] == []


def test_a_quarter_and_the_workbook(rt, month, client):
    q = regulator.report(rt, "system", quarter="2026-Q4")
    assert q["period"] == {"from": "2026-10-01", "to": "2026-12-31"}
    assert q["received"]["valid"] == 9  # October's complaint too
    r = client.get("/api/v1/reports/regulator.xlsx", params={"month": "2026-11"})
    assert r.status_code == 200
    assert "kesu-regulator-2026-11-01-2026-11-30.xlsx" in r.headers["content-disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    cells = [c for row in wb["统计表"].iter_rows(values_only=True) for c in row if c is not None]
    assert "电信业务经营者用户投诉处理情况统计表" in cells
    assert "一、投诉受理情况（按渠道层级、工单类型）" in cells
    assert "四、管局转办申诉" in cells and "系统故障" in cells
    rows = list(wb["统计表"].iter_rows(values_only=True))
    total = next(row for row in rows if row[0] == "合计（有效）")
    assert [v for v in total if v is not None][-1] == 8
    assert wb["说明"]["A1"].value == "口径"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({}, "invalid_period"),
        ({"month": "2026-11", "quarter": "2026-Q4"}, "invalid_period"),
        ({"month": "2026-13"}, "invalid_value"),
        ({"quarter": "2026-Q5"}, "invalid_value"),
    ],
)
def test_a_bad_period_is_a_clear_error(client, params, code):
    r = client.get("/api/v1/reports/regulator", params=params)
    assert r.status_code == 422 and r.json()["code"] == code, r.text
    assert any("\u4e00" <= ch <= "\u9fff" for ch in r.json()["detail"])


def test_the_page_shows_the_month_and_refuses_who_may_not_read_reports(month, staff_web):
    boss, _ = staff_web("chief", "supervisor")
    page = boss.get("/reports/regulator", params={"month": "2026-11"})
    assert page.status_code == 200
    text = page.text
    assert "管局统计报表" in text and "2026年11月" in text
    assert '<th id="valid">8</th>' in text and '<td id="invalid">1</td>' in text
    assert 'href="/api/v1/reports/regulator.xlsx?month=2026-11"' in text
    quarter = boss.get("/reports/regulator", params={"quarter": "2026-Q4"})
    assert "2026年第4季度" in quarter.text and '<th id="valid">9</th>' in quarter.text
    bad = boss.get("/reports/regulator", params={"month": "2026-13"})
    assert bad.status_code == 200 and "月份“2026-13”不对" in bad.text  # and last month shown
    agent, _ = staff_web("li.agent", "agent")
    assert agent.get("/reports/regulator").status_code == 403
