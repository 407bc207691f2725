"""Whether the centre may accept an appeal (pure): 电信用户申诉处理办法 第十条, 第十一条, 第十三条.

第十条 lists the conditions an appeal must meet, 第十一条 the cases the centre does not
accept, 第十三条 第二款 what it does when the user never complained to the operator (tells
them to complain first). `check` gives one entry per 项, in article order, each with the
held text it rests on, whether it stops acceptance (`met`: True = nothing in this item
stops it, False = it stops it, None = the data cannot tell and the officer must confirm)
and the evidence: what in the data decided it, or what the officer has to verify.

What data decides: a named operator (第十条（二）), a request and facts (（三）), the
complaint to the operator first and its 15 days (（四）), the five months / two years
(第十一条（一）), the centre's own earlier appeals (（三）), and 第十一条（五） from 第十条.
When the operator is connected, its own complaint record (`operator_record`, fetched from
its kesu) is weighed into （四） by appeals.operator_evidence. What only the officer can say
is recorded in `declared` (True/False/None each):
`direct_interest` (第十条（一）), `settled` (第十一条（二）), `other_body` (（四）),
`other_law` (（六）); absent counts as not yet confirmed (None). `already_handled`, when
given, is the officer's word on 第十一条（三） and overrides the likeness of the texts.
Days, months and years are counted as 民法典 第二百零一条、第二百零二条 say
(appeals.civil_periods); "提起申诉时" is the day the centre received the appeal.

`earlier`: the same appellant's earlier appeals against the same operator, each {number,
status, decision, reason (the rejection code, when not accepted), request, facts,
received_at}. The same matter: the same request, or request + facts alike (character
bigrams, Jaccard ≥ 0.5). Appeals received after this one, this one itself (by `number`),
and those sent back because the user had not complained first (decision `redirected`, or
`not_accepted` with reason `10-4`) do not count.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from kesu.appeals import operator_evidence
from kesu.appeals.acceptance_items import (
    ANSWER_DAYS,
    DECLARED,
    ITEMS,
    REDIRECT_CITATION,
    REGULATION,
    reasons_for_rejection,
    redirect_text,
    rejection_text,
)
from kesu.appeals.civil_periods import (
    DAYS_RULE,
    MONTHS_RULE,
    chinese_date,
    last_day_after_days,
    last_day_after_months,
    last_day_after_years,
)

FEE_MONTHS = 5  # 第十一条（一）
OTHER_YEARS = 2
MIN_TEXT = 5  # a request or facts shorter than this is not 具体 (第十条（三）): centre policy
SAME_MATTER = 0.5  # character-bigram Jaccard of request + facts: the same matter
HOLIDAY_SPAN = 8  # days after a period's end within which 第二百零三条 could have moved it


def _entry(code: str, met: bool | None, evidence: str, decides: str | None = None) -> dict:
    article, item, text, default = ITEMS[code]
    return {
        "code": code,
        "article": article,
        "item": item,
        "citation": f"{REGULATION}{article}{item}",
        "text": text,
        "met": met,
        "evidence": evidence,
        "decides": decides or default,
        "redirect": False,
    }


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _declared(code: str, declared: Mapping[str, Any]) -> dict:
    key, true_means_met, said_true, said_false, verify = DECLARED[code]
    value = declared.get(key)
    if value is None:
        return _entry(code, None, f"需受理人员核实：{verify}")
    if not isinstance(value, bool):
        raise ValueError(f"declared.{key} must be true, false or null, not {value!r}")
    met = value if true_means_met else not value
    return _entry(code, met, said_true if value else said_false)


def _operator(appeal: Mapping[str, Any]) -> dict:
    name = appeal.get("operator_name")
    code = appeal.get("operator")
    if _blank(name) and _blank(code):
        return _entry("10-2", False, "申诉未写明被申诉人（电信业务经营者）。")
    named = str(name).strip() if not _blank(name) else str(code).strip()
    return _entry("10-2", True, f"被申诉人：{named}。")


def _text_length(value: Any) -> int:
    return 0 if _blank(value) else len(re.sub(r"\s+", "", str(value)))


def _request(appeal: Mapping[str, Any]) -> dict:
    faults = []
    for key, label in (("request", "申诉请求"), ("facts", "事实根据")):
        n = _text_length(appeal.get(key))
        if n == 0:
            faults.append(f"未写明{label}")
        elif n < MIN_TEXT:
            shown = re.sub(r"\s+", "", str(appeal[key]))
            faults.append(f"{label}仅“{shown}”（不足{MIN_TEXT}个字），不够具体")
    if faults:
        return _entry("10-3", False, "；".join(faults) + "。")
    return _entry(
        "10-3",
        True,
        f"申诉请求（{_text_length(appeal['request'])}字）和事实根据"
        f"（{_text_length(appeal['facts'])}字）均已写明。",
    )


def _holiday_note(last_day: date, received: date) -> str:
    """第二百零三条: a last day on a statutory holiday moves; said when it could matter."""
    if 0 < (received - last_day).days <= HOLIDAY_SPAN:
        return (
            f"（如{chinese_date(last_day)}为法定休假日，依《民法典》第二百零三条，"
            "期间的最后一日顺延至休假日结束的次日，请核对。）"
        )
    return ""


def _complained(appeal: Mapping[str, Any], received: date, today: date) -> dict:
    complained = appeal.get("complained_at")
    if complained is None:
        entry = _entry(
            "10-4",
            False,
            "申诉人未就申诉事项向被申诉人投诉。依第十三条第二款，应告知申诉人先向"
            "电信业务经营者投诉。",
        )
        entry["redirect"] = True
        return entry
    said = f"申诉人于{chinese_date(complained)}向被申诉人投诉"
    if complained > received:
        return _entry(
            "10-4",
            None,
            f"需受理人员核实：{said}，晚于本中心收到申诉的日期{chinese_date(received)}。",
            "officer",
        )
    answered = appeal.get("operator_answered_at")
    if answered is not None and answered <= received:
        return _entry(
            "10-4",
            True,
            f"{said}，被申诉人于{chinese_date(answered)}答复，申诉人对处理结果不满意而提出申诉。",
        )
    last = last_day_after_days(complained, ANSWER_DAYS)
    period = (
        f"{ANSWER_DAYS}日答复期间自次日起算，至{chinese_date(last)}届满"
        f"（{DAYS_RULE}：开始的当日不计入）"
    )
    if received > last:
        return _entry(
            "10-4",
            True,
            f"{said}，{period}；被申诉人未在{ANSWER_DAYS}日内答复，本中心于"
            f"{chinese_date(received)}收到申诉。{_holiday_note(last, received)}",
        )
    evidence = (
        f"{said}，{period}；本中心于{chinese_date(received)}收到申诉时被申诉人尚未答复，"
        f"{ANSWER_DAYS}日期间尚未届满。"
    )
    if today > last:
        evidence += "现期间已届满，被申诉人仍未答复的，申诉人可再次提出申诉。"
    return _entry("10-4", False, evidence)


def _time_bar(appeal: Mapping[str, Any], received: date) -> dict:
    dispute = appeal.get("dispute")
    occurred = appeal.get("occurred_at")
    if dispute not in ("fee", "other"):
        return _entry(
            "11-1",
            None,
            "需受理人员核实：申诉是否属于收费争议（收费争议五个月，其他申诉二年）。",
            "officer",
        )
    kind, span = ("收费争议", "五个月") if dispute == "fee" else ("其他申诉", "二年")
    if occurred is None:
        return _entry(
            "11-1",
            None,
            f"需受理人员核实：申诉事项发生的日期（{kind}，距提起申诉时不得超过{span}）。",
            "officer",
        )
    if occurred > received:
        return _entry(
            "11-1",
            None,
            f"需受理人员核实：申诉事项发生日期{chinese_date(occurred)}晚于本中心收到申诉的"
            f"日期{chinese_date(received)}。",
            "officer",
        )
    last = (
        last_day_after_months(occurred, FEE_MONTHS)
        if dispute == "fee"
        else last_day_after_years(occurred, OTHER_YEARS)
    )
    said = (
        f"{kind}：申诉事项发生于{chinese_date(occurred)}，{span}期间至{chinese_date(last)}届满"
        f"（依{MONTHS_RULE}计算），本中心于{chinese_date(received)}收到申诉，"
    )
    if received <= last:
        return _entry("11-1", True, f"{said}未超过{span}。")
    return _entry("11-1", False, f"{said}已超过{span}。{_holiday_note(last, received)}")


# ---- 第十一条（三）: the centre's own earlier appeals -----------------------------------


def _normalised(text: str) -> str:
    return "".join(ch for ch in text if ch.isalnum()).lower()


def _bigrams(text: str) -> set[str]:
    text = _normalised(text)
    if len(text) < 2:
        return {text} if text else set()
    return {text[i : i + 2] for i in range(len(text) - 1)}


def likeness(a: str, b: str) -> float:
    """How alike two texts are: the Jaccard index of their character bigrams (0…1)."""
    x, y = _bigrams(a), _bigrams(b)
    if not x or not y:
        return 0.0
    return len(x & y) / len(x | y)


def _matter(row: Mapping[str, Any]) -> str:
    return f"{row.get('request') or ''}{row.get('facts') or ''}"


def same_matter(appeal: Mapping[str, Any], other: Mapping[str, Any]) -> tuple[bool, float]:
    """Whether two appeals are about the same matter: the same request, or request + facts
    alike (likeness ≥ SAME_MATTER); with the likeness."""
    score = likeness(_matter(appeal), _matter(other))
    req_a = _normalised(str(appeal.get("request") or ""))
    same_request = bool(req_a) and req_a == _normalised(str(other.get("request") or ""))
    return same_request or score >= SAME_MATTER, score


def _not_counted(row: Mapping[str, Any]) -> bool:
    """An earlier appeal sent back because the user had not complained to the operator first
    (第十三条, or not accepted on 第十条（四）) was never handled by the centre."""
    return row.get("decision") == "redirected" or (
        row.get("decision") == "not_accepted" and row.get("reason") == "10-4"
    )


def _earlier(appeal: Mapping[str, Any], received: date, earlier: Sequence[Mapping]) -> dict:
    own = appeal.get("number")
    rows = [
        r
        for r in earlier
        if (own is None or r.get("number") != own)
        and (r.get("received_at") is None or r["received_at"] <= received)
    ]
    skipped = [r for r in rows if _not_counted(r)]
    found = []
    for r in rows:
        if _not_counted(r):
            continue
        same, score = same_matter(appeal, r)
        if same:
            when = r.get("received_at")
            how = f"相似度{score:.2f}" if score >= SAME_MATTER else "申诉请求相同"
            found.append(
                f"{r.get('number')}（{chinese_date(when) if when else '日期不详'}收到，{how}）"
            )
    if found:
        met, evidence = (
            False,
            f"本中心已受理或处理过申诉人对同一被申诉人同一事项的申诉：{'、'.join(found)}。",
        )
    elif len(rows) > len(skipped):
        met, evidence = (
            True,
            f"申诉人此前对同一被申诉人的{len(rows) - len(skipped)}件申诉与本次申诉事项不同"
            f"（申诉请求不同，且请求与事实的相似度低于{SAME_MATTER}）。",
        )
    else:
        met, evidence = True, "本中心没有申诉人对同一被申诉人的其他申诉记录。"
    if skipped:
        numbers = "、".join(str(r.get("number")) for r in skipped)
        evidence += f"（{numbers} 因未先向被申诉人投诉而未受理，不计入。）"
    said = (appeal.get("declared") or {}).get("already_handled")
    if said is None:
        return _entry("11-3", met, evidence)
    if not isinstance(said, bool):
        raise ValueError(f"declared.already_handled must be true, false or null, not {said!r}")
    verb = "已经受理或处理过该事项" if said else "未受理或处理过该事项"
    return _entry("11-3", not said, f"受理人员确认：本中心{verb}。记录显示：{evidence}", "officer")


def _article_10(ten: Sequence[dict]) -> dict:
    failed = [c["item"] for c in ten if c["met"] is False]
    open_ = [c["item"] for c in ten if c["met"] is None]
    if failed:
        return _entry("11-5", False, f"不符合第十条{'、'.join(failed)}规定的申诉条件。")
    if open_:
        return _entry("11-5", None, f"需受理人员核实：第十条{'、'.join(open_)}尚待确认。")
    return _entry("11-5", True, "符合第十条规定的全部申诉条件。")


def check(
    appeal: Mapping[str, Any], today: date, earlier: Sequence[Mapping[str, Any]] = ()
) -> list[dict[str, Any]]:
    """Each item of 第十条 and 第十一条 for `appeal`, in article order (see the module doc)."""
    received = appeal.get("received_at") or today
    declared = appeal.get("declared") or {}
    ten = [
        _declared("10-1", declared),
        _operator(appeal),
        _request(appeal),
        operator_evidence.weigh(
            _complained(appeal, received, today), appeal, appeal.get("operator_record"), received
        ),
    ]
    eleven = [
        _time_bar(appeal, received),
        _declared("11-2", declared),
        _earlier(appeal, received, earlier),
        _declared("11-4", declared),
        _article_10(ten),
        _declared("11-6", declared),
    ]
    return ten + eleven


def verdict(conditions: list[dict]) -> dict:
    """acceptable: False when an item stops acceptance, None while one is open, else True;
    redirect: the user never complained to the operator (第十三条 第二款: tell them to
    complain first)."""
    blocking = [c for c in conditions if c["met"] is False]
    open_ = [c for c in conditions if c["met"] is None]
    redirect = any(c.get("redirect") for c in blocking)
    return {
        "acceptable": False if blocking else (None if open_ else True),
        "blocking": blocking,
        "open": open_,
        "redirect": redirect,
        "redirect_citation": REDIRECT_CITATION if redirect else None,
    }


__all__ = [
    "check",
    "verdict",
    "likeness",
    "same_matter",
    "reasons_for_rejection",
    "redirect_text",
    "rejection_text",
]
