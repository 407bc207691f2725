"""The message sources page: an admin adds a source (its secret shown once), the source
signs with it and its messages are counted; paused, its requests are refused; a new
secret replaces the old at once; deleted, it is gone. Other roles are refused."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from kesu.store import tables as t
from tests.channels.messages_in_kit import send


def test_an_admin_adds_pauses_rotates_and_deletes_a_source(rt, clock, staff_web):
    web, csrf = staff_web("src-admin", "admin")
    page = web.get("/admin/channel-sources")
    assert page.status_code == 200
    assert "消息接入来源" in page.text and 'href="/admin/channel-sources"' in page.text
    assert "还没有消息来源" in page.text

    bad = web.post(
        "/admin/channel-sources", data={"csrf_token": csrf, "name": "短信", "kind": "sms"}
    )
    assert bad.status_code == 422 and "小写英文字母" in bad.text
    assert 'value="短信"' in bad.text  # the form keeps what was typed

    r = web.post(
        "/admin/channel-sources",
        data={"csrf_token": csrf, "name": "sms-gw", "kind": "sms", "label": "短信上行"},
    )
    assert r.status_code == 201
    secret = re.search(r'<code class="secret">([^<]+)</code>', r.text).group(1)
    assert "只显示这一次" in r.text and "/api/v1/channels/sms-gw/messages" in r.text
    assert secret not in web.get("/admin/channel-sources").text  # never shown again

    api = TestClient(web.app)  # the source: no session, only its signature
    now = clock().timestamp()
    message = {"id": "p-1", "from": "13912345678", "text": "话费多扣了30元，要求退还。"}
    assert send(api, secret, message, now).status_code == 201
    listed = web.get("/admin/channel-sources").text
    assert re.search(r'<tr data-name="sms-gw" data-state="active">(.|\n)*?<td>1<br>', listed)

    r = web.post("/admin/channel-sources/sms-gw/pause", data={"csrf_token": csrf})
    assert '<tr data-name="sms-gw" data-state="paused"' in r.text and "已暂停" in r.text
    refused = send(api, secret, {**message, "id": "p-2"}, now)
    assert refused.status_code == 401 and refused.json()["code"] == "source_paused"
    r = web.post("/admin/channel-sources/sms-gw/resume", data={"csrf_token": csrf})
    assert '<tr data-name="sms-gw" data-state="active"' in r.text

    r = web.post("/admin/channel-sources/sms-gw/secret", data={"csrf_token": csrf})
    new = re.search(r'<code class="secret">([^<]+)</code>', r.text).group(1)
    assert new != secret
    old = send(api, secret, {**message, "id": "p-3"}, now)
    assert old.status_code == 401 and old.json()["code"] == "signature_invalid"
    assert send(api, new, {**message, "id": "p-3"}, now).status_code == 200  # supplemented

    r = web.post("/admin/channel-sources/sms-gw/delete", data={"csrf_token": csrf})
    assert "来源 sms-gw 已删除" in r.text and 'data-name="sms-gw"' not in r.text
    gone = send(api, new, {**message, "id": "p-4"}, now)
    assert gone.status_code == 401 and gone.json()["code"] == "source_unknown"
    with rt.engine.connect() as conn:
        actions = (
            conn.execute(
                select(t.audit_log.c.action)
                .where(t.audit_log.c.actor == "src-admin")
                .order_by(t.audit_log.c.id)
            )
            .scalars()
            .all()
        )
    assert [a for a in actions if a.startswith("channel_source.")] == [
        "channel_source.create",
        "channel_source.change",
        "channel_source.change",
        "channel_source.change",
        "channel_source.delete",
    ]


def test_other_roles_are_refused(rt, staff_web):
    web, csrf = staff_web("src-sup", "supervisor")
    assert 'href="/admin/channel-sources"' not in web.get("/admin/sla").text
    assert web.get("/admin/channel-sources").status_code == 403
    r = web.post("/admin/channel-sources", data={"csrf_token": csrf, "name": "mine", "kind": "sms"})
    assert r.status_code == 403
    with rt.engine.connect() as conn:
        assert conn.execute(select(t.channel_sources)).first() is None
