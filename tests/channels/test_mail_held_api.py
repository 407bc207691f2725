"""Held mail over HTTP (/api/v1/mail/held, channels.mail_held) and its page (/mail/held):
a mail without a phone number is listed with the sender and numbers masked, registered
once an agent gives the number (a bad number is refused and changes nothing; a mail no
longer held answers 409), or discarded with a reason by a handler — kept, marked and
audited; a reseller's users never see the operator's inbox."""

from __future__ import annotations

import re

from sqlalchemy import select

from kesu.channels import mail_in, mail_parse
from kesu.store import tables as t
from tests.channels import mail_messages as mm

NO_PHONE = "你们的网太慢了，请处理。我的宽带账号是 020123456789，客户经理电话打不通。"


def hold(rt, subject: str = "网速太慢", body: str = NO_PHONE) -> int:
    """A mail received the way the listeners store it, held for want of a phone number."""
    out = mail_in.accept(rt, mm.plain(subject=subject, body=body), "smtp")
    assert out.status == "held", out
    return out.id


def mail_row(rt, mail_id: int):
    with rt.engine.connect() as conn:
        return conn.execute(select(t.mail_inbox).where(t.mail_inbox.c.id == mail_id)).one()


def complaints(rt) -> list:
    with rt.engine.connect() as conn:
        return conn.execute(select(t.complaints)).all()


def audits(rt, action: str) -> list:
    with rt.engine.connect() as conn:
        return conn.execute(select(t.audit_log).where(t.audit_log.c.action == action)).all()


def test_held_mail_is_listed_masked_and_registered_with_the_phone(rt, client, as_role):
    mid = hold(rt)
    agent = as_role("agent")
    r = client.get("/api/v1/mail/held", headers=agent)
    assert r.status_code == 200, r.text
    (item,) = r.json()["items"]
    assert item["id"] == mid and item["subject"] == "网速太慢"
    assert item["from"] == "z***@example.cn" and "zhang.wei" not in r.text
    assert "020123456789" not in r.text and "没有找到联系电话" in item["note"]

    bad = client.post(f"/api/v1/mail/held/{mid}/register", json={"phone": "问客户"}, headers=agent)
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_phone"
    assert "电话号码“问客户”格式不对" in bad.json()["detail"]
    assert complaints(rt) == [] and mail_row(rt, mid).status == "held"

    ok = client.post(
        f"/api/v1/mail/held/{mid}/register", json={"phone": "138-0013-8000"}, headers=agent
    )
    assert ok.status_code == 200, ok.text
    (row,) = complaints(rt)
    assert ok.json()["status"] == "registered" and ok.json()["complaint_number"] == row.number
    assert row.channel == "email"
    assert client.get("/api/v1/mail/held", headers=agent).json()["items"] == []
    (entry,) = audits(rt, "mail.register")
    assert entry.actor == "t-agent" and entry.target_id == str(mid)

    again = client.post(
        f"/api/v1/mail/held/{mid}/register", json={"phone": "13800138000"}, headers=agent
    )
    assert again.status_code == 409 and again.json()["code"] == "mail_not_held"
    assert "已登记为投诉" in again.json()["detail"]
    missing = client.post(
        "/api/v1/mail/held/999999/register", json={"phone": "13800138000"}, headers=agent
    )
    assert missing.status_code == 404 and missing.json()["code"] == "mail_not_found"
    assert len(complaints(rt)) == 1


def test_a_handler_discards_held_mail_with_a_reason_and_it_is_kept(rt, client, as_role):
    mid = hold(rt, subject="恭喜您中奖", body="点击链接领取大奖")
    agent = client.post(
        f"/api/v1/mail/held/{mid}/discard", json={"reason": "垃圾邮件"}, headers=as_role("agent")
    )
    assert agent.status_code == 403 and agent.json()["code"] == "forbidden"
    handler = as_role("handler")
    blank = client.post(f"/api/v1/mail/held/{mid}/discard", json={"reason": "  "}, headers=handler)
    assert blank.status_code == 422 and mail_row(rt, mid).status == "held"

    r = client.post(
        f"/api/v1/mail/held/{mid}/discard", json={"reason": "垃圾邮件（中奖诈骗）"}, headers=handler
    )
    assert r.status_code == 200, r.text
    row = mail_row(rt, mid)
    assert row.status == "discarded" and "垃圾邮件（中奖诈骗）" in row.note
    assert "点击链接领取大奖" in mail_parse.parse(bytes(row.raw)).text  # kept as it came
    (entry,) = audits(rt, "mail.discard")
    assert entry.actor == "t-handler" and entry.detail == {"reason": "垃圾邮件（中奖诈骗）"}
    assert client.get("/api/v1/mail/held").json()["items"] == []
    # Neither registered nor discarded twice.
    late = client.post(
        f"/api/v1/mail/held/{mid}/register", json={"phone": "13800138000"}, headers=handler
    )
    assert late.status_code == 409 and "已作废" in late.json()["detail"]
    assert complaints(rt) == []


def test_a_resellers_user_never_sees_the_operators_inbox(rt, client, as_role):
    mid = hold(rt)
    reseller = as_role("reseller", "代理商甲")
    r = client.get("/api/v1/mail/held", headers=reseller)
    assert r.status_code == 403 and "网速太慢" not in r.text
    r = client.post(
        f"/api/v1/mail/held/{mid}/register", json={"phone": "13800138000"}, headers=reseller
    )
    assert r.status_code == 403 and complaints(rt) == [] and mail_row(rt, mid).status == "held"


def test_the_held_mail_page_registers_and_discards(rt, staff_web):
    first, second = hold(rt), hold(rt, subject="推广", body="本店优惠")
    web, csrf = staff_web("wang.agent", "agent")
    page = web.get("/mail/held")
    assert page.status_code == 200
    assert "待人工处理的邮件" in page.text and "z***@example.cn" in page.text
    assert 'href="/mail/held"' in web.get("/workbench").text  # in the header's nav
    assert f'action="/mail/held/{first}/discard"' not in page.text  # agents do not discard

    no_csrf = web.post(f"/mail/held/{first}/register", data={"phone": "13800138000"})
    assert no_csrf.status_code == 403 and complaints(rt) == []
    bad = web.post(f"/mail/held/{first}/register", data={"phone": "无", "csrf_token": csrf})
    assert bad.status_code == 422 and "格式不对" in bad.text and complaints(rt) == []
    done = web.post(
        f"/mail/held/{first}/register", data={"phone": "13800138000", "csrf_token": csrf}
    )
    (row,) = complaints(rt)
    assert done.status_code == 200 and f"已登记为投诉单 {row.number}" in done.text
    assert f'data-mail="{first}"' not in done.text and f'data-mail="{second}"' in done.text

    lead, lead_csrf = staff_web("zhao.lead", "supervisor")
    assert f'action="/mail/held/{second}/discard"' in lead.get("/mail/held").text
    gone = lead.post(
        f"/mail/held/{second}/discard", data={"reason": "广告邮件", "csrf_token": lead_csrf}
    )
    assert gone.status_code == 200 and "邮件已作废" in gone.text
    assert "没有待人工处理的邮件" in gone.text and mail_row(rt, second).status == "discarded"
    twice = lead.post(
        f"/mail/held/{second}/discard", data={"reason": "广告邮件", "csrf_token": lead_csrf}
    )
    assert twice.status_code == 409 and "已作废" in twice.text
    assert re.search(r"已不在待处理中", twice.text)
