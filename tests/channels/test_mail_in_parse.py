"""Mail read as Chinese mail clients send it (channels.mail_parse, pure): every charset
and transfer encoding, HTML only, attachments, what is an auto-reply, a bounce or kesu's
own mail, the complaint number and the phone number in it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kesu.channels import mail, mail_parse
from tests.channels import mail_messages as mm


@pytest.mark.parametrize("charset", ["utf-8", "gbk", "gb2312", "gb18030"])
@pytest.mark.parametrize("cte", ["quoted-printable", "base64"])
def test_chinese_mail_in_every_charset_and_encoding_reads_the_same(charset, cte):
    parsed = mail_parse.parse(mm.plain(charset=charset, cte=cte))
    assert parsed.kind == "customer"
    assert parsed.subject == "投诉：不知情被扣视频会员费"
    assert parsed.text == mm.COMPLAINT
    assert parsed.sender == "zhang.wei@example.cn" and parsed.sender_name == "张伟"
    assert mail_parse.phone(parsed.text) == "13912345678"


def test_gbk_characters_in_a_mail_labelled_gb2312_are_read():
    # 镕 and 喆 are in GBK, not in GB2312: clients label such mail gb2312 all the same.
    body = "客户朱镕喆反映宽带断网，电话 0371-65432100。"
    raw = mm.plain(body=body, charset="gbk", cte="base64").replace(b'"gbk"', b'"gb2312"')
    assert mail_parse.parse(raw).text == body


def test_an_html_only_mail_becomes_text():
    markup = (
        "<html><head><style>p{color:red}</style><script>alert(1)</script></head><body>"
        "<p>家里宽带每天晚上&nbsp;8&nbsp;点断网。</p><div>联系电话：<b>138 0013 8000</b></div>"
        "<p>请尽快处理&amp;回复</p></body></html>"
    )
    parsed = mail_parse.parse(mm.html_only(markup))
    assert (
        parsed.text == "家里宽带每天晚上 8 点断网。\n\n联系电话：138 0013 8000\n\n请尽快处理&回复"
    )
    assert mail_parse.phone(parsed.text) == "13800138000"


def test_attachments_are_collected_with_their_chinese_names():
    parsed = mail_parse.parse(mm.with_attachments([("账单截图.png", mm.PNG), ("合同.pdf", mm.PDF)]))
    assert [(a.filename, a.data) for a in parsed.attachments] == [
        ("账单截图.png", mm.PNG),
        ("合同.pdf", mm.PDF),
    ]
    assert parsed.text == mm.COMPLAINT


@pytest.mark.parametrize(
    "extra, subject",
    [
        ({"Auto_Submitted": "auto-replied"}, "Re: 投诉"),
        ({"X_Autoreply": "yes"}, "Re: 投诉"),
        ({"Precedence": "auto_reply"}, "Re: 投诉"),
        ({"Precedence": "bulk"}, "本周优惠"),
        ({}, "自动回复：我正在休假"),
        ({}, "Automatic reply: out of office"),
    ],
)
def test_auto_replies_are_recognised(extra, subject):
    parsed = mail_parse.parse(mm.plain(subject=subject, **extra))
    assert parsed.kind == "auto_reply"


def test_bounces_are_recognised():
    assert mail_parse.parse(mm.bounce()).kind == "bounce"
    postmaster = mm.plain(subject="投递失败", sender=("", "postmaster@example.cn"))
    assert mail_parse.parse(postmaster).kind == "bounce"
    empty_envelope = b"Return-Path: <>\r\n" + mm.plain()
    assert mail_parse.parse(empty_envelope).kind == "bounce"


def test_kesu_own_mail_is_recognised():
    sent = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
    own = mail.build(
        "abc123",
        "kesu@operator.cn",
        "li@operator.cn",
        "[TS20261128000001] 时限预警",
        "投诉单即将超期",
        sent,
    )
    parsed = mail_parse.parse(own.as_bytes(), "operator.cn")
    assert parsed.kind == "own"
    # Without its X-Kesu header, its Message-ID's domain and the sender still tell.
    del own["X-Kesu-Message-Id"]
    del own["Auto-Submitted"]
    assert mail_parse.parse(own.as_bytes(), "operator.cn").kind == "own"


def test_the_complaint_number_and_references_are_found():
    raw = mm.plain(
        subject="Re: [TS20261128000007] 您的投诉已受理",
        In_Reply_To="<abc@operator.cn>",
        References="<first@example.cn> <abc@operator.cn>",
    )
    parsed = mail_parse.parse(raw)
    assert mail_parse.complaint_number(parsed.subject) == "TS20261128000007"
    assert parsed.refs == ["<abc@operator.cn>", "<first@example.cn>"]
    assert mail_parse.complaint_number("订单号 XTS202611280000071") is None


@pytest.mark.parametrize(
    "text, phone",
    [
        ("手机：+86 139 1234 5678", "13912345678"),
        ("座机 (010) 6512-3456 或者手机15900001111", "15900001111"),
        ("座机 0371-65432100", "037165432100"),
        ("订单号 20261128123456789，金额 30 元", None),
    ],
)
def test_phone_numbers_in_the_text(text, phone):
    assert mail_parse.phone(text) == phone


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\xff\xfe garbage",
        b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain;"
        b" charset=unknown-8bit\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!notbase64\r\n",
        b"Subject: =?gb2312?B?broken?=\r\nFrom: \xd5\xc5 <a@b.cn>\r\n\r\n\xc4\xfa\xba\xc3",
    ],
)
def test_malformed_mail_never_raises(raw):
    parsed = mail_parse.parse(raw)
    assert isinstance(parsed.text, str)
