"""Obligations: from a complaint's facts to the articles, duties and remedies."""

import pytest

from kesu.complaints import vocabulary as vocab
from kesu.data_files import load_yaml
from kesu.law import loader, obligations
from kesu.runtime import load_rules
from tests.conftest import complaint_body

CASES = [
    # (category, province, area, text, flags, expected rule, an article it must cite)
    (
        "network",
        None,
        "urban",
        "家里宽带坏了三天了，报修后一直没人来修，月租还照扣",
        [],
        "repair_overdue",
        "《中华人民共和国电信条例》第三十二条",
    ),
    (
        "network",
        None,
        "rural",
        "村里的宽带断网两天了，光猫红灯",
        [],
        "repair_pending",
        "《中华人民共和国电信条例》第三十二条",
    ),
    (
        "network",
        None,
        "rural",
        "村里的宽带断网四天了，光猫红灯",
        [],
        "repair_overdue",
        "《中华人民共和国电信条例》第三十二条",
    ),
    (
        "billing",
        None,
        "urban",
        "这个月话费突然一千多，平时才一百左右，翻了好几倍，要详单",
        [],
        "huge_bill",
        "《中华人民共和国电信条例》第三十三条第二款",
    ),
    (
        "billing",
        None,
        "urban",
        "我要查上个月的通话详单，营业厅说要收费",
        [],
        "itemised_bill",
        "《中华人民共和国电信条例》第三十三条第一款",
    ),
    (
        "billing",
        None,
        "urban",
        "才欠费三天就把我停机了，也没提前通知",
        [],
        "suspension_early",
        "《中华人民共和国电信条例》第三十四条第二款",
    ),
    (
        "billing",
        None,
        "urban",
        "昨天补交了欠费，到现在还是停机状态没恢复",
        [],
        "not_restored_after_payment",
        "《中华人民共和国电信条例》第三十四条第四款",
    ),
    (
        "network",
        None,
        "urban",
        "说是网络割接升级，断网一整天也没有提前通知",
        [],
        "works_interruption",
        "《中华人民共和国电信条例》第三十五条第三款",
    ),
    (
        "handling",
        None,
        "urban",
        "约好周一上门装机，拖了一个星期还没人来",
        [],
        "late_installation",
        "《中华人民共和国电信条例》第三十一条",
    ),
    (
        "marketing",
        None,
        "urban",
        "办宽带必须捆绑一张副卡，不然不给办",
        [],
        "forced_bundling",
        "《中华人民共和国电信条例》第四十条第（二）项",
    ),
    (
        "handling",
        None,
        "urban",
        "我要销户，营业厅推来推去就是不给销户",
        [],
        "refuse_or_delay",
        "《中华人民共和国电信条例》第四十条第（三）项",
    ),
    (
        "marketing",
        None,
        "urban",
        "宣传说不限量，用了20G就限速，说好的承诺不兑现",
        [],
        "broken_promise_or_misleading",
        "《中华人民共和国电信条例》第四十条第（四）项",
    ),
    (
        "service",
        None,
        "urban",
        "我投诉之后就被刁难，补卡也不给办，这是打击报复",
        [],
        "retaliation",
        "《中华人民共和国电信条例》第四十条第（五）项",
    ),
    (
        "handling",
        None,
        "urban",
        "想携号转网，一直不给授权码，说有合约不让转",
        [],
        "portability_obstructed",
        "《中华人民共和国电信条例》第四十一条第（一）项",
    ),
    (
        "marketing",
        None,
        "urban",
        "营业员隐瞒合约期，骗我办了两年的合约机",
        [],
        "fraud_in_sale",
        "《中华人民共和国消费者权益保护法》第五十五条第一款",
    ),
    (
        "billing",
        None,
        "urban",
        "合同里写的违约金是霸王条款，最终解释权归他们",
        [],
        "unfair_format_clause",
        "《中华人民共和国民法典》第四百九十六条",
    ),
    (
        "security",
        None,
        "urban",
        "刚办完宽带就接到推销电话，我的个人信息被泄露了",
        [],
        "personal_information",
        "《中华人民共和国个人信息保护法》第十条",
    ),
    (
        "security",
        None,
        "urban",
        "我的号码被说涉诈停机了，也不告诉我原因怎么解封",
        [],
        "fraud_suspension",
        "《中华人民共和国反电信网络诈骗法》第三十二条第三款",
    ),
    (
        "billing",
        None,
        "urban",
        "套餐多扣了20块",
        [],
        "appeal_rights_fee",
        "《电信用户申诉处理办法》第十一条第（一）项",
    ),
    (
        "service",
        None,
        "urban",
        "客服态度很差，直接挂我电话",
        [],
        "appeal_rights_other",
        "《电信用户申诉处理办法》第十条",
    ),
    (
        "service",
        "河南省",
        "urban",
        "客服态度很差，直接挂我电话",
        [],
        "henan_reply",
        "《河南省电信条例》第三十八条",
    ),
    (
        "service",
        "重庆市",
        "urban",
        "客服态度很差，直接挂我电话",
        [],
        "chongqing_reply",
        "《重庆市电信条例》第二十条第二款",
    ),
]


@pytest.mark.parametrize("category, province, area, text, flags, rule, citation", CASES)
def test_each_obligation_applies_to_its_facts(
    client, category, province, area, text, flags, rule, citation
):
    customer = {"phone": "13800001234", "area": area}
    if province:
        customer["province"] = province
    body = complaint_body(description=text, category=category, customer=customer, risk_flags=flags)
    number = client.post("/api/v1/complaints", json=body).json()["number"]
    r = client.get(f"/api/v1/complaints/{number}/obligations")
    assert r.status_code == 200, r.text
    found = {o["id"]: o for o in r.json()["obligations"]}
    assert rule in found, (rule, list(found))
    ob = found[rule]
    assert citation in [a["citation"] for a in ob["articles"]]
    assert ob["reason"] and ob["duties"] is not None and ob["risk"] in ("low", "medium", "high")
    for a in ob["articles"]:
        assert a["text"]  # quoted from the corpus


def test_repair_pending_and_overdue_depend_on_the_area(client):
    def ids(area):
        body = complaint_body(
            description="宽带断网60个小时了还没修好",
            category="network",
            customer={"phone": "13800001234", "area": area},
        )
        number = client.post("/api/v1/complaints", json=body).json()["number"]
        return {
            o["id"]
            for o in client.get(f"/api/v1/complaints/{number}/obligations").json()["obligations"]
        }

    assert "repair_overdue" in ids("urban")  # 60 h > 48 h
    assert "repair_pending" in ids("rural") and "repair_overdue" not in ids("rural")  # 60 h < 72 h


def test_legal_risk_is_raised_by_legal_flags_and_province_rules_stay_local(client):
    body = complaint_body(description="客服态度差", category="service", risk_flags=["legal"])
    number = client.post("/api/v1/complaints", json=body).json()["number"]
    r = client.get(f"/api/v1/complaints/{number}/obligations").json()
    assert r["legal_risk"] == "high" and r["legal_risk_name"] == "高"
    ids = {o["id"] for o in r["obligations"]}
    assert "henan_reply" not in ids and "chongqing_reply" not in ids  # the customer is in 广东


def test_reply_deadline_is_linked_with_its_due_time(client):
    body = complaint_body(description="套餐多扣了20块", category="billing")
    number = client.post("/api/v1/complaints", json=body).json()["number"]
    r = client.get(f"/api/v1/complaints/{number}/obligations").json()
    fee = next(o for o in r["obligations"] if o["id"] == "appeal_rights_fee")
    [link] = fee["duties"][0]["deadlines"]
    assert link["rule"] == "reply_15d" and link["on_this_complaint"] and link["state"] == "open"
    # 15 days from Sat 28 Nov end on Sun 13 Dec, extended to the next working day.
    assert link["due_at"].startswith("2026-12-14")


def test_unknown_complaint_is_404(client):
    r = client.get("/api/v1/complaints/TS20990101000001/obligations")
    assert r.status_code == 404 and r.json()["code"] == "complaint_not_found"


def _rules(data):
    return obligations.parse_rules(
        data, loader.packaged(), list(load_rules()), list(vocab.CATEGORIES)
    )


def test_every_shipped_rule_loads_and_cites_held_articles():
    rules = _rules(load_yaml("law/obligations.yaml"))
    assert len(rules) >= 20
    for rule in rules:
        for c in rule.articles:
            loader.packaged().resolve(c)


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"articles": ["《电信服务规范》第八条"]}, "未收录"),
        ({"articles": ["《中华人民共和国电信法》第十条"]}, "未收录"),
        ({"when": {"colour": ["red"]}}, "unknown condition"),
        ({"when": {"category": ["nonsense"]}}, "unknown categories"),
        ({"duties": [{"text": "x", "deadline_rules": ["no_such_rule"]}]}, "unknown deadline rule"),
    ],
)
def test_a_rule_citing_what_we_do_not_hold_does_not_load(bad, message):
    rule = {
        "id": "x",
        "title": "x",
        "reason": "x",
        "when": {},
        "articles": [],
        "risk": "low",
        **bad,
    }
    with pytest.raises(obligations.RuleError, match=message):
        _rules({"obligations": [rule]})
