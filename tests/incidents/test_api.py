"""The incidents over HTTP and on the pages: the list and one incident, the message
drafted by an agent, approved by a supervisor (not its author) and sent once per
customer, closing with a summary; what is refused and why (nothing written)."""

from __future__ import annotations

from sqlalchemy import func, select

from kesu.store import tables as t
from tests.conftest import bearer
from tests.incidents.make import incident

TEXT = "您好，郑州市部分小区宽带故障已于今日12时修复，如仍无法上网请重启光猫。"


def _sms(rt) -> list:
    n = t.notifications.c
    with rt.engine.connect() as conn:
        return conn.execute(
            select(n.recipient, n.body).where(n.purpose == "customer.incident").order_by(n.id)
        ).all()


def _history_size(rt) -> int:
    with rt.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.incident_events)).scalar_one()


def test_list_one_message_and_close(rt, client, make_complaint, tokens):
    a = make_complaint(category="network", customer={"phone": "13900000001", "city": "郑州市"})
    b = make_complaint(category="network", customer={"phone": "13900000002", "city": "郑州市"})
    # The same customer twice: one SMS naming both complaints.
    c = make_complaint(category="network", customer={"phone": "13900000001", "city": "郑州市"})
    numbers = [a["number"], b["number"], c["number"]]
    iid = incident(rt, numbers=numbers)

    [item] = client.get("/api/v1/incidents").json()["items"]
    assert item["id"] == iid and item["category"] == "network" and item["state"] == "open"
    assert item["area"].startswith("测试市") and item["opened_at"].endswith("+08:00")
    assert sorted(item["complaints"]) == sorted(numbers)
    assert client.get("/api/v1/incidents", params={"state": "closed"}).json()["items"] == []

    one = client.get(f"/api/v1/incidents/{iid}").json()
    assert one["explanation"].startswith("测试用事件") and one["history"][0]["type"] == "opened"
    assert one["message"]["state"] == "none"

    agent = bearer(tokens("agent"))
    r = client.post(f"/api/v1/incidents/{iid}/message/approve")
    assert r.status_code == 409 and r.json()["code"] == "incident_no_draft"
    r = client.post(f"/api/v1/incidents/{iid}/message", json={"text": TEXT}, headers=agent)
    assert r.status_code == 200 and r.json()["message"]["state"] == "draft"
    # The supervisor drafts again: now it is their own draft, which they may not approve.
    assert client.post(f"/api/v1/incidents/{iid}/message", json={"text": TEXT}).is_success
    r = client.post(f"/api/v1/incidents/{iid}/message/approve")
    assert r.status_code == 409 and r.json()["code"] == "incident_own_draft"
    assert _sms(rt) == []
    client.post(f"/api/v1/incidents/{iid}/message", json={"text": TEXT}, headers=agent)
    r = client.post(f"/api/v1/incidents/{iid}/message/approve")
    assert r.status_code == 200, r.text
    msg = r.json()["message"]
    assert msg["state"] == "sent" and msg["approved_by"] == "t-supervisor" and msg["untold"] == 0
    sms = _sms(rt)
    assert sorted(s.recipient for s in sms) == ["13900000001", "13900000002"]
    both = next(s.body for s in sms if s.recipient == "13900000001")
    assert a["number"] in both and c["number"] in both and TEXT in both
    # Each complaint's history says so, once.
    for n in numbers:
        events = client.get(f"/api/v1/complaints/{n}/events").json()
        sent = [e for e in events["items"] if e["type"] == "incident_message_sent"]
        assert len(sent) == 1, events
    r = client.post(f"/api/v1/incidents/{iid}/message/approve")
    assert r.status_code == 409 and r.json()["code"] == "incident_no_draft"

    # A second message (for complaints linked later) goes only to those not told yet.
    client.post(f"/api/v1/incidents/{iid}/message", json={"text": "补充说明。"}, headers=agent)
    client.post(f"/api/v1/incidents/{iid}/message/approve")
    assert len(_sms(rt)) == 2

    r = client.post(f"/api/v1/incidents/{iid}/close", json={"summary": "   "})
    assert r.status_code == 422 and r.json()["code"] == "incident_text_invalid"
    r = client.post(f"/api/v1/incidents/{iid}/close", json={"summary": "光缆被挖断，已抢修。"})
    assert r.status_code == 200 and r.json()["state"] == "closed"
    assert r.json()["summary"] == "光缆被挖断，已抢修。"
    before = _history_size(rt)
    r = client.post(f"/api/v1/incidents/{iid}/message", json={"text": TEXT}, headers=agent)
    assert r.status_code == 409 and r.json()["code"] == "incident_closed"
    r = client.post(f"/api/v1/incidents/{iid}/close", json={"summary": "再关一次"})
    assert r.status_code == 409 and r.json()["code"] == "incident_closed"
    assert _history_size(rt) == before
    r = client.get("/api/v1/incidents/999999")
    assert r.status_code == 404 and r.json()["code"] == "incident_not_found"


def test_an_agent_drafts_but_does_not_approve_or_close(rt, client, tokens):
    iid = incident(rt, drafted=True)
    agent = bearer(tokens("agent"))
    before = _history_size(rt)
    for path in ("message/approve", "close"):
        r = client.post(f"/api/v1/incidents/{iid}/{path}", json={"summary": "x"}, headers=agent)
        assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert _history_size(rt) == before


def test_the_pages(rt, make_complaint, staff_web):
    n = make_complaint(category="network", customer={"phone": "13900000003", "city": "郑州市"})
    iid = incident(rt, numbers=[n["number"]])
    agent, agent_csrf = staff_web("w-agent", "agent")
    boss, boss_csrf = staff_web("w-boss", "supervisor")

    page = agent.get("/incidents")
    assert page.status_code == 200 and "群体性事件" in page.text
    assert f'href="/incidents/{iid}"' in page.text
    page = agent.get(f"/incidents/{iid}")
    assert "开启依据" in page.text and "测试用事件" in page.text and n["number"] in page.text
    assert 'id="approve"' not in page.text and 'id="close"' not in page.text  # not the agent's

    r = agent.post(
        f"/incidents/{iid}/message",
        data={"csrf_token": agent_csrf, "text": TEXT},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = boss.get(f"/incidents/{iid}")
    assert 'id="approve"' in page.text and TEXT in page.text
    r = boss.post(f"/incidents/{iid}/message/approve", data={"csrf_token": boss_csrf})
    assert r.status_code == 200 and "统一答复已交短信发送" in r.text
    assert [s.recipient for s in _sms(rt)] == ["13900000003"]

    # A blank summary: the page again, the reason shown, nothing closed.
    r = boss.post(f"/incidents/{iid}/close", data={"csrf_token": boss_csrf, "summary": " "})
    assert r.status_code == 422 and "关闭总结不能为空" in r.text
    r = boss.post(f"/incidents/{iid}/close", data={"csrf_token": boss_csrf, "summary": "已修复"})
    assert r.status_code == 200 and "事件已关闭" in r.text and "已修复" in r.text
    # Without the CSRF token nothing happens.
    r = agent.post(f"/incidents/{iid}/message", data={"text": TEXT}, follow_redirects=False)
    assert r.status_code == 403
