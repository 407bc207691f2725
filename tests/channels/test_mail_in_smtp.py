"""Mail in through a real SMTP listener (channels.mail_smtp, started on a free port) fed
with smtplib: a mail registers a complaint on channel email with its phone number, its
raw mail and attachments as evidence; auto-replies, bounces and kesu's own mail register
nothing; a reply threads to its complaint (a closed one is flagged); the same mail twice
is one; a mail without a phone waits for an agent; a mail that cannot be stored is
refused with 451 and bad mail never stops the listener."""

from __future__ import annotations

import smtplib
import socket
from dataclasses import replace

import pytest
from sqlalchemy import select

from kesu.accounts import users
from kesu.channels import mail_held, mail_in, mail_smtp
from kesu.complaints import attachments, queries
from kesu.runtime import Runtime
from kesu.settings import Settings
from kesu.store import tables as t
from kesu.store.db import write
from tests.channels import mail_messages as mm


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live(rt):
    own = Runtime(
        settings=replace(rt.settings, mail_from="客诉中心 <kesu@operator.cn>"),
        engine=rt.engine,
        clock=rt.clock,
    )
    port = _free_port()
    server = mail_smtp.listener(own, "127.0.0.1", port)
    server.start()
    yield own, port
    server.stop()


def crlf(raw: bytes) -> bytes:
    """Lines as SMTP sends them (the `email` package writes bare LF)."""
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def send(port: int, raw: bytes, mail_from: str = "zhang.wei@example.cn") -> tuple[int, bytes]:
    """The listener's answer to the mail's DATA."""
    raw = crlf(raw)
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
        client.ehlo()
        client.mail(mail_from)
        client.rcpt("kefu@operator.cn")
        return client.data(raw)


def inbox(rt) -> list:
    with rt.engine.connect() as conn:
        return conn.execute(select(t.mail_inbox).order_by(t.mail_inbox.c.id)).all()


def complaints(rt) -> list:
    with rt.engine.connect() as conn:
        return conn.execute(select(t.complaints).order_by(t.complaints.c.id)).all()


def history(rt, number: str) -> list[dict]:
    return queries.events(rt, number)


def test_a_mail_registers_a_complaint_with_its_evidence(live):
    rt, port = live
    raw = mm.with_attachments(
        [("账单截图.png", mm.PNG), ("合同.pdf", mm.PDF), ("发票.exe", mm.EXE)]
    )
    code, answer = send(port, raw)
    assert code == 250 and answer.startswith(b"2.0.0 Stored as")
    (row,) = complaints(rt)
    view = queries.get(rt, row.number)
    assert view["channel"] == "email" and view["title"] == "投诉附证据"
    assert view["description"].startswith("您好，我的手机号")
    with rt.engine.connect() as conn:
        assert queries.find(conn, row.number).customer_phone == "13912345678"
    registered = history(rt, row.number)[0]
    intake = registered["data"]["intake"]
    assert intake["source"] == "smtp" and intake["from"] == "z***@example.cn"
    assert intake["ref"].endswith("@example.cn>")
    files = {f["filename"]: f for f in attachments.list_for(rt, row.number, "system")}
    assert set(files) == {"original.eml", "账单截图.png", "合同.pdf"}
    assert files["original.eml"]["content_type"] == "message/rfc822"
    assert files["original.eml"]["source"] == "original"
    _, kept = attachments.fetch(rt, row.number, files["original.eml"]["id"], "system")
    assert kept.endswith(crlf(raw))  # as received (after the Return-Path the listener adds)
    refused = [e for e in history(rt, row.number) if e["type"] == "attachment_refused"]
    assert refused[0]["data"]["refused"][0]["code"] == "attachment_type_refused"
    (mail,) = inbox(rt)
    assert (mail.status, mail.complaint_number, mail.raw) == ("registered", row.number, None)


def test_the_same_mail_twice_is_one_complaint(live):
    rt, port = live
    raw = mm.plain(charset="gbk", cte="quoted-printable")
    assert send(port, raw)[0] == 250
    assert send(port, raw)[0] == 250
    assert len(complaints(rt)) == 1 and len(inbox(rt)) == 1


@pytest.mark.parametrize(
    "raw, mail_from, kind",
    [
        (
            mm.plain(subject="自动回复：我正在休假", Auto_Submitted="auto-replied"),
            "a@b.cn",
            "auto_reply",
        ),
        (mm.plain(subject="Re: 投诉", X_Autoreply="yes"), "a@b.cn", "auto_reply"),
        (mm.bounce(), "", "bounce"),
        (
            mm.plain(subject="[TS20261128000001] 时限预警", X_Kesu_Message_Id="abc"),
            "kesu@operator.cn",
            "own",
        ),
    ],
)
def test_auto_replies_bounces_and_own_mail_register_nothing(live, raw, mail_from, kind):
    rt, port = live
    assert send(port, raw, mail_from)[0] == 250
    assert complaints(rt) == []
    (mail,) = inbox(rt)
    assert (mail.status, mail.kind, mail.raw) == ("ignored", kind, None)


def test_a_reply_threads_to_its_complaint_and_a_closed_one_is_flagged(live):
    rt, port = live
    first = mm.plain(msgid="<first-mail@example.cn>")
    assert send(port, first)[0] == 250
    (row,) = complaints(rt)
    # The customer answers their own first mail (In-Reply-To), with a new photo.
    reply = mm.with_attachments(
        [("信号截图.png", mm.PNG)],
        body="补充：今天又扣了一次费。",
        In_Reply_To="<first-mail@example.cn>",
    )
    assert send(port, reply)[0] == 250
    # A mail naming the number in its subject, like a reply to kesu's own mail.
    by_subject = mm.plain(subject=f"Re: [{row.number}] 您的投诉已受理", body="什么时候退费？")
    assert send(port, by_subject)[0] == 250
    assert len(complaints(rt)) == 1
    added = [e for e in history(rt, row.number) if e["type"] == "customer_info_added"]
    assert [e["note"] for e in added] == ["补充：今天又扣了一次费。", "什么时候退费？"]
    assert added[0]["data"]["attachments"] == ["信号截图.png"]
    with write(rt.engine) as conn:  # the complaint is closed meanwhile
        conn.execute(
            t.complaints.update()
            .where(t.complaints.c.id == row.id)
            .values(status="closed", is_open=False)
        )
    late = mm.plain(subject=f"回复：[{row.number}]", body="问题没有解决，我不满意。")
    assert send(port, late)[0] == 250
    flagged = [e for e in history(rt, row.number) if e["type"] == "reopen_requested"]
    assert flagged[0]["note"] == "问题没有解决，我不满意。"
    assert flagged[0]["data"]["status_then"] == "closed"
    assert len(complaints(rt)) == 1
    assert [m.status for m in inbox(rt)] == ["registered", "supplement", "supplement", "supplement"]


def test_a_reply_to_a_mail_kesu_sent_threads_by_its_message_id(live):
    rt, port = live
    assert send(port, mm.plain())[0] == 250
    (row,) = complaints(rt)
    from kesu.channels import outbox

    with write(rt.engine) as conn:
        uid = outbox.enqueue(
            conn,
            rt.clock(),
            "email",
            "zhang.wei@example.cn",
            "已受理",
            "t",
            subject=f"[{row.number}] 已受理",
        )
    reply = mm.plain(subject="Re: 已受理", body="好的，谢谢。", In_Reply_To=f"<{uid}@operator.cn>")
    assert send(port, reply)[0] == 250
    assert len(complaints(rt)) == 1
    assert history(rt, row.number)[-1]["note"] == "好的，谢谢。"


def test_a_mail_without_a_phone_waits_for_an_agent(live):
    rt, port = live
    assert send(port, mm.plain(body="你们的网太慢了，请处理。"))[0] == 250
    assert complaints(rt) == []
    (held,) = mail_held.held(rt)
    assert held["from"] == "z***@example.cn" and "没有找到联系电话" in held["note"]
    out = mail_held.register_held(rt, held["id"], "138-0013-8000")
    (row,) = complaints(rt)
    assert out.number == row.number and row.channel == "email"
    assert mail_held.held(rt) == []


def test_a_mail_that_cannot_be_stored_is_refused_with_451(tmp_path):
    # A database without kesu's tables: storing fails, the sender is told to try again.
    broken = Runtime.start(Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}"))
    with broken.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE mail_inbox")
    port = _free_port()
    server = mail_smtp.listener(broken, "127.0.0.1", port)
    server.start()
    try:
        code, answer = send(port, mm.plain())
        assert code == 451 and b"not stored" in answer
    finally:
        server.stop()
        broken.close()


def test_bad_mail_never_stops_the_listener(live):
    rt, port = live
    for raw in (b"\x00\xff\xfe\r\n\r\ngarbage \xd5\xc5", b"Subject: =?gb2312?B?broken?=\r\n\r\nx"):
        assert send(port, raw)[0] == 250
    assert send(port, mm.plain())[0] == 250
    assert len(complaints(rt)) == 1


def _told(rt, username: str) -> list[str]:
    with rt.engine.connect() as conn:
        return list(
            conn.execute(
                select(t.staff_notices.c.text).where(t.staff_notices.c.username == username)
            ).scalars()
        )


def test_staff_replies_are_not_the_customer_and_staff_are_told_of_customer_mail(live):
    rt, port = live
    users.create_user(rt, "test", "li.handler", "handler", "password-123456", team="frontline")
    users.set_email(rt, "test", "li.handler", "Li.Lei@Operator.cn")
    users.create_user(rt, "test", "zhao.lead", "supervisor", "password-123456", team="frontline")
    assert send(port, mm.plain())[0] == 250
    (row,) = complaints(rt)
    with write(rt.engine) as conn:
        conn.execute(
            t.complaints.update()
            .where(t.complaints.c.id == row.id)
            .values(team="frontline", assignee="li.handler")
        )
    # The handler answers kesu's notice mail: not the customer's supplement.
    staff = mm.plain(
        subject=f"Re: [{row.number}] 分派给我的投诉",
        body="收到",
        sender=("李雷", "li.lei@operator.cn"),
    )
    assert send(port, staff, "li.lei@operator.cn")[0] == 250
    assert (inbox(rt)[-1].status, inbox(rt)[-1].kind) == ("ignored", "staff")
    assert [e["type"] for e in history(rt, row.number)].count("customer_info_added") == 0
    # The customer writes: the assignee is told.
    assert send(port, mm.plain(subject=f"Re: [{row.number}]", body="请尽快处理"))[0] == 250
    assert _told(rt, "li.handler") == [f"投诉单 {row.number} 的客户来信补充了信息。"]
    assert _told(rt, "zhao.lead") == []
    with write(rt.engine) as conn:
        conn.execute(
            t.complaints.update()
            .where(t.complaints.c.id == row.id)
            .values(status="closed", is_open=False)
        )
    assert send(port, mm.plain(subject=f"Re: [{row.number}]", body="还是没解决"))[0] == 250
    closed = f"投诉单 {row.number} 已结束，客户又来信：请查看并决定是否重开。"
    assert _told(rt, "li.handler")[-1] == closed
    assert _told(rt, "zhao.lead") == [closed]


def test_kesu_mail_held_and_register_on_the_command_line(live, database_url, monkeypatch):
    from typer.testing import CliRunner

    from kesu.cli import app

    rt, port = live
    monkeypatch.setenv("KESU_DATABASE_URL", database_url)
    runner = CliRunner()
    assert runner.invoke(app, ["mail", "held"]).output.strip() == "没有待人工处理的邮件。"
    assert send(port, mm.plain(subject="网速太慢", body="你们的网太慢了，请处理。"))[0] == 250
    listed = runner.invoke(app, ["mail", "held"], terminal_width=200)
    assert (
        listed.exit_code == 0 and "z***@example.cn" in listed.output and "网速太慢" in listed.output
    )
    (mail,) = inbox(rt)
    wrong = runner.invoke(app, ["mail", "register", str(mail.id), "--phone", "电话"])
    assert wrong.exit_code == 1 and "电话号码“电话”格式不对" in wrong.output
    assert complaints(rt) == []
    done = runner.invoke(app, ["mail", "register", str(mail.id), "--phone", "13800138000"])
    (row,) = complaints(rt)
    assert done.exit_code == 0 and f"投诉单 {row.number}" in done.output
    again = runner.invoke(app, ["mail", "register", str(mail.id), "--phone", "13800138000"])
    assert again.exit_code == 1 and "已不在待处理中" in again.output


def test_another_mail_reusing_a_message_id_is_not_lost(live):
    rt, port = live
    first = mm.plain(msgid="<same@example.cn>", body="宽带断网，电话 13900001111")
    other = mm.plain(msgid="<same@example.cn>", body="话费多扣，电话 13900002222")
    assert send(port, first)[0] == 250
    assert send(port, other)[0] == 250
    assert send(port, first)[0] == 250  # the first again: still one
    assert [m.status for m in inbox(rt)] == ["registered", "registered"]
    assert len(complaints(rt)) == 2


def test_a_mail_stored_before_a_crash_is_processed_by_the_retry(rt, clock):
    # Stored (as the listener does before answering 250), then the process died.
    mail_id, new = mail_in.store(rt, mm.plain(), "smtp")
    assert new and complaints(rt) == []
    assert mail_in.retry_pending(rt) == 0  # young: perhaps being processed right now
    clock.advance(minutes=3)
    assert mail_in.retry_pending(rt) == 1
    (row,) = complaints(rt)
    assert (inbox(rt)[0].status, inbox(rt)[0].complaint_number) == ("registered", row.number)
    assert mail_in.retry_pending(rt) == 0
