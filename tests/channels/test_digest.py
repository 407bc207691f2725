"""Supervisors' daily digest: asked for, sent once a day after the digest hour, with the
figures the supervisor's own queue shows; never twice, even from two workers at once."""

from __future__ import annotations

import threading

from sqlalchemy import select

from kesu.accounts import users
from kesu.channels import digest, staff_notices
from kesu.store import tables as t
from kesu.store.db import write
from tests.conftest import bearer

PASSWORD = "password-123456"


def _lead(rt, name: str, team: str | None = None, email: str | None = None, wants=True):
    users.create_user(rt, "test", name, "supervisor", PASSWORD, team=team)
    if email:
        users.set_email(rt, "test", name, email)
    if wants:
        with write(rt.engine) as conn:
            staff_notices.set_prefs(conn, name, {"daily_digest": {"off": False}})
    return name


def _digests(rt, name: str) -> list[dict]:
    with rt.engine.connect() as conn:
        return [
            dict(r._mapping)
            for r in conn.execute(
                select(t.staff_notices).where(
                    t.staff_notices.c.username == name, t.staff_notices.c.kind == "daily_digest"
                )
            )
        ]


def test_a_supervisor_who_asked_gets_the_days_figures_once(rt, clock, make_complaint, client, act):
    boss = _lead(rt, "boss-all", email="boss@op.example.cn")
    quiet = _lead(rt, "boss-quiet", wants=False)
    a = make_complaint()["number"]
    make_complaint(customer={"phone": "13900002222", "name": "王五"})
    act(a, "accept")
    clock.advance(days=1, hours=-3)  # Sunday 07:00 Beijing: before the digest hour
    assert digest.send_due(rt) == []
    clock.advance(hours=2)  # 09:00
    assert digest.send_due(rt) == [boss]
    assert digest.send_due(rt) == []  # once a day
    (notice,) = _digests(rt, boss)
    sup = bearer(client.headers["Authorization"].split()[1])
    open_now = client.get("/api/v1/complaints", params={"open": "true"}, headers=sup).json()
    assert f"在办 {len(open_now['items'])} 件" in notice["text"]
    assert "2026-11-29 每日摘要（全部班组）" in notice["text"]
    assert "昨日受理 2 件" in notice["text"]
    assert _digests(rt, quiet) == []  # off until asked for
    with rt.engine.connect() as conn:
        (mail,) = conn.execute(
            select(t.notifications).where(t.notifications.c.channel == "email")
        ).all()
    assert mail.recipient == "boss@op.example.cn" and mail.subject == "[kesu] 2026-11-29 每日摘要"
    assert "/workbench" in mail.body
    clock.advance(days=1)
    assert digest.send_due(rt) == [boss]  # the next day, the next one


def test_two_workers_at_once_send_one_digest(rt, clock):
    boss = _lead(rt, "boss-race")
    results: list[list[str]] = []
    start = threading.Barrier(2)

    def run():
        start.wait()
        results.append(digest.send_due(rt))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(len(r) for r in results) == [0, 1]
    assert len(_digests(rt, boss)) == 1


def test_the_digest_is_a_switch_of_the_users_notice_settings(client, tokens):
    sup = bearer(tokens("supervisor"))
    prefs = client.get("/api/v1/notices/prefs", headers=sup).json()
    assert prefs["prefs"]["daily_digest"] == {"off": True, "email": True}
    assert "每日摘要" in prefs["kinds"]["daily_digest"]
    r = client.put("/api/v1/notices/prefs", json={"daily_digest": {"off": False}}, headers=sup)
    assert r.status_code == 200 and r.json()["prefs"]["daily_digest"]["off"] is False
