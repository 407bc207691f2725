"""Demo data: a newcomer sees a living system."""

from datetime import timedelta

from sqlalchemy import func, select

from kesu.complaints import lifecycle
from kesu.complaints import vocabulary as vocab
from kesu.demo import replay
from kesu.store import tables as t


def test_demo_data_covers_every_kind_channel_status_and_category(rt, client):
    summary = replay.load(rt, count=320, seed=2026)
    assert summary["complaints"] == 320 + 10  # and the outage's ten (demo.incidents)
    # The outage opened one mass incident; an agent's message waits for approval.
    [incident] = client.get("/api/v1/incidents").json()["items"]
    assert incident["area"] == "洛阳市" and len(incident["complaints"]) == 10
    assert client.get(f"/api/v1/incidents/{incident['id']}").json()["message"]["state"] == "draft"
    assert summary["overdue"] > 0 and summary["reopened"] > 0 and summary["merged"] > 0
    c = t.complaints.c
    with rt.engine.connect() as conn:

        def values(col):
            return {v for (v,) in conn.execute(select(col).distinct())}

        assert values(c.kind) == set(vocab.KINDS)
        assert values(c.channel) == set(vocab.CHANNELS)
        assert values(c.category) == set(vocab.CATEGORIES)
        assert values(c.status) == set(lifecycle.STATUSES)
        first, last = conn.execute(select(func.min(c.received_at), func.max(c.received_at))).one()
        assert last - first > timedelta(days=80)
        assert last <= rt.clock()
        converted = conn.execute(select(func.count()).where(c.converted_at.is_not(None))).scalar()
        assert converted > 0
        texts = conn.execute(select(c.description)).scalars().all()
    assert any(
        x.startswith(("用户来电反映", "客户来电反映", "用户反映", "客户反映")) for x in texts
    )
    assert sum("您好" in x for x in texts) > 5  # e-mail style
    # Every complaint has a consistent history.
    listing = client.get("/api/v1/complaints", params={"status": "merged"}).json()["items"]
    assert all(x["merged_into"] for x in listing)
    overdue = client.get("/api/v1/complaints", params={"overdue": "true", "limit": 200}).json()
    assert len(overdue["items"]) == summary["overdue"]
    one = overdue["items"][0]["number"]
    events = client.get(f"/api/v1/complaints/{one}/events").json()["items"]
    assert events[0]["type"] == "registered"
    assert replay.has_data(rt)
    # Every team's queue has work, and the demo users' 我的待办 too (GET …?assignee=me).
    with rt.engine.connect() as conn:
        per_team = dict(
            conn.execute(select(c.team, func.count()).where(c.is_open).group_by(c.team)).all()
        )
        unowned = conn.execute(select(func.count()).where(c.is_open, c.assignee.is_(None))).scalar()
    assert set(per_team) == set(vocab.TEAMS) and min(per_team.values()) > 0, per_team
    assert unowned == 0
    # Quality inspection: reviews of several handlers, one contest upheld, and a good and
    # a bad example in the case library.
    reviews = client.get("/api/v1/quality/reviews").json()["items"]
    assert len({r["handler"] for r in reviews}) > 5
    assert [r["state"] for r in reviews].count("upheld") == 1
    for verdict in ("good", "bad"):
        assert client.get("/api/v1/cases", params={"verdict": verdict}).json()["total"] == 1
    # Every callback done is a survey (the handlers' with all four answers), and the
    # handlers have figures.
    with rt.engine.connect() as conn:
        answers = conn.execute(select(t.complaint_surveys.c.answers)).scalars().all()
    assert answers and all("overall" in a for a in answers)
    assert any(set(a) == {"overall", "resolved", "attitude", "speed"} for a in answers)
    people = client.get("/api/v1/reports/people", params={"from": "2026-08-01"}).json()
    assert {p["username"] for p in people["people"]} & {"demo-handler", "sun.li", "zhou.tao"}


def test_the_demo_users_have_their_own_work(rt, client):
    from kesu.accounts import users
    from kesu.accounts.bootstrap import DEMO_PASSWORD
    from tests.conftest import sign_in

    replay.load(rt, count=320, seed=2026)
    for role in ("agent", "handler", "supervisor"):
        web = client.__class__(client.app)
        got = sign_in(
            web, {"username": f"demo-{role}", "password": DEMO_PASSWORD.format(role=role)}
        )
        assert got.status_code == 200, got.text
        mine = web.get("/api/v1/complaints", params={"assignee": "me", "open": "true"}).json()
        assert mine["items"], role
        assert {i["assignee"] for i in mine["items"]} == {f"demo-{role}"}
        team = users.list_users(rt, "system")
        assert any(u["username"] == f"demo-{role}" and u["team"] for u in team)
        web.close()


def test_demo_resellers_see_only_their_own_sales(rt, tokens):
    from fastapi.testclient import TestClient

    from kesu.app import create_app

    replay.load(rt, count=60, seed=7)
    with TestClient(create_app(rt, watcher=False)) as c:
        c.headers["Authorization"] = "Bearer " + tokens("reseller", "示例代理商甲")
        items = c.get("/api/v1/complaints", params={"limit": 200}).json()["items"]
    assert items and all(i["reseller"] == "示例代理商甲" for i in items)
    assert all(i["channel"] == "store" for i in items)


def test_the_demo_has_corrective_actions_with_an_effect(rt, client):
    replay.load(rt, count=320, seed=2026)
    # Every closed complaint of the demo has a root cause (closing needs one).
    c = t.complaints.c
    with rt.engine.connect() as conn:
        causeless = conn.execute(
            select(func.count()).where(c.status == "closed", c.root_cause.is_(None))
        ).scalar()
    assert causeless == 0
    items = client.get("/api/v1/corrective-actions").json()["items"]
    assert sorted(a["state"] for a in items) == ["closed", "in_progress", "open"]
    assert [a["overdue"] for a in items if a["state"] == "in_progress"] == [True]
    closed = next(a for a in items if a["state"] == "closed")
    effect = client.get(f"/api/v1/corrective-actions/{closed['id']}").json()["effect"]
    assert effect["complete"] is True and effect["before_total"] > 0
    assert effect["statement"].endswith(("下降了。", "没有下降。"))
