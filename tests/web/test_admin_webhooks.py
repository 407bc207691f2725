"""The webhooks page: an admin subscribes a URL (the secret shown once), sends a test,
sees the delivery in the log, pauses and resumes, deletes; a subscription paused after a
day of failures is announced; other roles are refused."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from kesu.channels import delivery, webhooks
from kesu.store import tables as t
from kesu.store.db import write
from tests.channels.gateway import Receiver

PASSWORD = "password-123456"


@pytest.fixture
def signed_in(staff_web):
    return lambda role: staff_web(f"w-{role}", role)


@pytest.fixture
def receiver(clock):
    r = Receiver(clock)
    yield r
    r.close()


def test_an_admin_subscribes_tests_pauses_and_deletes(rt, clock, signed_in, receiver):
    web, csrf = signed_in("admin")
    page = web.get("/admin/webhooks")
    assert page.status_code == 200
    assert "推送订阅" in page.text and 'href="/admin/webhooks"' in page.text
    assert "还没有推送订阅" in page.text

    bad = web.post(
        "/admin/webhooks",
        data={"csrf_token": csrf, "url": "ftp://example.cn/x", "events": ["closed"]},
    )
    assert bad.status_code == 422 and "http:// 或 https://" in bad.text
    assert 'value="ftp://example.cn/x"' in bad.text  # the form keeps what was typed

    r = web.post(
        "/admin/webhooks",
        data={"csrf_token": csrf, "url": receiver.url, "events": ["registered", "closed"]},
    )
    assert r.status_code == 201
    secret = re.search(r'<code class="secret">([^<]+)</code>', r.text).group(1)
    assert "只显示这一次" in r.text and len(secret) >= 32
    receiver.secret = secret
    (sid,) = [int(x) for x in re.findall(r'<tr data-id="(\d+)" data-state="active"', r.text)]
    again = web.get("/admin/webhooks").text
    assert receiver.url in again and secret not in again  # never shown again

    r = web.post(f"/admin/webhooks/{sid}/test", data={"csrf_token": csrf}, follow_redirects=True)
    assert f"已向订阅 {sid} 发送测试推送" in r.text
    assert delivery.deliver(rt)["sent"] == 1
    assert [e for e, _ in receiver.events()] == ["ping"]
    log = web.get(f"/admin/webhooks/{sid}").text
    assert "推送记录" in log and 'data-status="sent"' in log and "测试" in log

    r = web.post(f"/admin/webhooks/{sid}/pause", data={"csrf_token": csrf}, follow_redirects=True)
    assert f'<tr data-id="{sid}" data-state="paused"' in r.text and "由 w-admin 暂停" in r.text
    r = web.post(f"/admin/webhooks/{sid}/resume", data={"csrf_token": csrf}, follow_redirects=True)
    assert f'<tr data-id="{sid}" data-state="active"' in r.text

    # Paused after a day of failures: the page says so until it is resumed.
    with write(rt.engine) as conn:
        webhooks.pause(conn, clock(), sid, "auto")
    assert "连续失败超过一天，已自动暂停" in web.get("/admin/webhooks").text

    r = web.post(f"/admin/webhooks/{sid}/delete", data={"csrf_token": csrf}, follow_redirects=True)
    assert f"订阅 {sid} 已删除" in r.text and receiver.url not in r.text
    with rt.engine.connect() as conn:
        actions = conn.execute(
            select(t.audit_log.c.action).where(t.audit_log.c.actor == "w-admin")
        ).scalars()
        done = [a for a in actions if a.startswith("webhook.")]
    assert done == [
        "webhook.create",
        "webhook.test",
        "webhook.change",
        "webhook.change",
        "webhook.delete",
    ]


def test_a_form_without_its_csrf_token_changes_nothing(rt, signed_in):
    web, _ = signed_in("admin")
    r = web.post("/admin/webhooks", data={"url": "https://h.example.cn", "events": ["closed"]})
    assert r.status_code == 403
    with rt.engine.connect() as conn:
        assert conn.execute(select(t.webhook_subscriptions)).first() is None


def test_other_roles_are_refused(rt, signed_in):
    for role in ("supervisor", "handler"):
        web, csrf = signed_in(role)
        assert 'href="/admin/webhooks"' not in web.get("/admin/outbox").text
        assert web.get("/admin/webhooks").status_code == 403
        r = web.post(
            "/admin/webhooks",
            data={"csrf_token": csrf, "url": "https://h.example.cn", "events": ["closed"]},
        )
        assert r.status_code == 403
    with rt.engine.connect() as conn:
        assert conn.execute(select(t.webhook_subscriptions)).first() is None
