"""Email leaves through a real SMTP server (aiosmtpd, started by the test), with login:
Chinese subject and body in UTF-8, a plain-text and an HTML part, the complaint number in
the subject, a Message-ID made from the message's stable id, Auto-Submitted."""

from __future__ import annotations

import email
import socket
from dataclasses import replace
from email.policy import default

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from kesu.channels import delivery, outbox
from kesu.runtime import Runtime
from kesu.store.db import write


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.logins: list[tuple[str, str]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        user, password = auth_data.login.decode(), auth_data.password.decode()
        self.logins.append((user, password))
        return AuthResult(success=(user, password) == ("kesu", "p@ss word"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    inbox = Inbox()
    port = _free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=inbox.authenticate,
        auth_require_tls=False,
    )
    controller.start()
    yield inbox, port
    controller.stop()


def test_an_email_reaches_a_real_smtp_server_and_reads_well(rt, smtp):
    inbox, port = smtp
    live = Runtime(
        settings=replace(
            rt.settings,
            smtp_url=f"smtp://kesu:p%40ss%20word@127.0.0.1:{port}",
            mail_from="客诉中心 <kesu@example.cn>",
        ),
        engine=rt.engine,
        clock=rt.clock,
    )
    body = "您好：\n\n投诉单 TS20261128-0001 已超过预警时限，请尽快处理。\n\n客诉系统"
    with write(live.engine) as conn:
        uid = outbox.enqueue(
            conn,
            live.clock(),
            "email",
            "zhang.wei@example.cn",
            body,
            "deadline_warning",
            subject="【临期预警】TS20261128-0001 计费争议",
        )
    assert delivery.deliver(live) == {"sent": 1, "retry": 0, "dead": 0}
    assert inbox.logins == [("kesu", "p@ss word")]
    ((mail_from, rcpt, raw),) = inbox.messages
    assert mail_from == "kesu@example.cn" and rcpt == ["zhang.wei@example.cn"]
    msg = email.message_from_bytes(raw, policy=default)
    assert msg["Subject"] == "【临期预警】TS20261128-0001 计费争议"
    assert msg["Message-ID"] == f"<{uid}@example.cn>"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg.get_content_type() == "multipart/alternative"
    plain = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert plain.get_content_charset() == "utf-8" and html.get_content_charset() == "utf-8"
    assert "TS20261128-0001 已超过预警时限" in plain.get_content()
    assert "<p>投诉单 TS20261128-0001 已超过预警时限，请尽快处理。</p>" in html.get_content()
    assert outbox.counts(live)["sent"] == 1


def test_a_refused_login_is_an_error_kept_for_the_retry(rt, smtp):
    inbox, port = smtp
    live = Runtime(
        settings=replace(
            rt.settings, smtp_url=f"smtp://kesu:wrong@127.0.0.1:{port}", gateway_timeout=3
        ),
        engine=rt.engine,
        clock=rt.clock,
    )
    with write(live.engine) as conn:
        outbox.enqueue(conn, live.clock(), "email", "a@example.cn", "正文", "t", subject="主题")
    assert delivery.deliver(live)["retry"] == 1
    with live.engine.connect() as conn:
        (row,) = outbox.listing(conn, None, "email", 10, None)
    assert row["status"] == "pending" and row["last_error"].startswith("邮件")
    assert ("kesu", "wrong") in inbox.logins and not inbox.messages
