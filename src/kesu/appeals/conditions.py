"""PROVISIONAL (replaced by the full module of branch hapure): the acceptance conditions of
申诉处理办法 第十条 and the exclusions of 第十一条, as far as the data decides them.
Interface: check(appeal, today, earlier) → items; verdict(items); reasons_for_rejection();
rejection_text(code)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

REGULATION = "电信用户申诉处理办法"

ITEMS = {
    "10-1": ("第十条", "（一）", "申诉人是与申诉事项有直接利害关系的当事人"),
    "10-2": ("第十条", "（二）", "有明确的被申诉人"),
    "10-3": ("第十条", "（三）", "有具体的申诉请求和事实根据"),
    "10-4": ("第十条", "（四）", "已经向被申诉人投诉且对其处理结果不满意或者其未在15日内答复"),
    "11-1": (
        "第十一条",
        "（一）",
        "属于收费争议的申诉，申诉事项发生时距提起申诉时超过五个月的，其他申诉，"
        "申诉事项发生时距提起申诉时超过二年的",
    ),
    "11-2": ("第十一条", "（二）", "申诉人与被申诉人已经达成和解协议并执行的"),
    "11-3": ("第十一条", "（三）", "申诉受理机构已经受理或者处理的"),
    "11-4": (
        "第十一条",
        "（四）",
        "人民法院、仲裁机构、消费者组织或者其他行政机关已经受理或者处理的",
    ),
    "11-5": ("第十一条", "（五）", "不符合本办法第十条规定的申诉条件的"),
    "11-6": ("第十一条", "（六）", "国家法律、行政法规及部门规章另有规定的"),
}


def _item(code: str, met: bool | None, evidence: str, decides: str) -> dict[str, Any]:
    article, item, text = ITEMS[code]
    return {
        "code": code,
        "article": article,
        "item": item,
        "citation": f"{REGULATION}{article}{item}",
        "text": text,
        "met": met,
        "evidence": evidence,
        "decides": decides,
    }


def _declared(appeal: Mapping[str, Any], key: str) -> bool | None:
    value = (appeal.get("declared") or {}).get(key)
    return value if isinstance(value, bool) else None


def check(
    appeal: Mapping[str, Any], today: date, earlier: Sequence[Mapping[str, Any]] = ()
) -> list[dict[str, Any]]:
    out = []
    di = _declared(appeal, "direct_interest")
    out.append(_item("10-1", di, "需受理人员核实：申诉人是否为直接利害关系人。", "officer"))
    op = appeal.get("operator") or appeal.get("operator_name")
    out.append(_item("10-2", bool(op), f"被申诉人：{op}" if op else "未写明被申诉人。", "data"))
    req, facts = (appeal.get("request") or "").strip(), (appeal.get("facts") or "").strip()
    out.append(_item("10-3", bool(req and facts), "申诉请求与事实根据已写明。", "data"))
    complained = appeal.get("complained_at")
    answered = appeal.get("operator_answered_at")
    received = appeal.get("received_at") or today
    if complained is None:
        out.append(_item("10-4", False, "申诉人未向被申诉企业投诉过。", "data"))
    elif answered is not None:
        out.append(_item("10-4", True, f"{complained} 投诉，企业 {answered} 答复。", "data"))
    elif received > complained + timedelta(days=15):
        out.append(_item("10-4", True, f"{complained} 投诉，15日内未获答复。", "data"))
    else:
        out.append(_item("10-4", False, f"{complained} 投诉，15日期限尚未届满。", "data"))
    occurred = appeal.get("occurred_at")
    if occurred is None:
        out.append(_item("11-1", None, "需受理人员核实：争议事项发生日期。", "officer"))
    else:
        limit = 150 if appeal.get("dispute") == "fee" else 730
        late = (received - occurred).days > limit
        out.append(_item("11-1", not late, f"争议事项发生于 {occurred}。", "data"))
    settled = _declared(appeal, "settled")
    out.append(
        _item("11-2", None if settled is None else not settled, "需受理人员核实。", "officer")
    )
    same = [e for e in earlier if e.get("decision") == "accepted"]
    out.append(
        _item(
            "11-3",
            not same,
            f"已受理过：{same[0]['number']}" if same else "无同一事项的已受理申诉。",
            "data",
        )
    )
    other = _declared(appeal, "other_body")
    out.append(_item("11-4", None if other is None else not other, "需受理人员核实。", "officer"))
    tenth = [c["met"] for c in out if c["article"] == "第十条"]
    met5 = False if False in tenth else (None if None in tenth else True)
    out.append(_item("11-5", met5, "见第十条各项。", "data"))
    law = _declared(appeal, "other_law")
    out.append(_item("11-6", None if law is None else not law, "需受理人员核实。", "officer"))
    return out


def verdict(items: list[dict[str, Any]]) -> dict[str, Any]:
    blocking = [c for c in items if c["met"] is False]
    open_ = [c for c in items if c["met"] is None]
    acceptable = False if blocking else (None if open_ else True)
    redirect = any(
        c["code"] == "10-4" and c["met"] is False and "未向" in c["evidence"] for c in items
    )
    return {"acceptable": acceptable, "blocking": blocking, "open": open_, "redirect": redirect}


def reasons_for_rejection() -> list[dict[str, Any]]:
    return [
        {
            "code": code,
            "article": a,
            "item": i,
            "citation": f"{REGULATION}{a}{i}",
            "text": text,
        }
        for code, (a, i, text) in ITEMS.items()
    ]


def rejection_text(code: str) -> str:
    a, i, text = ITEMS.get(code, ("", "", ""))
    return f"依据《{REGULATION}》{a}{i}：{text}。"
