"""The regulator's report as an xlsx workbook (pure): one sheet laid out as a reporting
table — a title, the period and the operator's tables one under the other (一、受理情况
… 六、主要原因及整改), then a sheet of notes. Numbers stay numbers (rates formatted as %)."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

from kesu.reports.xlsx import FORMATS

TITLE = Font(bold=True, size=14)
BOLD = Font(bold=True)
HEAD = PatternFill("solid", fgColor="DDEBF7")
THIN = Side(style="thin", color="999999")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
CENTRE = Alignment(horizontal="center", vertical="center", wrap_text=True)
WRAP = Alignment(wrap_text=True, vertical="top")


def filename(report: dict[str, Any]) -> str:
    """An ASCII name: kesu-regulator-2026-11-01-2026-11-30.xlsx."""
    return f"kesu-regulator-{report['period']['from']}-{report['period']['to']}.xlsx"


class _Sheet:
    def __init__(self, ws) -> None:
        self.ws = ws
        self.row = 1

    def title(self, text: str, font: Font = BOLD) -> None:
        self.ws.cell(row=self.row, column=1, value=text).font = font
        self.row += 1

    def table(self, head: list[str], rows: list[list[Any]], formats: dict[int, str]) -> None:
        for col, name in enumerate(head, start=1):
            cell = self.ws.cell(row=self.row, column=col, value=name)
            cell.font, cell.fill, cell.border, cell.alignment = BOLD, HEAD, BOX, CENTRE
        self.row += 1
        for values in rows:
            for col, value in enumerate(values, start=1):
                cell = self.ws.cell(row=self.row, column=col, value=value)
                cell.border = BOX
                if col in formats:
                    cell.number_format = formats[col]
            self.row += 1
        self.row += 1


def _received(s: _Sheet, r: dict[str, Any]) -> None:
    got = r["received"]
    kinds = got["kinds"]
    s.title("一、投诉受理情况（按渠道层级、工单类型）")
    rows = [
        [lv["name"], *[lv["kinds"][k["kind"]] for k in kinds], lv["total"]]
        for lv in got["by_level"]
    ]
    rows.append(["合计（有效）", *[got["by_kind"][k["kind"]] for k in kinds], got["valid"]])
    rows.append(["无效投诉", *[None for _ in kinds], got["invalid"]])
    rows.append(["受理总量", *[None for _ in kinds], got["total"]])
    s.table(["渠道层级", *[k["name"] for k in kinds], "合计"], rows, {})


def _categories(s: _Sheet, r: dict[str, Any]) -> None:
    cats = r["categories"]
    s.title(f"二、投诉分类（{cats['scheme']['name']}）")
    rows = [[c["name"], c["count"], c["share"]] for c in cats["rows"]]
    rows.append(["合计", cats["total"], 1 if cats["total"] else None])
    s.table(["分类", "投诉量（件）", "占比"], rows, {3: FORMATS["rate"]})


def _limits(s: _Sheet, r: dict[str, Any]) -> None:
    s.title("三、处理时限与满意度")
    rows = [[k["name"], k["value"], k["numerator"], k["denominator"]] for k in r["kpis"]]
    s.table(["指标", "数值", "分子", "分母"], rows, {2: FORMATS["rate"]})


def _referrals(s: _Sheet, r: dict[str, Any]) -> None:
    f = r["referrals"]
    s.title("四、管局转办申诉")
    s.table(
        ["收到转办", "新登记投诉", "并入已有投诉", "已答复", "按时答复", "逾期答复", "未答复",
         "其中已超期"],
        [[f["received"], f["new"], f["linked"], f["answered"], f["on_time"], f["late"],
          f["open"], f["overdue"]]],
        {},
    )  # fmt: skip
    if f["by_source"]:
        s.table(["转办来源", "件数"], [[b["name"], b["received"]] for b in f["by_source"]], {})


def _per_10k(s: _Sheet, r: dict[str, Any]) -> None:
    p = r["per_10k"]
    s.title("五、万户投诉率")
    rows = [
        ["全部（已配置用户数的省份）", None, p["complaints"], p["subscribers"], p["value"], None]
    ]
    for x in [*p["provinces"], *p["cities"]]:
        rows.append(
            [x["province"] or "（未填写）", x["city"], x["complaints"], x["subscribers"],
             x["per_10k"], x["note"]]
        )  # fmt: skip
    s.table(
        ["省份", "城市", "投诉量", "用户数", "万户投诉率", "说明"], rows, {5: FORMATS["per_10k"]}
    )


def _causes(s: _Sheet, r: dict[str, Any]) -> None:
    c = r["causes"]
    s.title(f"六、主要原因及整改（期内办结 {c['closed']} 件，未填原因 {c['without_cause']} 件）")
    rows = []
    for x in c["top"]:
        actions = "；".join(f"{a['title']}（{a['state_name']}）" for a in x["actions"]) or "—"
        rows.append([x["name"], x["count"], x["share"], actions])
    s.table(["原因", "件数", "占办结量", "整改措施"], rows, {3: FORMATS["rate"]})


def workbook(report: dict[str, Any]) -> bytes:
    wb = Workbook()
    s = _Sheet(wb.active)
    s.ws.title = "统计表"
    for col, width in zip("ABCDEFGH", (26, 14, 14, 14, 14, 40, 12, 12), strict=True):
        s.ws.column_dimensions[col].width = width
    s.title(report["title"], TITLE)
    period = report["period"]
    s.title(f"统计期间：{report['label']}（{period['from']} 至 {period['to']}，北京时间）")
    s.row += 1
    for part in (_received, _categories, _limits, _referrals, _per_10k, _causes):
        part(s, report)
    notes = wb.create_sheet("说明")
    notes.column_dimensions["A"].width = 14
    notes.column_dimensions["B"].width = 90
    for label, value in (
        ("口径", report["basis"]),
        (
            "分类方案",
            report["categories"]["scheme"]["source"] or report["categories"]["scheme"]["id"],
        ),
        ("用户数来源", report["per_10k"]["source"] or ""),
        ("生成时间", report["generated_at"]),
    ):
        notes.append([label, value])
        notes.cell(row=notes.max_row, column=1).font = BOLD
        notes.cell(row=notes.max_row, column=2).alignment = WRAP
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
