"""The operator's reply to the regulator on a referral (转办申诉处理情况答复), as a
printable HTML page in Chinese: the reference number, the complaint, the handling, the
result and the date. Pure: it takes the referral and the complaint as the reader sees
them (masked by role) and returns the page.
"""

from __future__ import annotations

from html import escape
from typing import Any

from kesu.complaints import vocabulary as vocab

PRINT_STYLE = """
body { font-family: "Noto Serif CJK SC", "Songti SC", SimSun, serif; max-width: 46em;
       margin: 2em auto; line-height: 1.8; color: #000; }
h1 { text-align: center; font-size: 1.5em; letter-spacing: .1em; }
table { border-collapse: collapse; width: 100%; margin: 1em 0; }
th, td { border: 1px solid #000; padding: .4em .6em; vertical-align: top; text-align: left; }
th { width: 9em; background: #f3f3f3; white-space: nowrap; }
.pending { color: #a00; }
.sign { text-align: right; margin-top: 3em; }
@media print { .noprint { display: none; } body { margin: 0; } }
"""


def cn_day(iso: str | None) -> str:
    """2026-11-28 (or a time) as 2026年11月28日."""
    if not iso:
        return ""
    y, m, d = iso[:10].split("-")
    return f"{int(y)}年{int(m)}月{int(d)}日"


def cell(value: Any) -> str:
    return escape(str(value)).replace("\n", "<br>") if value not in (None, "") else "—"


def document(referral: dict[str, Any], complaint: dict[str, Any], source_name: str | None) -> str:
    """The reply as an HTML page (a draft, marked so, until the answer is recorded)."""
    reply = referral.get("reply")
    customer = complaint.get("customer") or {}
    rows = [
        ("转办编号", referral["ref"]),
        ("申诉受理日期", cn_day(referral["appeal_received_on"])),
        ("要求回复日期", cn_day(referral["reply_due_on"])),
        ("被申诉企业", referral.get("operator")),
        ("申诉人", customer.get("name")),
        ("联系电话", customer.get("phone")),
        ("申诉内容", referral["issue"]),
        ("本企业投诉单号", complaint["number"]),
        ("投诉分类", vocab.CATEGORIES.get(complaint.get("category") or "", {}).get("name")),
        ("当前状态", vocab.STATUSES.get(complaint["status"], {}).get("name")),
        ("处理过程", reply["handling"] if reply else None),
        ("处理结果", reply["result"] if reply else None),
        ("答复日期", cn_day(reply["replied_at"]) if reply else None),
    ]
    body = "\n".join(f"<tr><th>{escape(k)}</th><td>{cell(v)}</td></tr>" for k, v in rows)
    to = escape(source_name or "通信管理局（电信用户申诉受理中心）")
    status = "" if reply else '<p class="pending">草稿：尚未答复管局（处理过程、结果待填写）。</p>'
    when = cn_day(reply["replied_at"]) if reply else ""
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>转办申诉处理情况答复（{escape(referral["ref"])}）</title>
<style>{PRINT_STYLE}</style></head>
<body>
<h1>关于转办申诉处理情况的答复</h1>
{status}
<p>{to}：</p>
<p>贵单位转办的用户申诉（转办编号：{escape(referral["ref"])}）收悉。我司已登记为投诉单
{escape(complaint["number"])} 并进行了核实处理，现将处理情况答复如下：</p>
<table>
{body}
</table>
<p class="sign">（被申诉企业客户服务部门）<br>{when}</p>
<p class="noprint"><button onclick="window.print()">打印</button></p>
</body></html>
"""
