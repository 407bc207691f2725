"""The complaint page shows a likely duplicate from another channel with a one-click
merge (the later into the earlier); the merge is the lifecycle's, audited; a request
that names no duplicate, or comes without its token, changes nothing."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from kesu.clock import BEIJING
from kesu.complaints import registration
from kesu.store import tables as t
from tests.conftest import NOW, complaint_body

PHONE = "13912345678"


def _new(rt, channel: str, days_ago: float, phone: str = PHONE) -> str:
    at = (NOW - timedelta(days=days_ago)).astimezone(BEIJING)
    body = complaint_body(
        channel=channel, category="billing", customer={"phone": phone}, received_at=at
    )
    return registration.register(rt, body, "test")[0]["number"]


def _state(rt) -> dict:
    with rt.engine.connect() as conn:
        return {
            "statuses": dict(
                conn.execute(select(t.complaints.c.number, t.complaints.c.status)).all()
            ),
            "events": conn.execute(
                select(func.count()).select_from(t.complaint_events)
            ).scalar_one(),
        }


def test_the_duplicate_is_shown_and_merged_by_one_click(rt, staff_web):
    a = _new(rt, "hotline", 1)
    b = _new(rt, "app", 0)
    web, csrf = staff_web("dup-sup", "supervisor")
    page = web.get(f"/complaints/{b}")
    assert page.status_code == 200
    assert 'id="duplicates"' in page.text and "疑似重复" in page.text
    assert f'data-duplicate="{a}"' in page.text and "同一分类" in page.text
    button = re.search(r'<button[^>]*data-merge="([^"]+)" data-keep="([^"]+)"', page.text)
    assert button and button.groups() == (b, a)
    assert f"合并（{b} 并入 {a}）" in page.text
    # The earlier one shows the pair too.
    assert f'data-duplicate="{b}"' in web.get(f"/complaints/{a}").text

    r = web.post(
        f"/complaints/{b}/duplicates/merge",
        data={"csrf_token": csrf, "other": a},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].endswith(f"/complaints/{a}?done=merged")
    kept = web.get(r.headers["location"])
    assert "已合并" in kept.text and 'id="duplicates"' not in kept.text
    assert _state(rt)["statuses"][b] == "merged"
    with rt.engine.connect() as conn:
        events = conn.execute(
            select(t.complaint_events.c.type, t.complaint_events.c.note)
            .join(t.complaints, t.complaints.c.id == t.complaint_events.c.complaint_id)
            .where(t.complaints.c.number.in_([a, b]))
        ).all()
        merged_by = (
            conn.execute(
                select(t.audit_log.c.actor).where(
                    t.audit_log.c.action == "complaint.merge", t.audit_log.c.target_id == b
                )
            )
            .scalars()
            .all()
        )
    assert {e.type for e in events} >= {"merged", "duplicate_merged"}
    assert any("跨渠道疑似重复" in (e.note or "") for e in events if e.type == "merged")
    assert merged_by == ["dup-sup"]


def test_who_may_not_merge_sees_no_button(rt, staff_web):
    a = _new(rt, "hotline", 1)
    b = _new(rt, "sms", 0)
    web, csrf = staff_web("dup-agent", "agent")
    page = web.get(f"/complaints/{b}")
    assert f'data-duplicate="{a}"' in page.text and "data-merge=" not in page.text
    before = _state(rt)
    r = web.post(f"/complaints/{b}/duplicates/merge", data={"csrf_token": csrf, "other": a})
    assert r.status_code == 403
    assert _state(rt) == before


def test_a_merge_naming_no_duplicate_changes_nothing(rt, staff_web):
    a = _new(rt, "hotline", 1)
    b = _new(rt, "app", 0)
    stranger = _new(rt, "web", 0, phone="13700001111")
    web, csrf = staff_web("dup-sup2", "supervisor")
    before = _state(rt)
    r = web.post(f"/complaints/{b}/duplicates/merge", data={"csrf_token": csrf, "other": stranger})
    assert r.status_code == 409 and "不是本单的疑似重复" in r.text
    r = web.post(f"/complaints/{b}/duplicates/merge", data={"other": a})  # no CSRF token
    assert r.status_code == 403
    r = web.post(f"/complaints/{b}/duplicates/merge", data={"csrf_token": csrf})
    assert r.status_code == 422 and "请选择" in r.text
    assert _state(rt) == before
