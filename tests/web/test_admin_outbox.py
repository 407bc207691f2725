"""The outgoing messages: admins see them by state with their last error (recipients
masked, sign-in codes hidden) and send a dead one again (audited); others are refused;
over the API as on the page."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update

from kesu.channels import outbox
from kesu.store import tables as t
from kesu.store.db import write

PASSWORD = "password-123456"
N = t.notifications.c


@pytest.fixture
def signed_in(staff_web):
    return lambda role: staff_web(f"o-{role}", role)


def _messages(rt) -> dict[str, int]:
    with write(rt.engine) as conn:
        now = rt.clock()
        ok = outbox.enqueue(conn, now, "sms", "13912345678", "您的投诉已受理，单号TS1。", "x")
        code = outbox.enqueue(
            conn,
            now,
            "sms",
            "13912345678",
            "【客诉】您的验证码是 482913，5分钟内有效。",
            "portal_code",
        )
        dead = outbox.enqueue(conn, now, "email", "li.na@example.cn", "临期预警", "x", "主题")
        conn.execute(
            update(t.notifications)
            .where(N.uid == dead)
            .values(status="dead", attempts=16, last_error="邮件服务器拒绝：550")
        )
        conn.execute(update(t.notifications).where(N.uid == ok).values(status="sent", sink="demo"))
        ids = dict(conn.execute(select(N.uid, N.id)).all())
    return {"ok": ids[ok], "code": ids[code], "dead": ids[dead]}


def test_an_admin_sees_the_messages_and_resends_a_dead_one(rt, signed_in):
    ids = _messages(rt)
    web, csrf = signed_in("admin")
    page = web.get("/admin/outbox")
    assert page.status_code == 200
    html = page.text
    assert "外发消息" in html and "139****5678" in html and "13912345678" not in html
    assert "482913" not in html and "••••••" in html  # a code went out; which, nobody sees
    assert "l***@example.cn" in html and "邮件服务器拒绝：550" in html
    counts = dict(re.findall(r'data-state="(\w+)".*?<span class="n">(\d+)</span>', html, re.S))
    assert counts == {"pending": "1", "sent": "1", "dead": "1"}
    dead_only = web.get("/admin/outbox?status=dead").text
    assert f'data-id="{ids["dead"]}"' in dead_only and f'data-id="{ids["ok"]}"' not in dead_only

    r = web.post(
        f"/admin/outbox/{ids['dead']}/resend", data={"csrf_token": csrf}, follow_redirects=True
    )
    assert r.status_code == 200 and f"消息 {ids['dead']} 已重新放入发送队列。" in r.text
    with rt.engine.connect() as conn:
        row = conn.execute(select(t.notifications).where(N.id == ids["dead"])).one()
        entry = conn.execute(
            select(t.audit_log).where(t.audit_log.c.action == "outbox.resend")
        ).one()
    assert row.status == "pending" and row.attempts == 0
    assert entry.actor == "o-admin" and entry.target_id == str(ids["dead"])
    # Sent already: nothing to resend, and the page says why.
    again = web.post(f"/admin/outbox/{ids['ok']}/resend", data={"csrf_token": csrf})
    assert "只有发送失败" in again.text and "已发出" in again.text


def test_the_api_lists_and_refuses_others(rt, client, as_role):
    ids = _messages(rt)
    r = client.get("/api/v1/outbox", params={"status": "dead"}, headers=as_role("admin"))
    assert r.status_code == 200
    body = r.json()
    assert [m["id"] for m in body["items"]] == [ids["dead"]]
    assert body["counts"] == {"pending": 1, "sent": 1, "dead": 1}
    one = client.get(f"/api/v1/outbox/{ids['code']}", headers=as_role("admin")).json()
    assert "482913" not in one["body"] and one["recipient"] == "139****5678"
    bad = client.get("/api/v1/outbox", params={"status": "lost"}, headers=as_role("admin"))
    assert bad.status_code == 422
    missing = client.post("/api/v1/outbox/999999/resend", headers=as_role("admin"))
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    for role in ("supervisor", "handler", "auditor"):
        r = client.get("/api/v1/outbox", headers=as_role(role))
        assert r.status_code == 403 and r.json()["code"] == "forbidden"
    r = client.post(f"/api/v1/outbox/{ids['dead']}/resend", headers=as_role("supervisor"))
    assert r.status_code == 403
    r = client.post(f"/api/v1/outbox/{ids['dead']}/resend", headers=as_role("admin"))
    assert r.status_code == 200 and r.json()["status"] == "pending"
    r = client.post(f"/api/v1/outbox/{ids['dead']}/resend", headers=as_role("admin"))
    assert r.status_code == 409 and r.json()["code"] == "message_not_dead"
