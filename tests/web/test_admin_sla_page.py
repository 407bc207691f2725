"""The time-limits admin page: internal SLA policies added, changed and removed through its
forms (signed in as a browser is, CSRF token included), their history, statutory rules
read-only; on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from kesu.accounts import users
from kesu.app import create_app
from kesu.complaints import registration
from kesu.complaints.schemas import ComplaintIn
from kesu.store import tables as t
from tests.conftest import complaint_body, sign_in

PASSWORD = "password-123456"


@pytest.fixture
def signed_in(rt):
    app = create_app(rt, watcher=False)
    clients: list[TestClient] = []

    def make(role: str):
        name = f"p-{role}"
        users.create_user(rt, "test", name, role, PASSWORD)
        web = TestClient(app)
        clients.append(web)
        r = sign_in(web, {"username": name, "password": PASSWORD})
        assert r.status_code == 200, r.text
        return web, re.search(r'name="csrf_token" value="([^"]+)"', r.text).group(1)

    yield make
    for web in clients:
        web.close()


def _policies(rt) -> list[tuple]:
    with rt.engine.connect() as conn:
        rows = conn.execute(select(t.sla_policies).order_by(t.sla_policies.c.id)).all()
    return [(p.id, p.rule, p.kind, p.category, p.priority, p.length, p.unit) for p in rows]


def _row(html: str, pid: int) -> str:
    found = re.search(rf'<tr data-policy="{pid}"[^>]*>(.*?)</tr>', html, re.S)
    assert found, f"no row for policy {pid}"
    return found.group(1)


def _due(rt, rule: str, **fields) -> timedelta:
    body = ComplaintIn.model_validate(complaint_body(**fields)).model_dump()
    view, _ = registration.register(rt, body, "test")
    (d,) = [d for d in view["deadlines"] if d["rule"] == rule]
    return datetime.fromisoformat(d["due_at"]) - datetime.fromisoformat(view["received_at"])


def test_the_page_shows_each_policy_statutory_rules_read_only_and_when_changes_apply(rt, signed_in):
    web, _ = signed_in("admin")
    html = web.get("/admin/sla").text
    assert "内部时限政策（可修改）" in html
    assert "修改只对修改之后登记的投诉生效，已登记投诉的时限不重新计算" in html
    assert "法定时限来自法律法规" in html and "只读" in html
    reply = re.search(r'<tr id="rule-reply_15d" data-rule="reply_15d">(.*?)</tr>', html, re.S)
    assert "是法定时限，依据《电信用户申诉处理办法》第十条" in reply.group(1)
    for pid, *_ in _policies(rt):
        row = _row(html, pid)
        assert f'action="/admin/sla/policies/{pid}"' in row
        assert f"/admin/sla/policies/{pid}/delete" not in row  # a rule's default stays
    assert {rule for _, rule, *_ in _policies(rt)} == {
        "ack_24h",
        "consult_answer_48h",
        "sla_urgent_reply_2wd",
        "reopen_reply_5wd",
    }
    assert "初始值（数据文件）" in html  # the seeding is in the history
    web.cookies.set("kesu_lang", "en")
    assert "Internal SLA policies (editable)" in web.get("/admin/sla").text


def test_an_admin_adds_changes_and_removes_a_policy_through_the_forms(rt, signed_in):
    web, csrf = signed_in("admin")
    web.get("/admin/sla")
    form = {
        "csrf_token": csrf,
        "rule": "sla_urgent_reply_2wd",
        "kind": "complaint",
        "category": "billing",
        "priority": "urgent",
        "length": "4",
        "unit": "hours",
        "warn_before_hours": "1",
    }
    r = web.post("/admin/sla/policies", data=form)
    assert r.status_code == 200 and "已新增内部时限政策" in r.text
    added = [p for p in _policies(rt) if p[3] == "billing"]
    assert len(added) == 1 and added[0][5:] == (4, "hours")
    pid = added[0][0]
    row = _row(r.text, pid)
    assert "投诉 · 资费计费 · 紧急" in row and f"/admin/sla/policies/{pid}/delete" in row
    history = re.search(r'<table class="compact" id="sla-history">(.*?)</table>', r.text, re.S)
    assert "新增" in history.group(1) and "p-admin" in history.group(1)
    assert _due(
        rt, "sla_urgent_reply_2wd", kind="complaint", category="billing", priority="urgent"
    ) == timedelta(hours=4)

    r = web.post(
        f"/admin/sla/policies/{pid}",
        data={"csrf_token": csrf, "length": "6", "unit": "hours", "warn_before_hours": "2"},
    )
    assert r.status_code == 200 and "已修改内部时限政策" in r.text
    assert [p for p in _policies(rt) if p[0] == pid][0][5:] == (6, "hours")
    assert _due(
        rt, "sla_urgent_reply_2wd", kind="complaint", category="billing", priority="urgent"
    ) == timedelta(hours=6)

    r = web.post(f"/admin/sla/policies/{pid}/delete", data={"csrf_token": csrf})
    assert r.status_code == 200 and "已删除内部时限政策" in r.text
    assert not [p for p in _policies(rt) if p[0] == pid]
    actions = re.findall(r"<td>(新增|修改|删除)</td>", r.text)
    assert actions == ["删除", "修改", "新增"]


def test_bad_input_shows_the_reason_and_changes_nothing(rt, signed_in):
    web, csrf = signed_in("admin")
    web.get("/admin/sla")
    before = _policies(rt)
    pid = before[0][0]
    r = web.post(
        f"/admin/sla/policies/{pid}",
        data={"csrf_token": csrf, "length": "0", "unit": "hours", "warn_before_hours": "1"},
    )
    assert r.status_code == 422 and "时限长度须为 1 至 720 之间的整数" in r.text
    r = web.post(
        "/admin/sla/policies",
        data={"csrf_token": csrf, "rule": "reply_15d", "length": "20", "unit": "calendar_days"},
    )
    assert r.status_code == 409 and "是法定时限" in r.text and "第十条" in r.text
    r = web.post(
        "/admin/sla/policies",
        data={"csrf_token": csrf, "rule": "ack_24h", "length": "三", "unit": "hours"},
    )
    assert r.status_code == 422 and "时限长度须为" in r.text
    r = web.post(f"/admin/sla/policies/{pid}", data={"length": "5"})  # no CSRF token
    assert r.status_code == 403
    assert _policies(rt) == before


def test_staff_without_the_permission_read_but_cannot_change(rt, signed_in):
    web, csrf = signed_in("supervisor")
    html = web.get("/admin/sla").text
    assert "内部时限政策（可修改）" in html and 'id="sla-add"' not in html
    before = _policies(rt)
    pid = before[0][0]
    r = web.post(f"/admin/sla/policies/{pid}", data={"csrf_token": csrf, "length": "1"})
    assert r.status_code == 403
    r = web.post(f"/admin/sla/policies/{pid}/delete", data={"csrf_token": csrf})
    assert r.status_code == 403
    assert _policies(rt) == before
