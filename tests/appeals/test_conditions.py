"""Acceptance of an appeal: 电信用户申诉处理办法 第十条 (conditions), 第十一条 (exclusions),
第十三条 (never complained → told to complain first); periods as 民法典 第二百零一条、
第二百零二条 count them."""

from __future__ import annotations

from datetime import date

import pytest

from kesu.appeals import acceptance_items, civil_periods, conditions
from kesu.law.loader import article_text

BANFA = "dianxin-yonghu-shensu-chuli-banfa-2016-excerpt.md"
MINFADIAN = "minfadian-qijian-jisuan-200-204.md"
CONFIRMED = {"direct_interest": True, "settled": False, "other_body": False, "other_law": False}
BASE = {
    "appellant": {
        "name": "张三",
        "phone": "13912345678",
        "address": "郑州市",
        "postcode": "450000",
    },
    "operator": "cm",
    "operator_name": "中国移动河南公司",
    "request": "退还未经同意订购的流量包费用30元",
    "reasons": "从未订购",
    "facts": "2026年5月账单出现未订购的流量包费用30元，客服称已订购",
    "dispute": "fee",
    "occurred_at": date(2026, 5, 10),
    "complained_at": date(2026, 6, 1),
    "operator_answered_at": date(2026, 6, 5),
    "received_at": date(2026, 6, 20),
    "declared": CONFIRMED,
}
TODAY = date(2026, 6, 22)


def appeal(**changes):
    return {**BASE, **changes}


def by_code(items):
    return {c["code"]: c for c in items}


def item(code, a=None, today=TODAY, earlier=()):
    return by_code(conditions.check(a or BASE, today, earlier))[code]


def test_an_appeal_meeting_every_condition_is_acceptable_item_by_item_in_article_order():
    items = conditions.check(BASE, TODAY)
    assert [(c["article"], c["item"]) for c in items] == [
        ("第十条", "（一）"), ("第十条", "（二）"), ("第十条", "（三）"), ("第十条", "（四）"),
        ("第十一条", "（一）"), ("第十一条", "（二）"), ("第十一条", "（三）"),
        ("第十一条", "（四）"), ("第十一条", "（五）"), ("第十一条", "（六）"),
    ]  # fmt: skip
    assert all(c["met"] is True for c in items)
    assert items[3]["citation"] == "电信用户申诉处理办法第十条（四）"
    assert {c["decides"] for c in items} == {"data", "officer"}
    v = conditions.verdict(items)
    assert v["acceptable"] is True and v["blocking"] == [] and v["open"] == []
    assert v["redirect"] is False


def test_every_quoted_item_occurs_in_the_held_regulation():
    for _code, (article, it, text, _decides) in acceptance_items.ITEMS.items():
        held = article_text(BANFA, article)
        assert held is not None and f"{it}{text}" in held, (article, it)
    for entry in conditions.check(BASE, TODAY):
        assert entry["text"] in article_text(BANFA, entry["article"])
    assert acceptance_items.REDIRECT_QUOTE in article_text(BANFA, "第十三条").split("\n")[1]
    # what the evidence quotes of 民法典
    assert "开始的当日不计入" in article_text(MINFADIAN, "第二百零一条")
    assert "没有对应日的，月末日为期间的最后一日" in article_text(MINFADIAN, "第二百零二条")
    assert "以法定休假日结束的次日为期间的最后一日" in article_text(MINFADIAN, "第二百零三条")


# ---- 第十条 -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("declared", "met"), [(True, True), (False, False), (None, None), ("absent", None)]
)
def test_10_1_direct_interest_is_the_officers_word(declared, met):
    d = {k: v for k, v in CONFIRMED.items() if k != "direct_interest"}
    if declared != "absent":
        d["direct_interest"] = declared
    c = item("10-1", appeal(declared=d))
    assert c["met"] is met and c["decides"] == "officer"
    if met is None:
        assert c["evidence"].startswith("需受理人员核实：")


def test_10_2_a_named_operator():
    assert item("10-2")["evidence"] == "被申诉人：中国移动河南公司。"
    assert item("10-2", appeal(operator=None))["met"] is True  # named, not connected
    c = item("10-2", appeal(operator=None, operator_name=" "))
    assert c["met"] is False and "未写明被申诉人" in c["evidence"]


def test_10_3_a_concrete_request_and_facts():
    assert item("10-3")["met"] is True
    c = item("10-3", appeal(request="退钱"))
    assert c["met"] is False and "“退钱”" in c["evidence"] and "不足5个字" in c["evidence"]
    c = item("10-3", appeal(facts="  ", request=None))
    assert (
        c["met"] is False
        and "未写明申诉请求" in c["evidence"]
        and "未写明事实根据" in c["evidence"]
    )


def test_10_4_never_complained_fails_and_redirects_under_article_13():
    c = item("10-4", appeal(complained_at=None, operator_answered_at=None))
    assert c["met"] is False and c["redirect"] is True and "第十三条第二款" in c["evidence"]
    v = conditions.verdict(conditions.check(appeal(complained_at=None), TODAY))
    assert v["acceptable"] is False and v["redirect"] is True
    assert v["redirect_citation"] == "电信用户申诉处理办法第十三条第二款"
    assert [c["code"] for c in v["blocking"]] == ["10-4", "11-5"]
    text = conditions.redirect_text()
    assert "第十三条第二款" in text and acceptance_items.REDIRECT_QUOTE in text


def test_10_4_answered_and_unsatisfied_is_met():
    c = item("10-4")
    assert c["met"] is True and "2026年6月5日答复" in c["evidence"]


def test_10_4_fifteen_days_without_answer_counted_from_the_day_after_the_complaint():
    unanswered = {"complained_at": date(2026, 3, 1), "operator_answered_at": None}
    # the 15 days run 3 March … 16 March: on the 16th the operator still has time
    c = item("10-4", appeal(**unanswered, received_at=date(2026, 3, 16)), date(2026, 3, 16))
    assert c["met"] is False and c["redirect"] is False
    assert "2026年3月16日届满" in c["evidence"] and "第二百零一条" in c["evidence"]
    assert "现期间已届满" not in c["evidence"]
    # seen again later, the evidence says the appellant may appeal again
    later = item("10-4", appeal(**unanswered, received_at=date(2026, 3, 16)), date(2026, 3, 20))
    assert later["met"] is False and "可再次提出申诉" in later["evidence"]
    c = item("10-4", appeal(**unanswered, received_at=date(2026, 3, 17)))
    assert c["met"] is True and "未在15日内答复" in c["evidence"]
    assert "第二百零三条" in c["evidence"]  # the last day just passed: a holiday could move it
    far = item("10-4", appeal(**unanswered, received_at=date(2026, 5, 1)))
    assert far["met"] is True and "第二百零三条" not in far["evidence"]
    # an answer after the centre received the appeal does not count
    c = item("10-4", appeal(**unanswered, received_at=date(2026, 3, 10)) | {
        "operator_answered_at": date(2026, 3, 12)})  # fmt: skip
    assert c["met"] is False


def test_10_4_a_complaint_dated_after_receipt_is_for_the_officer():
    c = item("10-4", appeal(complained_at=date(2026, 6, 25)))
    assert c["met"] is None and c["decides"] == "officer"


# ---- 第十一条 ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("occurred", "received", "met", "last"),
    [
        (date(2026, 1, 31), date(2026, 6, 30), True, "2026年6月30日"),  # no 31 June: month end
        (date(2026, 1, 31), date(2026, 7, 1), False, "2026年6月30日"),
        (date(2026, 3, 15), date(2026, 8, 15), True, "2026年8月15日"),  # to the day
        (date(2026, 3, 15), date(2026, 8, 16), False, "2026年8月15日"),
        (date(2025, 9, 30), date(2026, 2, 28), True, "2026年2月28日"),
        (date(2025, 10, 31), date(2026, 3, 31), True, "2026年3月31日"),
    ],
)
def test_11_1_a_fee_dispute_more_than_five_months_old(occurred, received, met, last):
    c = item("11-1", appeal(occurred_at=occurred, received_at=received, complained_at=None))
    assert c["met"] is met and c["decides"] == "data"
    assert f"五个月期间至{last}届满" in c["evidence"]
    assert "第二百零二条" in c["evidence"]
    assert ("已超过五个月" if not met else "未超过五个月") in c["evidence"]


@pytest.mark.parametrize(
    ("occurred", "received", "met"),
    [
        (date(2024, 2, 29), date(2026, 2, 28), True),  # no 29 February 2026: month end
        (date(2024, 2, 29), date(2026, 3, 1), False),
        (date(2024, 6, 20), date(2026, 6, 20), True),
        (date(2024, 6, 20), date(2026, 6, 21), False),
    ],
)
def test_11_1_another_dispute_more_than_two_years_old(occurred, received, met):
    c = item("11-1", appeal(dispute="other", occurred_at=occurred, received_at=received))
    assert c["met"] is met and "其他申诉" in c["evidence"] and "二年" in c["evidence"]


def test_11_1_without_a_date_or_a_kind_of_dispute_the_officer_decides():
    for changes in ({"occurred_at": None}, {"dispute": None}, {"occurred_at": date(2026, 7, 1)}):
        c = item("11-1", appeal(**changes))
        assert c["met"] is None and c["decides"] == "officer"
        assert c["evidence"].startswith("需受理人员核实：")


@pytest.mark.parametrize("code,key", [("11-2", "settled"), ("11-4", "other_body"),
                                      ("11-6", "other_law")])  # fmt: skip
def test_11_2_4_6_are_the_officers_word_and_a_yes_stops_acceptance(code, key):
    assert item(code, appeal(declared={**CONFIRMED, key: True}))["met"] is False
    assert item(code, appeal(declared={**CONFIRMED, key: False}))["met"] is True
    open_ = item(code, appeal(declared={**CONFIRMED, key: None}))
    absent = item(code, appeal(declared={k: v for k, v in CONFIRMED.items() if k != key}))
    for c in (open_, absent):
        assert c["met"] is None and c["decides"] == "officer"
        assert c["evidence"].startswith("需受理人员核实：")


def test_a_declaration_that_is_not_yes_no_or_unknown_is_refused():
    with pytest.raises(ValueError, match="settled"):
        conditions.check(appeal(declared={**CONFIRMED, "settled": "yes"}), TODAY)


def earlier(number, request, facts="", decision="accepted", received=date(2026, 3, 1), **kw):
    return {"number": number, "status": "concluded", "decision": decision, "request": request,
            "facts": facts, "received_at": received, **kw}  # fmt: skip


def test_11_3_already_handled_by_the_centre_names_the_earlier_appeal():
    none = item("11-3")
    assert none["met"] is True and "没有申诉人对同一被申诉人的其他申诉记录" in none["evidence"]
    same = item("11-3", earlier=[earlier("SS1", BASE["request"])])
    assert same["met"] is False and "SS1" in same["evidence"] and "申诉请求相同" in same["evidence"]
    alike = earlier("SS2", "退还未经同意订购的流量包费用", BASE["facts"])
    c = item("11-3", earlier=[alike])
    assert c["met"] is False and "SS2" in c["evidence"] and "相似度" in c["evidence"]
    other = earlier("SS3", "宽带经常断网要求维修", "2026年4月起家中宽带每晚断线")
    c = item("11-3", earlier=[other])
    assert c["met"] is True and "1件申诉与本次申诉事项不同" in c["evidence"]


def test_11_3_earlier_appeals_that_do_not_count():
    redirected = earlier("SS4", BASE["request"], decision="redirected")
    rejected_10_4 = earlier("SS5", BASE["request"], decision="not_accepted", reason="10-4")
    later = earlier("SS6", BASE["request"], received=date(2026, 6, 21))
    itself = earlier("SS7", BASE["request"], received=date(2026, 6, 20))
    c = item("11-3", appeal(number="SS7"), earlier=[redirected, rejected_10_4, later, itself])
    assert c["met"] is True and "SS4、SS5 因未先向被申诉人投诉而未受理，不计入" in c["evidence"]
    # not accepted for another reason: the centre did handle it
    too_old = earlier("SS8", BASE["request"], decision="not_accepted", reason="11-1")
    assert item("11-3", earlier=[too_old])["met"] is False


def test_11_3_the_officers_word_overrides_the_likeness():
    a = appeal(declared={**CONFIRMED, "already_handled": False})
    c = item("11-3", a, earlier=[earlier("SS1", BASE["request"])])
    assert c["met"] is True and c["decides"] == "officer" and "SS1" in c["evidence"]


def test_likeness_is_a_bigram_jaccard():
    assert conditions.likeness("退还流量费", "退还流量费") == 1.0
    assert conditions.likeness("退还流量费", "宽带断网") == 0.0
    assert conditions.likeness("", "x") == 0.0
    # 退还 还流 流量 量费 vs 退还 还流 流量 量包: 3 shared of 5
    assert conditions.likeness("退还流量费", "退还流量包") == pytest.approx(3 / 5)


def test_11_5_follows_article_10():
    c = item("11-5", appeal(request="退钱", complained_at=None))
    assert c["met"] is False and "第十条（三）、（四）" in c["evidence"]
    c = item("11-5", appeal(declared={**CONFIRMED, "direct_interest": None}))
    assert c["met"] is None and "第十条（一）" in c["evidence"]


def test_verdict_open_items_leave_acceptance_undecided():
    v = conditions.verdict(conditions.check(appeal(declared={}), TODAY))
    assert v["acceptable"] is None and v["blocking"] == []
    assert [c["code"] for c in v["open"]] == ["10-1", "11-2", "11-4", "11-5", "11-6"]
    assert v["redirect"] is False and v["redirect_citation"] is None
    v = conditions.verdict(conditions.check(appeal(declared={**CONFIRMED, "settled": True}), TODAY))
    assert v["acceptable"] is False and [c["code"] for c in v["blocking"]] == ["11-2"]


# ---- the reasons of a decision not to accept -------------------------------------


def test_the_reasons_an_officer_may_choose():
    reasons = conditions.reasons_for_rejection()
    assert [r["code"] for r in reasons] == [
        "10-1", "10-2", "10-3", "10-4", "11-1", "11-2", "11-3", "11-4", "11-5", "11-6"
    ]  # fmt: skip
    r = reasons[4]
    assert (r["article"], r["item"]) == ("第十一条", "（一）")
    assert r["citation"] == "电信用户申诉处理办法第十一条（一）"
    for r in reasons:
        assert r["text"] in article_text(BANFA, r["article"])


@pytest.mark.parametrize("reason", conditions.reasons_for_rejection(), ids=lambda r: r["code"])
def test_each_rejection_text_names_its_article_and_item(reason):
    text = conditions.rejection_text(reason["code"])
    assert f"《电信用户申诉处理办法》{reason['article']}{reason['item']}" in text
    assert f"“{reason['text']}”" in text and "不予受理" in text
    if reason["article"] == "第十条":
        assert "第十一条（五）" in text


def test_an_unknown_reason_is_refused():
    with pytest.raises(ValueError, match="12-1"):
        conditions.rejection_text("12-1")


# ---- 民法典 期间 ---------------------------------------------------------------------


def test_civil_code_periods():
    assert civil_periods.last_day_after_days(date(2026, 12, 20), 15) == date(2027, 1, 4)
    assert civil_periods.last_day_after_months(date(2026, 1, 31), 5) == date(2026, 6, 30)
    assert civil_periods.last_day_after_months(date(2026, 9, 30), 5) == date(2027, 2, 28)
    assert civil_periods.last_day_after_months(date(2027, 9, 29), 5) == date(2028, 2, 29)
    assert civil_periods.last_day_after_months(date(2026, 8, 31), 5) == date(2027, 1, 31)
    assert civil_periods.last_day_after_years(date(2024, 2, 29), 2) == date(2026, 2, 28)
    assert civil_periods.last_day_after_years(date(2026, 2, 28), 2) == date(2028, 2, 28)
