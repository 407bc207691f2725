"""Shared by the import tests (a helper, not a test module): work-order files made with
openpyxl and csv as a hotline platform exports them."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from openpyxl import Workbook

HEADERS = [
    "工单号",
    "受理时间",
    "来电号码",
    "客户姓名",
    "归属地",
    "投诉内容",
    "处理结果",
    "办结时间",
    "备注",
]


def row(no: str, **over) -> list:
    base = {
        "工单号": no,
        "受理时间": "2026-11-20 09:30:00",
        "来电号码": "13800001234",
        "客户姓名": "张三",
        "归属地": "广东省广州市",
        "投诉内容": "用户反映本月账单多扣了30元流量费，要求核实退费。",
        "处理结果": None,
        "办结时间": None,
        "备注": "",
    }
    base.update(over)
    return [base[h] for h in HEADERS]


def xlsx(path: Path, rows: list[list], headers: list[str] = HEADERS) -> Path:
    # A workbook as Excel saves it: strings in the shared-strings table.
    wb = Workbook()
    ws = wb.active
    ws.title = "工单"
    ws.append(headers)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def csv_bytes(rows: list[list], encoding: str, headers: list[str] = HEADERS) -> bytes:
    buf = io.StringIO(newline="")
    w = csv.writer(buf)
    w.writerow(headers)
    for r in rows:
        w.writerow(["" if v is None else v for v in r])
    return buf.getvalue().encode(encoding)


def many(n: int, prefix: str = "WO") -> list[list]:
    """n good rows: different numbers and customers, spread over October 2026."""
    out = []
    for i in range(n):
        day = 1 + i % 28
        out.append(
            row(
                f"{prefix}{i:06d}",
                受理时间=f"2026-10-{day:02d} {8 + i % 10:02d}:{i % 60:02d}:00",
                来电号码=f"139{i:08d}",
                客户姓名=f"客户{i}",
                归属地=("河南省郑州市", "广东省深圳市", "重庆市")[i % 3],
                投诉内容=f"宽带第{i}次断网，要求尽快修复并说明原因。",
            )
        )
    return out
