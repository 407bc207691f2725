from kesu.complaints import vocabulary as vocab
from kesu.triage.validity import suggest


def reasons(*args, **kwargs):
    return {s.reason: s.evidence for s in suggest(*args, **kwargs)}


def test_a_specific_telecom_complaint_raises_nothing():
    assert reasons("用户来电反映本月宽带月租多扣30元，要求退费。", operator="中国电信") == {}


def test_each_reason():
    assert "not_specific" in reasons("投诉！很差")
    assert "not_specific" in reasons("不满意")
    assert "no_contact" in reasons("宽带断网三天了没人修", has_contact=False)
    out = reasons("我的快递丢了三天了，快递员不接电话")
    assert out["out_of_scope"] == "快递"
    assert "out_of_scope" not in reasons("快递送来的手机卡激活不了，没有信号")
    assert reasons("我在中国移动营业厅办的卡被多扣费", operator="中国电信")["not_our_operator"] == (
        "中国移动"
    )
    assert "not_our_operator" not in reasons("我从移动携号转网到电信后被扣费", operator="中国电信")


def test_reasons_are_the_known_validity_reasons():
    found = set()
    for text in ("好", "快递丢了没人管啊啊啊啊"):
        found |= set(reasons(text, has_contact=False, operator="中国联通"))
    assert found <= set(vocab.VALIDITY_REASONS)
