"""Split: one call raised two problems; the second becomes a complaint of its own, with
its own category and deadlines (planned by the one registration), linked both ways."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kesu.accounts import users
from kesu.app import create_app
from kesu.store import tables as t
from kesu.store.db import read
from tests.conftest import complaint_body, sign_in

FAULT = "家里宽带断网三天了，光猫红灯一直亮，要求尽快上门修复。"
SECOND = "另外本月账单多扣了30元流量费，要求核实后退还。"
PASSWORD = "password-123456"


def _first(client, **overrides):
    body = complaint_body(
        kind="fault",
        category="network",
        description=FAULT,
        received_at="2026-11-27T09:30:00+08:00",
        customer={"phone": "13800001234", "name": "张三", "province": "河南省"},
        **overrides,
    )
    r = client.post("/api/v1/complaints", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def _split(client, number, expect=201, headers=None, **body):
    r = client.post(f"/api/v1/complaints/{number}/split", json=body, headers=headers)
    assert r.status_code == expect, r.text
    return r.json()


def _counts(rt):
    with read(rt.engine) as conn:
        return tuple(
            conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (t.complaints, t.complaint_events, t.deadlines, t.audit_log)
        )


def test_the_second_problem_becomes_a_complaint_with_its_own_deadlines(rt, client):
    first = _first(client)
    new = _split(
        client,
        first["number"],
        category="billing",
        kind="complaint",
        description=SECOND,
        demands="退还30元",
        note="来电同时反映计费问题",
    )
    assert new["number"] != first["number"]
    assert (new["category"], new["kind"], new["status"]) == ("billing", "complaint", "registered")
    assert new["description"] == SECOND and new["demands"] == "退还30元"
    # The same call: customer (masked as the caller sees it), channel, receipt time.
    for key in ("customer", "channel", "received_at", "first_receiver"):
        assert new[key] == first[key], key
    # Its own deadlines, as a complaint registered directly with its facts would have.
    direct = client.post(
        "/api/v1/complaints",
        json=complaint_body(
            kind="complaint",
            category="billing",
            description=SECOND,
            received_at="2026-11-27T09:30:00+08:00",
            customer={"phone": "13900002222", "province": "河南省"},
        ),
    ).json()
    plan = [(d["rule"], d["due_at"]) for d in new["deadlines"]]
    assert plan and plan == [(d["rule"], d["due_at"]) for d in direct["deadlines"]]
    assert plan != [(d["rule"], d["due_at"]) for d in first["deadlines"]]

    # Linked both ways: in the API view and in each history.
    after = client.get(f"/api/v1/complaints/{first['number']}").json()
    assert after["split_into"] == [new["number"]] and after["split_from"] is None
    assert new["split_from"] == first["number"] and new["split_into"] == []
    again = client.get(f"/api/v1/complaints/{new['number']}").json()
    assert again["split_from"] == first["number"]
    # The first complaint's record is unchanged but for the event.
    assert (after["status"], after["category"], after["version"], after["description"]) == (
        first["status"],
        "network",
        first["version"],
        FAULT,
    )
    mine = client.get(f"/api/v1/complaints/{first['number']}/events").json()["items"]
    assert mine[-1]["type"] == "split_off" and mine[-1]["type_name"] == "拆分出新投诉"
    assert mine[-1]["data"]["into"] == new["number"] and mine[-1]["note"] == "来电同时反映计费问题"
    theirs = client.get(f"/api/v1/complaints/{new['number']}/events").json()["items"]
    assert [e["type"] for e in theirs] == ["registered", "split_from"]
    assert theirs[1]["data"]["from"] == first["number"]
    with read(rt.engine) as conn:
        [entry] = conn.execute(
            select(t.audit_log).where(t.audit_log.c.action == "complaint.split")
        ).all()
    assert entry.target_id == first["number"] and entry.detail["into"] == new["number"]


def test_bad_input_is_refused_and_changes_nothing(rt, client, act, as_role):
    first = _first(client)
    n = first["number"]
    before = _counts(rt)
    cases = [
        ({"category": "billing", "description": "多扣费"}, 422, "description_too_short"),
        ({"category": "network", "description": SECOND}, 422, "split_same_category"),
        ({"category": "nonsense", "description": SECOND}, 422, "unknown_category"),
        ({"description": SECOND}, 422, "missing_field"),
        ({"category": "billing", "description": SECOND, "team": "x"}, 422, "unknown_field"),
    ]
    for body, status, code in cases:
        r = _split(client, n, expect=status, **body)
        assert r["code"] == code, r
        assert r["detail"]
    r = _split(
        client, n, expect=403, headers=as_role("auditor"), category="billing", description=SECOND
    )
    assert r["code"] == "forbidden"
    r = _split(client, "TS20261128999999", expect=404, category="billing", description=SECOND)
    assert r["code"] == "not_found"
    assert _counts(rt)[:3] == before[:3]

    act(n, "invalidate", reason="not_specific")
    r = _split(client, n, expect=409, category="billing", description=SECOND)
    assert r["code"] == "split_not_open" and "不能再拆分" in r["detail"]


@pytest.fixture
def web(rt):
    users.create_user(rt, "test", "split.handler", "handler", PASSWORD)
    with TestClient(create_app(rt, watcher=False)) as c:
        got = sign_in(c, {"username": "split.handler", "password": PASSWORD})
        assert got.status_code == 200, got.text
        yield c


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_the_complaint_page_splits_and_shows_the_links_on_both_pages(rt, client, web):
    first = _first(client)
    page = web.get(f"/complaints/{first['number']}")
    assert 'id="split"' in page.text and 'action="/complaints/' in page.text
    # The first complaint's own category is not offered for the second problem.
    form = page.text.split('id="split"', 1)[1]
    assert 'value="network"' not in form.split("</select>", 1)[0]
    r = web.post(
        f"/complaints/{first['number']}/split",
        data={"csrf_token": _csrf(page.text), "category": "billing", "description": SECOND},
    )
    assert r.status_code == 200
    new_number = re.search(r"/complaints/(TS\d+)", str(r.url)).group(1)
    assert new_number != first["number"]
    assert "已拆分" in r.text and f"data-split-from>{first['number']}<" in r.text
    back = web.get(f"/complaints/{first['number']}")
    assert f"data-split-into>{new_number}<" in back.text
    assert "拆分出新投诉" in back.text  # the event in the history

    short = web.post(
        f"/complaints/{first['number']}/split",
        data={"csrf_token": _csrf(page.text), "category": "usage", "description": "太短"},
    )
    assert short.status_code == 422 and "至少写 10 个字" in short.text
    assert client.get(f"/api/v1/complaints/{first['number']}").json()["split_into"] == [new_number]


def test_a_role_without_the_permission_sees_no_split_form(rt, client):
    first = _first(client)
    users.create_user(rt, "test", "split.quality", "quality", PASSWORD)
    with TestClient(create_app(rt, watcher=False)) as c:
        sign_in(c, {"username": "split.quality", "password": PASSWORD})
        page = c.get(f"/complaints/{first['number']}")
        assert page.status_code == 200 and 'id="split"' not in page.text
