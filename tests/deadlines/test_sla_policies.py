"""Internal SLA policies edited through the API: seeded from the rules file, changed with
their history, refused for statutory rules and bad input, applied to complaints
registered after the change (on every configured database)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from kesu.deadlines import watcher
from kesu.runtime import Runtime
from kesu.store import tables as t
from tests.conftest import complaint_body

URGENT_BILLING = {"kind": "complaint", "category": "billing", "priority": "urgent"}


def _due(view: dict, rule: str) -> datetime:
    (d,) = [d for d in view["deadlines"] if d["rule"] == rule]
    return datetime.fromisoformat(d["due_at"])


def _register(client, **fields) -> dict:
    r = client.post("/api/v1/complaints", json=complaint_body(**fields))
    assert r.status_code == 201, r.text
    return r.json()


def _policies(client, admin) -> dict:
    r = client.get("/api/v1/sla-policies", headers=admin)
    assert r.status_code == 200, r.text
    return r.json()


def _default(listing: dict, rule: str) -> dict:
    (entry,) = [x for x in listing["rules"] if x["rule"] == rule]
    (pol,) = [p for p in entry["policies"] if not p["narrowed"]]
    return pol


def _table(rt):
    with rt.engine.connect() as conn:
        policies = conn.execute(select(t.sla_policies).order_by(t.sla_policies.c.id)).all()
        history = conn.execute(select(func.count()).select_from(t.sla_policy_history)).scalar()
    return [tuple(p) for p in policies], history


def test_the_defaults_come_from_the_rules_file_and_statutory_rules_are_read_only(client, as_role):
    listing = _policies(client, as_role("admin"))
    internal = {x["rule"] for x in listing["rules"]}
    assert internal == {"ack_24h", "consult_answer_48h", "sla_urgent_reply_2wd", "reopen_reply_5wd"}
    ack = _default(listing, "ack_24h")
    assert (ack["length"], ack["unit"], ack["warn_before_hours"]) == (24, "hours", 6)
    assert [h["action"] for h in listing["history"]].count("seeded") == 4
    reply = next(x for x in listing["statutory"] if x["rule"] == "reply_15d")
    assert reply["editable"] is False and "第十条" in reply["reason"]
    # Every member of staff may read them, as they may read the rules.
    assert client.get("/api/v1/sla-policies").status_code == 200


def test_a_narrower_policy_applies_to_complaints_registered_after_it(client, rt, as_role, clock):
    admin = as_role("admin")
    before = _register(client, **URGENT_BILLING)
    r = client.post(
        "/api/v1/sla-policies",
        headers=admin,
        json={"rule": "sla_urgent_reply_2wd", **URGENT_BILLING, "length": 4, "unit": "hours"},
    )
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["scope"] == "投诉 · 资费计费 · 紧急"
    assert created["warn_before_hours"] == 1  # the file's 6 hours, cut to a quarter of 4
    clock.advance(minutes=5)
    after = _register(client, **URGENT_BILLING)
    received = datetime.fromisoformat(after["received_at"])
    assert _due(after, "sla_urgent_reply_2wd") == received + timedelta(hours=4)
    # Registered before the change: still two working days (Sat 28 Nov → Tue 1 Dec 24:00).
    assert _due(before, "sla_urgent_reply_2wd").date().isoformat() == "2026-12-01"
    refreshed = client.get(f"/api/v1/complaints/{before['number']}").json()
    assert _due(refreshed, "sla_urgent_reply_2wd") == _due(before, "sla_urgent_reply_2wd")
    # The deadline says which policy set it.
    (d,) = [d for d in after["deadlines"] if d["rule"] == "sla_urgent_reply_2wd"]
    assert d["basis"][0]["sla_policy"] == created["id"] and "4小时" in d["basis"][0]["note"]
    # Other urgent complaints (not billing) keep the rule's two working days.
    network = _register(client, kind="complaint", category="network", priority="urgent")
    assert _due(network, "sla_urgent_reply_2wd").date().isoformat() == "2026-12-01"


def test_change_and_remove_with_history_and_audit(client, rt, as_role, clock):
    admin = as_role("admin")
    pid = _default(_policies(client, admin), "ack_24h")["id"]
    r = client.put(f"/api/v1/sla-policies/{pid}", headers=admin, json={"length": 12})
    assert r.status_code == 200, r.text
    assert (r.json()["length"], r.json()["warn_before_hours"]) == (12, 6)
    c = _register(client)
    received = datetime.fromisoformat(c["received_at"])
    assert _due(c, "ack_24h") == received + timedelta(hours=12)

    variant = client.post(
        "/api/v1/sla-policies",
        headers=admin,
        json={
            "rule": "ack_24h",
            "kind": "complaint",
            "category": "billing",
            "length": 2,
            "unit": "hours",
            "warn_before_hours": 0.5,
        },
    ).json()
    billing = _register(client, kind="complaint", category="billing")
    assert _due(billing, "ack_24h") == datetime.fromisoformat(billing["received_at"]) + timedelta(
        hours=2
    )
    assert client.delete(f"/api/v1/sla-policies/{variant['id']}", headers=admin).status_code == 204
    again = _register(client, kind="complaint", category="billing")
    assert _due(again, "ack_24h") == datetime.fromisoformat(again["received_at"]) + timedelta(
        hours=12
    )
    # The unnarrowed policy stays: it may change, not go.
    r = client.delete(f"/api/v1/sla-policies/{pid}", headers=admin)
    assert r.status_code == 409 and r.json()["code"] == "sla_policy_default"
    assert client.delete(f"/api/v1/sla-policies/{variant['id']}", headers=admin).status_code == 404

    history = _policies(client, admin)["history"]
    done = [(h["action"], h["rule"], h["actor"]) for h in history if h["action"] != "seeded"]
    assert done == [
        ("removed", "ack_24h", "t-admin"),
        ("created", "ack_24h", "t-admin"),
        ("changed", "ack_24h", "t-admin"),
    ]
    changed = history[2]
    assert changed["before"]["length"] == 24 and changed["after"]["length"] == 12
    with rt.engine.connect() as conn:
        actions = (
            conn.execute(
                select(t.audit_log.c.action).where(t.audit_log.c.target_type == "sla_policy")
            )
            .scalars()
            .all()
        )
    assert sorted(actions) == ["sla_policy.change", "sla_policy.create", "sla_policy.remove"]


def test_bad_input_is_refused_in_chinese_and_changes_nothing(client, rt, as_role):
    admin = as_role("admin")
    pid = _default(_policies(client, admin), "sla_urgent_reply_2wd")["id"]
    state = _table(rt)
    base = {"rule": "sla_urgent_reply_2wd", "kind": "complaint", "length": 4, "unit": "hours"}
    cases = [
        ({**base, "length": 0}, "invalid_length", "1 至 720"),
        ({**base, "length": 91, "unit": "calendar_days"}, "invalid_length", "1 至 90"),
        ({**base, "unit": "weeks"}, "unknown_unit", "weeks"),
        ({**base, "kind": "letter"}, "unknown_kind", "letter"),
        ({**base, "category": "weather"}, "unknown_category", "weather"),
        ({**base, "priority": "low"}, "policy_outside_rule", "只适用于紧急"),
        ({**base, "kind": "fault"}, "policy_outside_rule", "只适用于投诉"),
        ({**base, "warn_before_hours": 4}, "invalid_warning", "小于时限本身"),
        ({**base, "warn_before_hours": -1}, "invalid_warning", "0 或正数"),
        ({**base, "rule": "no_such_rule"}, "unknown_rule", "no_such_rule"),
    ]
    for body, code, words in cases:
        r = client.post("/api/v1/sla-policies", headers=admin, json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["code"] == code and words in r.json()["detail"], r.json()
    r = client.put(f"/api/v1/sla-policies/{pid}", headers=admin, json={"length": -3})
    assert r.status_code == 422 and r.json()["code"] == "invalid_length"
    r = client.put(f"/api/v1/sla-policies/{pid}", headers=admin, json={"unit": "fortnights"})
    assert r.status_code == 422 and r.json()["code"] == "unknown_unit"
    assert client.put("/api/v1/sla-policies/99999", headers=admin, json={}).status_code == 404
    # Ids no row can have (found by schemathesis: a huge negative id made SQL overflow).
    for bad in ("-151178081269528255786909696", "0", "9223372036854775808"):
        assert client.delete(f"/api/v1/sla-policies/{bad}", headers=admin).status_code in (404, 422)
        r = client.put(f"/api/v1/sla-policies/{bad}", headers=admin, json={})
        assert r.status_code in (404, 422)
    # A duplicate scope is a conflict, not a second policy.
    r = client.post(
        "/api/v1/sla-policies",
        headers=admin,
        json={"rule": "ack_24h", "length": 5, "unit": "hours"},
    )
    assert r.status_code == 409 and r.json()["code"] == "sla_policy_exists"
    assert _table(rt) == state


def test_statutory_rules_cannot_be_changed_and_only_admins_edit(client, rt, as_role):
    state = _table(rt)
    r = client.post(
        "/api/v1/sla-policies",
        headers=as_role("admin"),
        json={"rule": "reply_15d", "length": 20, "unit": "calendar_days"},
    )
    assert r.status_code == 409 and r.json()["code"] == "statutory_rule"
    assert "电信用户申诉处理办法" in r.json()["detail"] and "第十条" in r.json()["detail"]
    r = client.post(
        "/api/v1/sla-policies",
        json={"rule": "ack_24h", "kind": "complaint", "length": 5, "unit": "hours"},
    )  # the client is a supervisor
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert _table(rt)[0] == state[0]


def test_a_change_in_one_process_applies_to_the_next_registration_in_another(
    client, rt, as_role, database_url, clock
):
    """Two runtimes on one database stand for two server workers."""
    other = Runtime.start(rt.settings, clock=clock, migrate_db=False)
    try:
        from fastapi.testclient import TestClient

        from kesu.app import create_app

        with TestClient(create_app(other, watcher=False)) as second:
            second.headers.update(client.headers)
            first = _register(second, **URGENT_BILLING)  # the second worker reads the policies
            assert _due(first, "sla_urgent_reply_2wd").date().isoformat() == "2026-12-01"
            r = client.post(
                "/api/v1/sla-policies",
                headers=as_role("admin"),
                json={
                    "rule": "sla_urgent_reply_2wd",
                    **URGENT_BILLING,
                    "length": 3,
                    "unit": "hours",
                },
            )
            assert r.status_code == 201
            nxt = _register(second, **URGENT_BILLING)
            assert _due(nxt, "sla_urgent_reply_2wd") == datetime.fromisoformat(
                nxt["received_at"]
            ) + timedelta(hours=3)
    finally:
        other.close()


def test_the_warning_comes_as_the_policy_says(client, rt, as_role, clock):
    client.post(
        "/api/v1/sla-policies",
        headers=as_role("admin"),
        json={
            "rule": "sla_urgent_reply_2wd",
            **URGENT_BILLING,
            "length": 10,
            "unit": "hours",
            "warn_before_hours": 2,
        },
    )
    c = _register(client, **URGENT_BILLING)
    due = _due(c, "sla_urgent_reply_2wd")
    clock.advance(hours=7, minutes=55)  # 2 h 05 min before the due time
    watcher.warn_once(rt)
    events = client.get(f"/api/v1/complaints/{c['number']}/events").json()["items"]
    warned = [e for e in events if e["type"] == "deadline_warning"]
    assert [e["data"]["rule"] for e in warned if e["data"]["rule"] == "sla_urgent_reply_2wd"] == []
    clock.advance(minutes=10)  # 1 h 55 min before
    watcher.warn_once(rt)
    events = client.get(f"/api/v1/complaints/{c['number']}/events").json()["items"]
    assert [e["data"]["rule"] for e in events if e["type"] == "deadline_warning"].count(
        "sla_urgent_reply_2wd"
    ) == 1
    assert due - clock() == timedelta(hours=1, minutes=55)


def test_a_period_set_for_a_priority_is_not_told_to_the_customer(client, rt, as_role):
    """The portal leaves out limits that depend on the priority (they would tell the risk
    flags); a policy narrowed to a priority is one of them, one for a category is not."""
    from kesu.channels.portal_words import deadlines_in_words

    admin = as_role("admin")
    for scope, hours in (({"priority": "high"}, 2), ({"category": "network"}, 3)):
        r = client.post(
            "/api/v1/sla-policies",
            headers=admin,
            json={
                "rule": "ack_24h",
                "kind": "complaint",
                **scope,
                "length": hours,
                "unit": "hours",
            },
        )
        assert r.status_code == 201, r.text
    high = _register(client, kind="complaint", category="billing", priority="high")
    network = _register(client, kind="complaint", category="network", priority="normal")
    assert _due(high, "ack_24h") - datetime.fromisoformat(high["received_at"]) == timedelta(hours=2)
    assert [w["what"] for w in deadlines_in_words(rt, high, False)] == ["answer"]
    assert "accept" in [w["what"] for w in deadlines_in_words(rt, network, False)]
