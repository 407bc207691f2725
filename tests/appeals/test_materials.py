"""What an appeal must contain (电信用户申诉处理办法 第十二条) and its time limits."""

from __future__ import annotations

from kesu.appeals import materials, time_limits
from kesu.law.loader import article_text
from kesu.runtime import load_rules

COMPLETE = {
    "appellant": {
        "name": "张三",
        "address": "郑州市金水区花园路1号",
        "phone": "13912345678",
        "postcode": "450000",
    },
    "respondent": {"name": "某电信运营商河南分公司", "address": "郑州市郑东新区"},
    "request": "退还多收的流量费",
    "reasons": "未订购却被扣费",
    "facts": "2026年10月账单中出现未订购的流量包费用30元",
    "date": "2026-11-20",
}


def test_complete_materials_lack_nothing():
    assert materials.missing(COMPLETE) == []
    assert materials.notice(COMPLETE) is None


def test_each_missing_item_is_named_with_the_item_of_article_12_that_requires_it():
    appeal = {**COMPLETE, "appellant": {**COMPLETE["appellant"], "postcode": " "}}
    del appeal["facts"]
    lacking = materials.missing(appeal)
    assert [m["field"] for m in lacking] == ["appellant.postcode", "facts"]
    assert lacking[0]["citation"] == "电信用户申诉处理办法第十二条（一）"
    assert lacking[1]["citation"] == "电信用户申诉处理办法第十二条（三）"
    text = materials.notice(appeal)
    assert "申诉人邮政编码、事实根据" in text and "第十二条" in text


def test_an_empty_appeal_lacks_all_ten_items():
    assert len(materials.missing({})) == len(materials.ITEMS) == 10


def test_every_item_is_in_the_held_text_of_article_12():
    held = article_text("dianxin-yonghu-shensu-chuli-banfa-2016-excerpt.md", "第十二条")
    assert held is not None
    for item in materials.ITEMS:
        assert item.item in held
    for word in ("邮政编码", "被申诉人名称", "事实根据", "申诉日期"):
        assert word in held


def test_an_appeals_time_limits_cite_their_articles():
    rules = load_rules()
    national = {r["rule"]: r for r in time_limits.for_appeals(rules)}
    assert set(national) == {"appeal_accept_5wd", "appeal_reply_30d"}
    accept = national["appeal_accept_5wd"]
    assert (accept["length"], accept["unit"]) == (5, "working_days")
    assert accept["basis"][0]["article"] == "第十四条"
    assert national["appeal_reply_30d"]["basis"][0]["article"] == "第三十九条"
    henan = {r["rule"] for r in time_limits.for_appeals(rules, "河南省")}
    assert henan == set(national) | {"henan_appeal_inform_15d"}
