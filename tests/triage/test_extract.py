import pytest

from kesu.law.numerals import cn_number
from kesu.triage.extract import extract


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("39", 39),
        ("一千二百", 1200),
        ("十五", 15),
        ("两", 2),
        ("3.5", 3.5),
        ("两万", 20000),
        ("一百零五", 105),
        ("二十", 20),
    ],
)
def test_chinese_numbers(text, value):
    assert cn_number(text) == value


def test_a_hotline_work_order():
    facts = extract(
        "客户来电反映号码13812345678上个月被多扣了一百二十元，宽带断网三天，"
        "11月3号报修至今两个小时无人联系，要求退还39块并取消视频会员。宽带账号ad5512345678"
    )
    assert facts["phones"] == ["13812345678"]
    assert [a["yuan"] for a in facts["amounts"]] == [120, 39]
    assert {"text": "11月3号", "month": 11, "day": 3} in facts["dates"]
    assert {"text": "上个月", "relative": "last_month"} in facts["dates"]
    assert [d["hours"] for d in facts["durations"]] == [72, 2]
    assert "视频会员" in "".join(facts["products"])
    assert facts["accounts"] == ["ad5512345678"]


def test_months_dates_and_tails():
    facts = extract("8月份开始每月扣10元/月的彩铃费，尾号6621，已经三个月了")
    assert {"text": "8月份", "month": 8} in facts["dates"]
    assert facts["phone_tails"] == ["6621"]
    assert facts["durations"] == [{"text": "三个月", "hours": 2160}]
    assert facts["amounts"] == []  # a monthly price, not an amount charged


def test_nothing_to_extract():
    assert extract("态度不好")["amounts"] == []
