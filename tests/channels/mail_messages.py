"""Real mail, built with the `email` package as Chinese mail clients send it: GBK,
GB18030 and UTF-8 text, quoted-printable or base64, HTML only, attachments, auto-replies,
bounces, kesu's own mail and replies to it. Shared by the tests of mail in."""

from __future__ import annotations

import base64
import quopri
from email.header import Header
from email.message import Message
from email.mime.application import MIMEApplication
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.utils import make_msgid

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64

COMPLAINT = (
    "您好，我的手机号 139-1234-5678 上个月被扣了 30 元的视频会员费，"
    "我从来没有订过这个业务，要求退还费用并取消。"
)


def text_part(body: str, charset: str, cte: str, subtype: str = "plain") -> MIMENonMultipart:
    part = MIMENonMultipart("text", subtype, charset=charset)
    data = body.encode(charset)
    if cte == "quoted-printable":
        payload = quopri.encodestring(data).decode("ascii")
    else:
        payload = base64.encodebytes(data).decode("ascii")
    part["Content-Transfer-Encoding"] = cte
    part.set_payload(payload)
    return part


def headers(
    msg,
    subject: str,
    charset: str = "utf-8",
    sender: tuple[str, str] = ("张伟", "zhang.wei@example.cn"),
    msgid: str | None = None,
    **extra: str,
):
    name, address = sender
    msg["From"] = f"{Header(name, charset).encode()} <{address}>" if name else address
    msg["To"] = "kefu@operator.cn"
    msg["Subject"] = Header(subject, charset).encode()
    msg["Date"] = "Sat, 28 Nov 2026 09:30:00 +0800"
    msg["Message-ID"] = msgid or make_msgid(domain="example.cn")
    for name, value in extra.items():
        msg[name.replace("_", "-")] = value
    return msg


def plain(
    body: str = COMPLAINT,
    subject: str = "投诉：不知情被扣视频会员费",
    charset: str = "utf-8",
    cte: str = "base64",
    **kw,
) -> bytes:
    return headers(text_part(body, charset, cte), subject, charset, **kw).as_bytes()


def html_only(body_html: str, subject: str = "投诉网络问题", charset: str = "gbk", **kw) -> bytes:
    return headers(
        text_part(body_html, charset, "quoted-printable", "html"), subject, charset, **kw
    ).as_bytes()


def with_attachments(files: list[tuple[str, bytes]], body: str = COMPLAINT, **kw) -> bytes:
    msg = MIMEMultipart("mixed")
    msg.attach(text_part(body, "gb18030", "base64"))
    for name, data in files:
        part = MIMEApplication(data)
        part.add_header("Content-Disposition", "attachment", filename=("utf-8", "", name))
        msg.attach(part)
    return headers(msg, "投诉附证据", "gb18030", **kw).as_bytes()


def bounce(original_subject: str = "投诉单 TS20261128000001") -> bytes:
    msg = MIMEMultipart("report", report_type="delivery-status")
    msg.attach(text_part("邮件无法投递：收件人不存在。", "utf-8", "base64"))
    status = MIMEBase("message", "delivery-status")
    mta, recipient = Message(), Message()
    mta["Reporting-MTA"] = "dns; mx.example.cn"
    recipient["Final-Recipient"] = "rfc822; nobody@example.cn"
    recipient["Action"] = "failed"
    recipient["Status"] = "5.1.1"
    status.set_payload([mta, recipient])
    msg.attach(status)
    return headers(
        msg, "系统退信：" + original_subject, sender=("", "MAILER-DAEMON@mx.example.cn")
    ).as_bytes()
