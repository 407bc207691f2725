"""The corrective actions' pages: the list and its group form, one action with its forms,
the complaint page's section, the dashboard's card."""

from __future__ import annotations

import re
from datetime import timedelta

from kesu.clock import as_utc
from kesu.corrective import overdue
from tests.conftest import NOW

DUE = (NOW.date() + timedelta(days=10)).isoformat()


def _cause(make_complaint, act, cause="system_fault") -> str:
    n = make_complaint(category="billing")["number"]
    act(n, "accept")
    act(n, "reply", resolution="已核实处理。", root_cause=cause)
    return n


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_a_supervisor_opens_from_a_group_on_the_list_page(
    rt, staff_web, make_complaint, act, tokens
):
    n = _cause(make_complaint, act)
    tokens("handler")
    web, csrf = staff_web("wang.lead", "supervisor")
    page = web.get("/corrective-actions")
    assert page.status_code == 200 and "按分组立项" in page.text
    # Nothing chosen for the group: the form again, the reason in Chinese, nothing opened.
    refused = web.post(
        "/corrective-actions",
        data={
            "csrf_token": csrf,
            "title": "计费整改",
            "description": "修复",
            "owner": "t-handler",
            "due_on": DUE,
        },
    )
    assert refused.status_code == 422 and "至少按原因、分类、省或市之一分组" in refused.text
    assert 'value="计费整改"' in refused.text
    done = web.post(
        "/corrective-actions",
        data={
            "csrf_token": csrf,
            "title": "计费整改",
            "description": "修复计费规则",
            "owner": "t-handler",
            "due_on": DUE,
            "root_cause": "system_fault",
            "category": "billing",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    where = done.headers["location"]
    assert re.fullmatch(r"/corrective-actions/\d+\?done=opened", where)
    one = web.get(where)
    assert "整改任务已立项" in one.text and "计费整改" in one.text
    assert f'href="/complaints/{n}"' in one.text
    assert 'data-action="start"' in one.text and 'data-action="cancel"' in one.text
    listed = web.get("/corrective-actions?state=open")
    assert "计费整改" in listed.text


def test_the_action_page_moves_it_and_shows_the_effect(rt, staff_web, make_complaint, act, tokens):
    tokens("handler")
    n = _cause(make_complaint, act)
    web, csrf = staff_web("wang.lead", "supervisor")
    page = web.get(f"/complaints/{n}")
    assert "就此投诉立项整改" in page.text
    r = web.post(
        "/corrective-actions",
        data={
            "csrf_token": csrf,
            "complaint": n,
            "title": "单件整改",
            "description": "核查",
            "owner": "t-handler",
            "due_on": DUE,
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    aid = re.search(r"/corrective-actions/(\d+)", r.headers["location"]).group(1)
    assert f"#{aid} 单件整改" in web.get(f"/complaints/{n}").text
    one = web.get(f"/corrective-actions/{aid}").text
    version = re.search(r'name="expected_version" value="(\d+)"', one).group(1)
    closed = web.post(
        f"/corrective-actions/{aid}/act",
        data={
            "csrf_token": csrf,
            "action": "close",
            "outcome": "修复完成",
            "expected_version": version,
        },
        follow_redirects=False,
    )
    assert closed.status_code == 303
    shown = web.get(f"/corrective-actions/{aid}").text
    assert "已完成" in shown and "修复完成" in shown
    assert "整改前4周" in shown and "暂不判断" in shown  # closed today: weeks to come
    again = web.post(
        f"/corrective-actions/{aid}/act",
        data={"csrf_token": csrf, "action": "start"},
        follow_redirects=False,
    )
    assert again.status_code == 409 and "不能" in again.text


def test_the_handler_sees_no_opening_form_and_works_on_their_own(
    rt, staff_web, make_complaint, act, client
):
    n = _cause(make_complaint, act)
    web, csrf = staff_web("li.handler", "handler")
    assert "就此投诉立项整改" not in web.get(f"/complaints/{n}").text
    assert "按分组立项" not in web.get("/corrective-actions").text
    body = {
        "title": "话术整改",
        "description": "培训",
        "owner": "li.handler",
        "due_on": DUE,
        "complaint": n,
    }
    aid = client.post("/api/v1/corrective-actions", json=body).json()["id"]
    page = web.get(f"/corrective-actions/{aid}").text
    assert 'data-action="start"' in page and 'data-action="cancel"' not in page
    r = web.post(
        f"/corrective-actions/{aid}/progress",
        data={"csrf_token": csrf, "note": "已完成两次培训"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert "已完成两次培训" in web.get(f"/corrective-actions/{aid}").text
    forbidden = web.post(
        "/corrective-actions",
        data={
            "csrf_token": csrf,
            "complaint": n,
            "title": "x",
            "description": "x",
            "owner": "li.handler",
            "due_on": DUE,
        },
    )
    assert forbidden.status_code == 403


def test_the_dashboard_card(rt, staff_web, make_complaint, act, client, tokens, clock):
    tokens("handler")
    n = _cause(make_complaint, act)
    base = {"description": "整改", "owner": "t-handler", "due_on": str(NOW.date())}
    late = client.post(
        "/api/v1/corrective-actions", json={**base, "title": "逾期的任务", "complaint": n}
    ).json()
    done = client.post(
        "/api/v1/corrective-actions",
        json={**base, "title": "完成的任务", "group": {"category": "billing"}},
    )
    done = done.json()
    client.post(
        f"/api/v1/corrective-actions/{done['id']}/transitions",
        json={"action": "close", "outcome": "完成"},
    )
    clock.now = as_utc(NOW + timedelta(days=2))
    overdue.tell_overdue(rt)
    web, _ = staff_web("wang.lead", "supervisor")
    page = web.get("/dashboard").text
    card = page[page.index('id="corrective"') : page.index('id="per10k"')]
    assert re.search(r'<span class="n">1</span>进行中', card)
    assert "逾期的任务" in card[card.index('id="corrective-overdue"') :]
    recent = card[card.index('id="corrective-recent"') :]
    assert "完成的任务" in recent and "分类“资费计费”" in recent and "暂不判断" in recent
    assert late["id"] != done["id"]
