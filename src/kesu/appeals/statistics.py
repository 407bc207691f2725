"""The figures the ministry publishes about appeals, from appeal rows (pure).

`figures(appeals, start, end, users, scheme, operators)`: the appeals RECEIVED in
[start, end] (both days included, by `received_at`, a Beijing date), as the rows stand
when the figures are computed. Each rate is a percentage rounded to one decimal, and None
when its denominator is 0:

- 受理率 acceptance_rate = accepted ÷ (accepted + not_accepted + redirected) × 100: of the
  appeals decided; those not yet decided (decision None) are left out.
- 按时答复率 within_limit_rate = handled_within_limit ÷ limit_counted × 100.
  limit_counted: the appeals answered (`replied_at` set, whenever) plus those not answered
  whose reply date (`reply_due_at`, 电信条例 第三十九条: 30 days from receipt) fell on or
  before `end`; an appeal not answered whose reply date is after `end` is still running
  and not counted. handled_within_limit: answered on or before the reply date.
- 调解成功率 mediation_success_rate = agreements ÷ (agreements + mediations ended) × 100,
  by `outcome` ("agreement", "mediation_ended"); `mediated` counts the appeals with a
  mediation session.
- 百万用户申诉率 per_million = appeals received ÷ the operator's users × 1,000,000, in
  人次/百万用户, rounded to two decimals; None when the operator's users are not given.
  The total's is over the operators whose users are given.
- 分类占比 share = the category's accepted appeals ÷ all accepted appeals × 100, the
  category by the scheme given (`scheme.category_of` of the row's kesu category).

`by_operator` lists the operators given (in their order), then any other code found, then
the appeals with no operator (operator None); `by_operator_category` counts accepted
appeals per operator code and category code (appeals with no operator left out).
`workbook(fig)`: the figures as an xlsx laid out like the ministry's quarterly notice.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from kesu.appeals.civil_periods import chinese_date
from kesu.appeals.schemes import Scheme
from kesu.reports.xlsx import HEADER_FILL, HEADER_FONT, WRAP

UNKNOWN_OPERATOR = "（未明确被申诉人）"
DEFINITIONS: dict[str, str] = {
    "received": "收到申诉：统计期内收到的申诉（按收到申诉日期，北京时间，含首尾两日），人次。",
    "acceptance_rate": "受理率＝受理件数÷（受理＋不予受理＋告知先向企业投诉）×100%，"
    "尚未作出受理决定的不计入。",
    "within_limit_rate": "按时答复率＝在答复期限内答复的件数÷（已答复的＋未答复但答复期限已在"
    "统计期末前届满的）×100%；答复期限为收到申诉之日起30日（电信条例第三十九条），"
    "期限在统计期末之后且尚未答复的不计入。",
    "mediation_success_rate": "调解成功率＝达成调解协议的件数÷"
    "（达成调解协议的＋调解终止的）×100%。",
    "per_million": "百万用户申诉率＝收到申诉人次÷企业用户数×1,000,000（人次/百万用户），"
    "未配置用户数的企业不计算。",
    "share": "分类占比＝该类受理件数÷受理件数×100%，类别按统计期适用的工业和信息化部分类口径。",
}
QUARTERS = "一二三四"


def _pct(numerator: int, denominator: int) -> float | None:
    return round(numerator * 100 / denominator, 1) if denominator else None


def _per_million(count: int, users: int | None) -> float | None:
    return round(count * 1_000_000 / users, 2) if users else None


def _last_of_month(year: int, month: int) -> date:
    return (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)


def period_name(start: date, end: date) -> str:
    """2026年第三季度, 2026年7月, 2026年上半年, 2026年, or 2026年7月1日至2026年8月15日."""
    if start.day == 1 and start.year == end.year:
        last = _last_of_month(end.year, end.month)
        if end == last:
            months = (start.month, end.month)
            if months == (1, 12):
                return f"{start.year}年"
            if months in ((1, 6), (7, 12)):
                return f"{start.year}年{'上' if start.month == 1 else '下'}半年"
            if start.month % 3 == 1 and end.month == start.month + 2:
                return f"{start.year}年第{QUARTERS[start.month // 3]}季度"
            if start.month == end.month:
                return f"{start.year}年{start.month}月"
    return f"{chinese_date(start)}至{chinese_date(end)}"


def _tally(rows: Sequence[Mapping[str, Any]], end: date) -> dict[str, Any]:
    decisions = [r.get("decision") for r in rows]
    accepted = decisions.count("accepted")
    not_accepted = decisions.count("not_accepted")
    redirected = decisions.count("redirected")
    counted = within = 0
    for r in rows:
        replied, due = r.get("replied_at"), r.get("reply_due_at")
        if replied is not None:
            counted += 1
            within += due is not None and replied <= due
        elif due is not None and due <= end:
            counted += 1
    outcomes = [r.get("outcome") for r in rows]
    agreements, ended = outcomes.count("agreement"), outcomes.count("mediation_ended")
    return {
        "received": len(rows),
        "accepted": accepted,
        "not_accepted": not_accepted,
        "redirected": redirected,
        "undecided": decisions.count(None),
        "acceptance_rate": _pct(accepted, accepted + not_accepted + redirected),
        "limit_counted": counted,
        "handled_within_limit": within,
        "within_limit_rate": _pct(within, counted),
        "mediated": sum(1 for r in rows if r.get("mediated")),
        "mediation_concluded": agreements + ended,
        "mediation_success": agreements,
        "mediation_success_rate": _pct(agreements, agreements + ended),
    }


def figures(
    appeals: Sequence[Mapping[str, Any]],
    start: date,
    end: date,
    users: Mapping[str, int],
    scheme: Scheme,
    operators: Mapping[str, str],
) -> dict[str, Any]:
    """The ministry's figures for the appeals received in [start, end] (module doc)."""
    if end < start:
        raise ValueError(f"the period ends ({end}) before it starts ({start})")
    rows = [r for r in appeals if start <= r["received_at"] <= end]
    totals = _tally(rows, end)
    with_users = [c for c in users if users[c]]
    base = sum(users[c] for c in with_users)
    totals["users"] = base or None
    totals["per_million"] = _per_million(
        sum(1 for r in rows if r.get("operator") in with_users), base
    )

    found = {r.get("operator") for r in rows}
    codes: list[str | None] = list(operators)
    codes += sorted(c for c in found if c is not None and c not in operators)
    if None in found:
        codes.append(None)
    by_operator = []
    for code in codes:
        own = [r for r in rows if r.get("operator") == code]
        t = _tally(own, end)
        n_users = users.get(code) if code is not None else None
        by_operator.append(
            {
                "operator": code,
                "name": operators.get(code, code) if code is not None else UNKNOWN_OPERATOR,
                "users": n_users or None,
                "received": t["received"],
                "accepted": t["accepted"],
                "per_million": _per_million(t["received"], n_users),
                "acceptance_rate": t["acceptance_rate"],
                "within_limit_rate": t["within_limit_rate"],
                "mediation_success_rate": t["mediation_success_rate"],
            }
        )

    category = {id(r): scheme.category_of(r.get("category")) for r in rows}
    accepted_rows = [r for r in rows if r.get("decision") == "accepted"]
    by_category = []
    for c in scheme.categories:
        n_accepted = sum(1 for r in accepted_rows if category[id(r)] == c.code)
        by_category.append(
            {
                "code": c.code,
                "name": c.name,
                "en": c.en,
                "received": sum(1 for r in rows if category[id(r)] == c.code),
                "accepted": n_accepted,
                "share": _pct(n_accepted, len(accepted_rows)),
            }
        )
    by_operator_category: dict[str, dict[str, int]] = {}
    for code in codes:
        if code is None:
            continue
        by_operator_category[code] = {
            c.code: sum(
                1 for r in accepted_rows if r.get("operator") == code and category[id(r)] == c.code
            )
            for c in scheme.categories
        }
    return {
        "period": {
            "from": start.isoformat(),
            "to": end.isoformat(),
            "name": period_name(start, end),
        },
        "scheme": {"id": scheme.id, "name": scheme.name, "source": scheme.source},
        "totals": totals,
        "by_operator": by_operator,
        "by_category": by_category,
        "by_operator_category": by_operator_category,
        "definitions": dict(DEFINITIONS),
    }


# ---- the workbook -----------------------------------------------------------------

TITLE_FONT = Font(bold=True, size=14)
SUMMARY = (
    ("收到申诉（人次）", "received"),
    ("受理（件）", "accepted"),
    ("不予受理（件）", "not_accepted"),
    ("告知先向企业投诉（件）", "redirected"),
    ("尚未决定（件）", "undecided"),
    ("受理率（%）", "acceptance_rate"),
    ("应按时答复（件）", "limit_counted"),
    ("按时答复（件）", "handled_within_limit"),
    ("按时答复率（%）", "within_limit_rate"),
    ("进行调解（件）", "mediated"),
    ("调解结束（件）", "mediation_concluded"),
    ("达成调解协议（件）", "mediation_success"),
    ("调解成功率（%）", "mediation_success_rate"),
    ("用户数（户）", "users"),
    ("百万用户申诉率（人次/百万用户）", "per_million"),
)
OPERATOR_COLUMNS = (
    ("用户数（户）", "users"),
    ("申诉人次（人次）", "received"),
    ("百万用户申诉率（人次/百万用户）", "per_million"),
    ("受理（件）", "accepted"),
    ("受理率（%）", "acceptance_rate"),
    ("按时答复率（%）", "within_limit_rate"),
    ("调解成功率（%）", "mediation_success_rate"),
)


def _sheet(wb: Workbook, title: str, fig: dict[str, Any], heading: str, header: list[str]):
    ws = wb.active if wb.active.title == "Sheet" else wb.create_sheet()
    ws.title = title
    period = fig["period"]
    ws.append([f"电信用户申诉{heading}（{period['name']}）"])
    ws.cell(row=1, column=1).font = TITLE_FONT
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    ws.append(
        [
            f"统计期间：{chinese_date(date.fromisoformat(period['from']))}至"
            f"{chinese_date(date.fromisoformat(period['to']))}（按收到申诉日期，北京时间）；"
            f"分类口径：{fig['scheme']['name']}"
        ]
    )
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(header))
    ws.append(header)
    for i in range(1, len(header) + 1):
        cell = ws.cell(row=3, column=i)
        cell.font, cell.fill, cell.alignment = HEADER_FONT, HEADER_FILL, WRAP
        ws.column_dimensions[cell.column_letter].width = 22 if i == 1 else 16
    ws.freeze_panes = "A4"
    return ws


def _note(ws, width: int, keys: Sequence[str], fig: dict[str, Any]) -> None:
    ws.append([])
    source = fig["scheme"].get("source") or fig["scheme"]["name"]
    text = "说明：" + "".join(fig["definitions"][k] for k in keys)
    ws.append([text + f"数据来源：kesu 申诉受理记录；分类口径来源：{source}。"])
    row = ws.max_row
    ws.cell(row=row, column=1).alignment = WRAP
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
    ws.row_dimensions[row].height = 90


def workbook(fig: dict[str, Any]) -> bytes:
    """申诉情况 (totals), 分企业 (per operator, with accepted appeals per category),
    分类 (per category share): a title row with the period, units in the headers, and a
    note of the definitions and sources."""
    wb = Workbook()
    ws = _sheet(wb, "申诉情况", fig, "情况", ["指标", "数值"])
    for label, key in SUMMARY:
        ws.append([label, fig["totals"][key]])
    _note(ws, 2, list(DEFINITIONS), fig)

    categories = fig["by_category"]
    header = ["企业"] + [h for h, _ in OPERATOR_COLUMNS]
    header += [f"受理·{c['name']}（件）" for c in categories]
    ws = _sheet(wb, "分企业", fig, "分企业情况", header)
    for op in fig["by_operator"]:
        counts = fig["by_operator_category"].get(op["operator"] or "", {})
        ws.append(
            [op["name"]]
            + [op[key] for _, key in OPERATOR_COLUMNS]
            + [counts.get(c["code"], 0) if op["operator"] else None for c in categories]
        )
    t = fig["totals"]
    ws.append(
        ["合计"] + [t[key] for _, key in OPERATOR_COLUMNS] + [c["accepted"] for c in categories]
    )
    ws.cell(row=ws.max_row, column=1).font = HEADER_FONT
    _note(ws, len(header), ["per_million", "acceptance_rate", "within_limit_rate",
                            "mediation_success_rate"], fig)  # fmt: skip

    ws = _sheet(
        wb, "分类", fig, "分类情况", ["类别", "收到（人次）", "受理（件）", "占受理申诉比例（%）"]
    )
    for c in categories:
        ws.append([c["name"], c["received"], c["accepted"], c["share"]])
    ws.append(["合计", t["received"], t["accepted"], 100.0 if t["accepted"] else None])
    ws.cell(row=ws.max_row, column=1).font = HEADER_FONT
    _note(ws, 4, ["share"], fig)

    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
