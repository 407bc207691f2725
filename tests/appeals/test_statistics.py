"""The ministry's figures from appeal rows (appeals.statistics), computed by hand below,
and their xlsx laid out like the quarterly notice."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook

from kesu.appeals import schemes, statistics

Q3 = (date(2026, 7, 1), date(2026, 9, 30))
OPERATORS = {"ct": "中国电信", "cm": "中国移动", "cu": "中国联通"}
USERS = {"cm": 2_000_000, "cu": 1_000_000}  # ct's users not configured


def row(number, operator, category, received, decision, replied=None, outcome=None,
        mediated=False):  # fmt: skip
    received = date.fromisoformat(received)
    return {
        "number": number,
        "operator": operator,
        "category": category,
        "received_at": received,
        "status": "concluded" if replied else "accepted",
        "decision": decision,
        "replied_at": date.fromisoformat(replied) if replied else None,
        "reply_due_at": received + timedelta(days=30),
        "outcome": outcome,
        "mediated": mediated,
    }


ROWS = [
    # number, operator, kesu category, received, decision, replied (due = received + 30)
    row("A1", "cm", "billing", "2026-07-01", "accepted", "2026-07-20", "agreement", True),
    row("A2", "cm", "billing", "2026-07-10", "accepted", "2026-08-15", "mediation_ended", True),
    row("A3", "cm", "marketing", "2026-08-01", "not_accepted", "2026-08-03"),
    row("A4", "cm", "network", "2026-09-25", "accepted"),  # due 10-25: still running
    row("A5", "cu", "unauthorized", "2026-07-05", "accepted", "2026-07-30", "resolved"),
    row("A6", "cu", "service", "2026-08-20", "redirected", "2026-08-21"),
    row("A7", "cu", None, "2026-09-01", "accepted"),  # due 10-01: still running
    row("A8", "ct", "handling", "2026-07-15", "accepted", None, None, True),  # due 08-14: late
    row("A9", "ct", "security", "2026-09-30", None),  # undecided, due 10-30
    row("A10", "ct", "billing", "2026-08-08", "accepted", "2026-09-01", "agreement", True),
    # outside the quarter
    row("X1", "cm", "billing", "2026-06-30", "accepted", "2026-07-02", "agreement", True),
    row("X2", "cu", "billing", "2026-10-01", "not_accepted"),
]


@pytest.fixture(scope="module")
def fig():
    scheme = schemes.by_id("miit-2025q1")
    return statistics.figures(ROWS, *Q3, USERS, scheme, OPERATORS)


def test_period_and_scheme(fig):
    assert fig["period"] == {"from": "2026-07-01", "to": "2026-09-30", "name": "2026年第三季度"}
    assert fig["scheme"]["id"] == "miit-2025q1"


def test_totals_by_hand(fig):
    t = fig["totals"]
    assert (t["received"], t["accepted"], t["not_accepted"], t["redirected"], t["undecided"]) == (
        10, 7, 1, 1, 1)  # fmt: skip
    assert t["acceptance_rate"] == 77.8  # 7 of the 9 decided
    # answered: A1 A2 A3 A5 A6 A10; not answered and due by 30 Sept: A8 → 7 counted;
    # in time: all answered but A2 (08-15 > 08-09) → 5
    assert (t["limit_counted"], t["handled_within_limit"], t["within_limit_rate"]) == (7, 5, 71.4)
    assert (t["mediated"], t["mediation_success"], t["mediation_concluded"]) == (4, 2, 3)
    assert t["mediation_success_rate"] == 66.7
    # per million over cm and cu (ct has no user count): (4 + 3) / 3,000,000
    assert (t["users"], t["per_million"]) == (3_000_000, 2.33)


def test_by_operator_by_hand(fig):
    ops = {o["operator"]: o for o in fig["by_operator"]}
    assert [o["name"] for o in fig["by_operator"]] == ["中国电信", "中国移动", "中国联通"]
    assert ops["cm"] == {
        "operator": "cm", "name": "中国移动", "users": 2_000_000, "received": 4, "accepted": 3,
        "per_million": 2.0, "acceptance_rate": 75.0, "within_limit_rate": 66.7,
        "mediation_success_rate": 50.0,
    }  # fmt: skip
    cu = ops["cu"]
    assert (cu["received"], cu["accepted"], cu["per_million"]) == (3, 2, 3.0)
    assert (cu["acceptance_rate"], cu["within_limit_rate"]) == (66.7, 100.0)
    assert cu["mediation_success_rate"] is None  # nothing mediated: no denominator
    ct = ops["ct"]
    assert (ct["users"], ct["per_million"]) == (None, None)
    assert (ct["received"], ct["accepted"], ct["acceptance_rate"]) == (3, 2, 100.0)
    assert (ct["within_limit_rate"], ct["mediation_success_rate"]) == (50.0, 100.0)


def test_by_category_by_hand(fig):
    # 2025Q1 scheme: billing → 资费争议; marketing, unauthorized → 营销; service, handling →
    # 服务争议; network, security, none → 其他. Accepted: A1 A2 A10 资费, A5 营销, A8 服务,
    # A4 A7 其他 (7 in all).
    cats = {c["code"]: c for c in fig["by_category"]}
    assert [c["name"] for c in fig["by_category"]] == ["服务争议", "资费争议", "营销", "其他"]
    assert [(c["received"], c["accepted"], c["share"]) for c in fig["by_category"]] == [
        (2, 1, 14.3), (3, 3, 42.9), (2, 1, 14.3), (3, 2, 28.6)]  # fmt: skip
    assert cats["tariff"]["name"] == "资费争议"
    assert fig["by_operator_category"] == {
        "ct": {"service": 1, "tariff": 1, "marketing": 0, "other": 0},
        "cm": {"service": 0, "tariff": 2, "marketing": 0, "other": 1},
        "cu": {"service": 0, "tariff": 0, "marketing": 1, "other": 1},
    }


def test_an_empty_period_has_no_rates_and_unknown_operators_get_their_own_row():
    scheme = schemes.by_id("miit-2025q1")
    empty = statistics.figures([], *Q3, USERS, scheme, OPERATORS)
    t = empty["totals"]
    assert t["received"] == 0 and t["acceptance_rate"] is None
    assert t["within_limit_rate"] is None and t["mediation_success_rate"] is None
    assert all(c["share"] is None for c in empty["by_category"])
    assert [o["received"] for o in empty["by_operator"]] == [0, 0, 0]
    rows = [row("B1", "xx", "billing", "2026-07-02", "accepted"),
            row("B2", None, None, "2026-07-03", "not_accepted", "2026-07-04")]  # fmt: skip
    f = statistics.figures(rows, *Q3, USERS, scheme, OPERATORS)
    assert [o["name"] for o in f["by_operator"]][3:] == ["xx", "（未明确被申诉人）"]
    assert set(f["by_operator_category"]) == {"ct", "cm", "cu", "xx"}
    with pytest.raises(ValueError):
        statistics.figures([], Q3[1], Q3[0], USERS, scheme, OPERATORS)


@pytest.mark.parametrize(
    ("start", "end", "name"),
    [
        ("2026-07-01", "2026-09-30", "2026年第三季度"),
        ("2026-01-01", "2026-03-31", "2026年第一季度"),
        ("2026-02-01", "2026-02-28", "2026年2月"),
        ("2026-01-01", "2026-06-30", "2026年上半年"),
        ("2026-07-01", "2026-12-31", "2026年下半年"),
        ("2026-01-01", "2026-12-31", "2026年"),
        ("2026-07-01", "2026-08-15", "2026年7月1日至2026年8月15日"),
        ("2026-02-01", "2026-04-30", "2026年2月1日至2026年4月30日"),
    ],
)
def test_period_names(start, end, name):
    assert statistics.period_name(date.fromisoformat(start), date.fromisoformat(end)) == name


def test_definitions_name_every_rate_and_its_denominator():
    doc = statistics.__doc__
    for words in ("accepted + not_accepted + redirected", "limit_counted",
                  "agreements + mediations ended", "1,000,000"):  # fmt: skip
        assert words in doc
    assert "电信条例第三十九条" in statistics.DEFINITIONS["within_limit_rate"]


def cells(ws):
    return [[c for c in r] for r in ws.iter_rows(values_only=True)]


def test_the_workbook_is_laid_out_like_the_ministrys_tables(fig):
    wb = load_workbook(io.BytesIO(statistics.workbook(fig)))
    assert wb.sheetnames == ["申诉情况", "分企业", "分类"]

    ws = wb["申诉情况"]
    assert ws["A1"].value == "电信用户申诉情况（2026年第三季度）"
    assert "2026年7月1日至2026年9月30日" in ws["A2"].value and "服务争议" in ws["A2"].value
    assert [ws["A3"].value, ws["B3"].value] == ["指标", "数值"]
    summary = {r[0]: r[1] for r in cells(ws)[3:] if r[0] and r[1] is not None}
    assert summary["收到申诉（人次）"] == 10 and summary["受理（件）"] == 7
    assert summary["受理率（%）"] == 77.8 and summary["按时答复率（%）"] == 71.4
    assert summary["调解成功率（%）"] == 66.7
    assert summary["百万用户申诉率（人次/百万用户）"] == 2.33
    note = ws.cell(row=ws.max_row, column=1).value
    assert note.startswith("说明：") and "受理率＝" in note and "数据来源" in note

    ws = wb["分企业"]
    assert ws["A1"].value == "电信用户申诉分企业情况（2026年第三季度）"
    header = cells(ws)[2]
    assert header[:8] == [
        "企业",
        "用户数（户）",
        "申诉人次（人次）",
        "百万用户申诉率（人次/百万用户）",
        "受理（件）",
        "受理率（%）",
        "按时答复率（%）",
        "调解成功率（%）",
    ]
    assert header[8:] == [
        "受理·服务争议（件）",
        "受理·资费争议（件）",
        "受理·营销（件）",
        "受理·其他（件）",
    ]
    body = cells(ws)[3:7]
    assert body[1] == ["中国移动", 2_000_000, 4, 2.0, 3, 75.0, 66.7, 50.0, 0, 2, 0, 1]
    assert body[0][:4] == ["中国电信", None, 3, None]
    assert body[3] == ["合计", 3_000_000, 10, 2.33, 7, 77.8, 71.4, 66.7, 1, 3, 1, 2]
    assert "百万用户申诉率＝" in ws.cell(row=ws.max_row, column=1).value

    ws = wb["分类"]
    assert ws["A1"].value == "电信用户申诉分类情况（2026年第三季度）"
    assert cells(ws)[2] == ["类别", "收到（人次）", "受理（件）", "占受理申诉比例（%）"]
    assert cells(ws)[3:8] == [
        ["服务争议", 2, 1, 14.3], ["资费争议", 3, 3, 42.9], ["营销", 2, 1, 14.3],
        ["其他", 3, 2, 28.6], ["合计", 10, 7, 100.0]]  # fmt: skip
    assert "分类占比＝" in ws.cell(row=ws.max_row, column=1).value
