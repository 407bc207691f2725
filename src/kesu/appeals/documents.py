"""The referral letter (申诉转办函) a centre sends an operator that does not run kesu: the
appeal as the officer reads it (the view of appeals.views.full), the date the centre needs
the answer by (centre policy), the appellant's 30-day limit it must fit in (电信条例
第三十九条), and, once recorded, the operator's answer with its date — so referral and
answer exist as dated documents. Pure: the view in, a printable HTML page out."""

from __future__ import annotations

from html import escape
from typing import Any

from kesu.channels.referral_reply import PRINT_STYLE, cell, cn_day


def referral_letter(appeal: dict[str, Any], centre: str) -> str:
    """The letter as HTML. Marked a draft while the appeal has not been referred."""
    ref = appeal.get("referral") or {}
    reply = next((d for d in appeal["deadlines"] if d["rule"] == "appeal_reply_30d"), None)
    who = appeal["appellant"]
    rows = [
        ("申诉编号", appeal["number"]),
        ("收到申诉日期", cn_day(appeal["received_at"])),
        ("受理日期", cn_day(appeal.get("decided_at")) if appeal.get("decision") else ""),
        ("申诉人", who.get("name")),
        ("联系电话", who.get("phone")),
        ("联系地址", who.get("address")),
        ("被申诉企业", appeal.get("operator_name")),
        ("申诉要求", appeal.get("request")),
        ("申诉理由", appeal.get("reasons")),
        ("事实根据", appeal.get("facts")),
        ("请于此日前答复", cn_day(ref.get("operator_due_on"))),
        (
            "答复申诉人期限",
            f"{cn_day(reply['due_at'])}（电信条例第三十九条：自收到申诉之日起30日内）"
            if reply and reply.get("due_at")
            else "",
        ),
    ]
    answer = [
        ("企业答复日期", cn_day(ref.get("answered_at"))),
        ("企业投诉单号", ref.get("operator_complaint")),
        ("答复内容", ref.get("answer")),
    ]
    table = "\n".join(f"<tr><th>{escape(k)}</th><td>{cell(v)}</td></tr>" for k, v in rows)
    answered = "\n".join(f"<tr><th>{escape(k)}</th><td>{cell(v)}</td></tr>" for k, v in answer)
    draft = (
        ""
        if ref
        else '<p class="pending">草稿：本申诉尚未转办（受理后转企业处理时生成正式转办函）。</p>'
    )
    pending = "" if ref.get("answer") else '<p class="pending">企业尚未答复。</p>'
    to = escape(appeal.get("operator_name") or "被申诉企业")
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>申诉转办函 {escape(appeal["number"])}</title>
<style>{PRINT_STYLE}</style></head><body>
<h1>申诉转办函</h1>
{draft}
<p>{to}：</p>
<p>本中心受理了以下电信用户申诉，现转你单位核实处理，请于所列日期前将处理情况书面答复本中心。
答复期限为本中心规定；本中心须自收到申诉之日起30日内向申诉人作出答复（《中华人民共和国电信条例》第三十九条）。</p>
<table>{table}</table>
<h2>企业答复</h2>
{pending}
<table>{answered}</table>
<p class="sign">{escape(centre)}<br>{cn_day(ref.get("referred_at"))}</p>
<p class="noprint"><button onclick="window.print()">打印</button></p>
</body></html>"""
