"""Pure: one outgoing email built for Chinese readers and for threading: UTF-8 subject
and body, a plain-text part and an HTML part, a Message-ID made from the message's stable
id, and `Auto-Submitted: auto-generated` so that mail servers do not answer it."""

from __future__ import annotations

import html
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid


def message_id(uid: str, sender: str) -> str:
    """`<uid@domain>`: the same id on every attempt, so a duplicate can be recognised."""
    domain = sender.rpartition("@")[2] or "kesu.localhost"
    return f"<{uid}@{domain}>"


def html_body(text: str) -> str:
    """The plain text as simple HTML: paragraphs on blank lines, line breaks kept."""
    paragraphs = [p for p in text.strip().split("\n\n") if p.strip()]
    inner = "\n".join(
        "<p>" + "<br>\n".join(html.escape(line) for line in p.splitlines()) + "</p>"
        for p in paragraphs
    )
    return (
        '<!doctype html>\n<html lang="zh-CN"><head><meta charset="utf-8"></head>'
        f'<body style="font-family: sans-serif; line-height: 1.6">\n{inner}\n</body></html>\n'
    )


def build(
    uid: str, sender: str, recipient: str, subject: str, body: str, sent: datetime
) -> EmailMessage:
    msg = EmailMessage(policy=SMTP)
    msg["From"] = sender
    msg["To"] = recipient
    msg["Subject"] = subject
    msg["Date"] = format_datetime(sent)
    msg["Message-ID"] = message_id(uid, sender) if uid else make_msgid()
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Kesu-Message-Id"] = uid
    msg.set_content(body, charset="utf-8")
    msg.add_alternative(html_body(body), subtype="html", charset="utf-8")
    return msg
