"""How a dissatisfied customer is told to appeal (appeals.recourse)."""

from __future__ import annotations

from kesu.appeals import recourse


def test_appeal_info_quotes_the_reply_data():
    from kesu.data_files import load_yaml

    common = load_yaml("law/replies.yaml")["common"]

    class _Rt:
        class settings:
            hotline = "【客服热线】"

    a = recourse.appeal_info(_Rt, "河南省")
    assert a["text"] in common["recourse"]
    assert a["province_text"] == common["recourse_by_province"]["河南省"]["text"]
    assert a["hotline"] is None  # the placeholder is not shown
    assert recourse.appeal_info(_Rt, "北京市")["province_text"] is None
