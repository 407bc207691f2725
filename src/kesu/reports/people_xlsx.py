"""Pure: the people's figures as an xlsx workbook (openpyxl): 人员, 班组, 口径."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook

from kesu.reports.xlsx import FORMATS, WRAP, _header

UNIT_NAMES = {"count": "件", "rate": "%", "hours": "小时", "score": "分"}


def filename(report: dict[str, Any]) -> str:
    """An ASCII file name: kesu-people-2026-11-01-2026-11-30.xlsx."""
    return f"kesu-people-{report['period']['from']}-{report['period']['to']}.xlsx"


def _sheet(ws, report: dict[str, Any], rows: list[dict[str, Any]], keys: list[str]) -> None:
    figures = report["figures"]
    names = [
        {"username": "账号", "display_name": "姓名", "team": "班组", "name": "班组名称"}[k]
        for k in keys
    ]
    _header(ws, names + [f["name"] for f in figures], [16] * len(keys) + [14] * len(figures))
    for row in rows:
        ws.append([row.get(k) for k in keys] + [row["figures"][f["id"]]["value"] for f in figures])
        for i, f in enumerate(figures, start=len(keys) + 1):
            fmt = FORMATS.get(f["unit"])
            if fmt:
                ws.cell(row=ws.max_row, column=i).number_format = fmt


def workbook(report: dict[str, Any]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "人员"
    _sheet(ws, report, report["people"], ["username", "display_name", "team"])
    _sheet(wb.create_sheet("班组"), report, report["teams"], ["team", "name"])
    defs = wb.create_sheet("口径")
    _header(defs, ["指标", "英文名", "单位", "口径", "指标代码"], [18, 28, 8, 90, 24])
    for f in report["figures"]:
        defs.append([f["name"], f["en"], UNIT_NAMES[f["unit"]], f["definition"], f["id"]])
        defs.cell(row=defs.max_row, column=4).alignment = WRAP
    defs.append([])
    defs.append(
        [f"期间：{report['period']['from']} 至 {report['period']['to']}（北京时间，含首尾）"]
    )
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
