"""A complaint past a statutory deadline is high priority and its legal risk says so."""

from __future__ import annotations

from sqlalchemy import func, select

from kesu.deadlines import watcher
from kesu.demo import replay
from kesu.law import advice
from kesu.store import tables as t


def _events(client, number: str, kind: str) -> list[dict]:
    items = client.get(f"/api/v1/complaints/{number}/events").json()["items"]
    return [e for e in items if e["type"] == kind]


def test_a_statutory_breach_raises_the_priority_once_and_the_legal_risk(
    client, rt, make_complaint, act, as_role, clock
):
    c = make_complaint(kind="complaint", category="billing")
    assert c["priority"] == "normal"
    act(c["number"], "accept")
    risk = client.get(
        f"/api/v1/complaints/{c['number']}/obligations", headers=as_role("legal")
    ).json()
    assert risk["legal_risk_reasons"] == []
    clock.advance(days=18)  # past 投诉答复（15日; the 15th day is a Sunday: Monday 24:00)
    watcher.watch_once(rt)
    view = client.get(f"/api/v1/complaints/{c['number']}").json()
    assert view["priority"] == "high"
    (raised,) = _events(client, c["number"], "priority_raised")
    assert raised["data"]["from"] == "normal" and raised["data"]["to"] == "high"
    assert "第十条" in raised["note"] and raised["data"]["rule"] == "reply_15d"
    clock.advance(days=1)
    watcher.watch_once(rt)
    assert len(_events(client, c["number"], "priority_raised")) == 1

    risk = client.get(
        f"/api/v1/complaints/{c['number']}/obligations", headers=as_role("legal")
    ).json()
    assert (risk["legal_risk"], risk["legal_risk_name"]) == ("high", "高")
    (why,) = risk["legal_risk_reasons"]
    assert "已超过法定时限" in why and "电信用户申诉处理办法" in why and "第十条" in why


def test_an_internal_breach_or_an_urgent_complaint_is_not_touched(
    client, rt, make_complaint, clock
):
    normal = make_complaint(kind="complaint")
    urgent = make_complaint(kind="complaint", priority="urgent", customer={"phone": "13900001111"})
    clock.advance(hours=25)  # past the internal 投诉受理告知 (24 hours) only
    watcher.watch_once(rt)
    assert client.get(f"/api/v1/complaints/{normal['number']}").json()["priority"] == "normal"
    assert _events(client, normal["number"], "priority_raised") == []
    clock.advance(days=18)
    watcher.watch_once(rt)
    assert client.get(f"/api/v1/complaints/{urgent['number']}").json()["priority"] == "urgent"
    assert _events(client, urgent["number"], "priority_raised") == []


def test_breached_demo_complaints_are_high_priority_with_the_reason(rt):
    replay.load(rt, count=120, seed=2026)
    d, c = t.deadlines.c, t.complaints.c
    with rt.engine.connect() as conn:
        breached = conn.execute(
            select(c.number, c.priority)
            .join(t.deadlines, d.complaint_id == c.id)
            .where(d.statutory, d.breached, c.is_open)
            .distinct()
        ).all()
        raised = conn.execute(
            select(func.count()).where(t.complaint_events.c.type == "priority_raised")
        ).scalar()
    assert breached and raised > 0
    assert {p for _, p in breached} <= {"high", "urgent"}
    risk = advice.obligations(rt, breached[0].number)
    assert risk["legal_risk"] == "high" and risk["legal_risk_reasons"]


def test_breaches_recorded_before_the_upgrade_are_raised_by_the_migration(
    client, rt, make_complaint, clock
):
    """0011 does once, for breaches already recorded, what the watcher now does."""
    from alembic import command
    from sqlalchemy import update

    from kesu.store.db import alembic_config

    old = make_complaint(kind="complaint")
    urgent = make_complaint(kind="complaint", priority="urgent", customer={"phone": "13900002222"})
    clock.advance(days=18)
    with rt.engine.begin() as conn:  # breached as the watcher recorded it before 0011
        conn.execute(
            update(t.deadlines)
            .where(t.deadlines.c.statutory, t.deadlines.c.due_at < clock())
            .values(breached=True, breached_at=clock())
        )
    cfg = alembic_config(rt.engine.url.render_as_string(hide_password=False))
    with rt.engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0009")
        command.upgrade(cfg, "head")
        conn.commit()
    assert client.get(f"/api/v1/complaints/{old['number']}").json()["priority"] == "high"
    (raised,) = _events(client, old["number"], "priority_raised")
    assert raised["data"]["from"] == "normal" and "第十条" in raised["note"]
    assert _events(client, urgent["number"], "priority_raised") == []
