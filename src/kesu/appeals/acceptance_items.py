"""The items of 申诉处理办法 第十条 and 第十一条 as held, and what the appellant is told (pure).

The texts are quoted from data/regulations/dianxin-yonghu-shensu-chuli-banfa-2016-excerpt.md
(tests/appeals/test_conditions.py checks each against the held text). `rejection_text`:
the sentence of a decision not to accept (第十一条, or 第十条 through 第十一条（五））;
`redirect_text`: the user told to complain to the operator first (第十三条 第二款).
"""

from __future__ import annotations

REGULATION = "电信用户申诉处理办法"
ANSWER_DAYS = 15  # 第十条（四）


# code → (article, item, the item's text as held, who decides)
ITEMS: dict[str, tuple[str, str, str, str]] = {
    "10-1": ("第十条", "（一）", "申诉人是与申诉事项有直接利害关系的当事人", "officer"),
    "10-2": ("第十条", "（二）", "有明确的被申诉人", "data"),
    "10-3": ("第十条", "（三）", "有具体的申诉请求和事实根据", "data"),
    "10-4": (
        "第十条",
        "（四）",
        "已经向被申诉人投诉且对其处理结果不满意或者其未在15日内答复",
        "data",
    ),
    "11-1": (
        "第十一条",
        "（一）",
        "属于收费争议的申诉，申诉事项发生时距提起申诉时超过五个月的，其他申诉，"
        "申诉事项发生时距提起申诉时超过二年的",
        "data",
    ),
    "11-2": ("第十一条", "（二）", "申诉人与被申诉人已经达成和解协议并执行的", "officer"),
    "11-3": ("第十一条", "（三）", "申诉受理机构已经受理或者处理的", "data"),
    "11-4": (
        "第十一条",
        "（四）",
        "人民法院、仲裁机构、消费者组织或者其他行政机关已经受理或者处理的",
        "officer",
    ),
    "11-5": ("第十一条", "（五）", "不符合本办法第十条规定的申诉条件的", "data"),
    "11-6": ("第十一条", "（六）", "国家法律、行政法规及部门规章另有规定的", "officer"),
}
REDIRECT_ARTICLE = ("第十三条", "第二款")
REDIRECT_QUOTE = (
    "对于未经电信业务经营者处理的用户申诉，申诉受理机构应当告知用户先向电信业务经营者投诉。"
)
REDIRECT_CITATION = f"{REGULATION}{REDIRECT_ARTICLE[0]}{REDIRECT_ARTICLE[1]}"

# code → (declared key, whether a True declaration means the item is met,
#         the evidence when confirmed true, when confirmed false, what to verify)
DECLARED: dict[str, tuple[str, bool, str, str, str]] = {
    "10-1": (
        "direct_interest",
        True,
        "受理人员已确认：申诉人是与申诉事项有直接利害关系的当事人。",
        "受理人员确认：申诉人与申诉事项没有直接利害关系。",
        "申诉人是否为与申诉事项有直接利害关系的当事人（如号码的机主或其委托的代理人）。",
    ),
    "11-2": (
        "settled",
        False,
        "受理人员确认：申诉人与被申诉人已经达成和解协议并已执行。",
        "受理人员已确认：申诉人与被申诉人没有达成和解协议，或协议未执行。",
        "申诉人与被申诉人是否已经达成和解协议并执行。",
    ),
    "11-4": (
        "other_body",
        False,
        "受理人员确认：人民法院、仲裁机构、消费者组织或其他行政机关已经受理或处理该事项。",
        "受理人员已确认：该事项未由人民法院、仲裁机构、消费者组织或其他行政机关受理或处理。",
        "该事项是否已由人民法院、仲裁机构、消费者组织或其他行政机关受理或处理。",
    ),
    "11-6": (
        "other_law",
        False,
        "受理人员确认：国家法律、行政法规或部门规章对该事项另有规定。",
        "受理人员已确认：未发现国家法律、行政法规或部门规章对该事项另有规定。",
        "国家法律、行政法规或部门规章对该事项是否另有规定。",
    ),
}


def citation(code: str) -> str:
    article, item, _text, _decides = ITEMS[code]
    return f"{REGULATION}{article}{item}"


def redirect_text() -> str:
    """What the user is told when they never complained to the operator (第十三条 第二款)."""
    return (
        f"根据《{REGULATION}》{REDIRECT_ARTICLE[0]}{REDIRECT_ARTICLE[1]}，"
        f"“{REDIRECT_QUOTE}”您尚未就申诉事项向电信业务经营者投诉，请先向其投诉；"
        f"您对其处理结果不满意，或其未在{ANSWER_DAYS}日内答复的，可以再向本中心申诉。"
    )


def reasons_for_rejection() -> list[dict]:
    """The items an officer may give as the reason for not accepting (不予受理)."""
    out = []
    for code, (article, item, text, _decides) in ITEMS.items():
        out.append(
            {
                "code": code,
                "article": article,
                "item": item,
                "citation": f"{REGULATION}{article}{item}",
                "text": text,
            }
        )
    return out


def rejection_text(code: str) -> str:
    """The sentence the appellant is told, naming the article and item (ValueError if the
    code is not one of reasons_for_rejection())."""
    if code not in ITEMS:
        raise ValueError(f"unknown reason {code!r}: one of {', '.join(ITEMS)}")
    article, item, text, _decides = ITEMS[code]
    if article == "第十条":
        return (
            f"经审查，您的申诉不符合《{REGULATION}》{article}{item}规定的申诉条件"
            f"（“{text}”），依据该办法第十一条（五），本中心决定不予受理。"
        )
    return (
        f"经审查，您的申诉属于《{REGULATION}》{article}{item}规定的情形"
        f"（“{text}”），本中心决定不予受理。"
    )
