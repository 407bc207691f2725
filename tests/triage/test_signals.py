import pytest

from kesu.complaints import vocabulary as vocab
from kesu.data_files import load_yaml
from kesu.triage.signals import detect


def flags(text):
    return {s.code: s.evidence for s in detect(text)}


@pytest.mark.parametrize(
    ("text", "code", "evidence"),
    [
        ("再不解决我就找记者曝光，发到抖音上", "media", "曝光"),
        ("今年3·15我一定要说说这事", "media", "3·15"),
        ("我已经打了12300，还要去工信部申诉", "regulator", "工信部"),
        ("我会请律师起诉你们，要求三倍赔偿", "legal", "三倍赔偿"),
        ("按消费者权益保护法假一赔三", "legal", "假一赔三"),
        ("你们这是坑人！！！", "emotion", "坑人"),
        ("家里老人七十多岁不会用手机", "vulnerable", "七十多岁"),
        ("我是钻石卡客户", "vip", "钻石卡"),
    ],
)
def test_each_flag_names_its_evidence(text, code, evidence):
    found = flags(text)
    assert code in found and evidence in found[code]


def test_plain_text_raises_nothing_and_full_width_is_read():
    assert flags("用户来电反映宽带网速慢，要求上门检测。") == {}
    assert "vip" in flags("ＶＩＰ客户")
    assert flags("我要找记者，找记者！")["media"] == ("记者",)


def test_every_flag_is_a_known_risk_flag():
    codes = set(load_yaml("triage/signals.yaml")["flags"])
    assert codes <= set(vocab.RISK_FLAGS)
