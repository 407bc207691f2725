"""The KPI report as an xlsx workbook (openpyxl): 指标, 趋势, 万户投诉率, 说明."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

FORMATS = {"rate": "0.00%", "hours": "0.00", "per_10k": "0.0000"}
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
WRAP = Alignment(wrap_text=True, vertical="top")


def filename(report: dict[str, Any]) -> str:
    """An ASCII file name: kesu-kpis-2026-11-01-2026-11-30.xlsx."""
    return f"kesu-kpis-{report['period']['from']}-{report['period']['to']}.xlsx"


def _header(ws, names: list[str], widths: list[int]) -> None:
    ws.append(names)
    for i, width in enumerate(widths, start=1):
        cell = ws.cell(row=1, column=i)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A2"


def workbook(report: dict[str, Any]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "指标"
    _header(
        ws,
        ["指标", "英文名", "数值", "单位", "分子", "分母", "上期数值", "口径", "分子口径",
         "分母口径", "来源", "指标代码"],
        [16, 28, 12, 10, 12, 14, 12, 70, 36, 36, 50, 28],
    )  # fmt: skip
    for k in report["kpis"]:
        ws.append(
            [
                k["name"],
                k["en"],
                k["value"],
                k["unit_name"],
                k["numerator"],
                k["denominator"],
                k["previous"],
                k["definition"],
                k["numerator_definition"],
                k["denominator_definition"],
                k["source"],
                k["id"],
            ]
        )
        row = ws.max_row
        for col in (3, 7):
            ws.cell(row=row, column=col).number_format = FORMATS[k["unit"]]
        for col in (8, 9, 10, 11):
            ws.cell(row=row, column=col).alignment = WRAP

    trend = wb.create_sheet("趋势")
    kpis = report["kpis"]
    _header(
        trend,
        ["日期" if report["trend_unit"] == "day" else "周起始日", "截至"]
        + [k["name"] for k in kpis],
        [12, 12] + [14] * len(kpis),
    )
    series = [report["trends"][k["id"]] for k in kpis]
    for i, first in enumerate(series[0] if series else []):
        trend.append([first["date"], first["to"]] + [s[i]["value"] for s in series])
        for j, k in enumerate(kpis, start=3):
            trend.cell(row=trend.max_row, column=j).number_format = FORMATS[k["unit"]]

    regions = wb.create_sheet("万户投诉率")
    _header(
        regions,
        ["省份", "城市", "投诉量", "用户数", "万户投诉率", "说明"],
        [12, 12, 10, 14, 12, 50],
    )
    for r in report["by_region"]:
        regions.append(
            [
                r["province"] or "（未填写）",
                r["city"],
                r["complaints"],
                r["subscribers"],
                r["per_10k"],
                r["note"],
            ]
        )
        regions.cell(row=regions.max_row, column=5).number_format = FORMATS["per_10k"]

    about = wb.create_sheet("说明")
    about.column_dimensions["A"].width = 14
    about.column_dimensions["B"].width = 80
    region = report["region"] or "全部"
    for label, value in (
        ("统计期间", f"{report['period']['from']} 至 {report['period']['to']}（北京时间，含首尾）"),
        ("上期", f"{report['previous_period']['from']} 至 {report['previous_period']['to']}"),
        ("地区", region),
        ("趋势粒度", "按日" if report["trend_unit"] == "day" else "按周（周一至周日）"),
        ("用户数来源", report.get("subscribers_source") or ""),
        ("生成时间", report["generated_at"]),
        ("口径", "各指标的准确口径见“指标”表；定义文件 data/reports/kpis.yaml。"),
    ):
        about.append([label, value])
        about.cell(row=about.max_row, column=1).font = HEADER_FONT

    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
