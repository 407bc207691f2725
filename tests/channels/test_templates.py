"""Customer notification templates edited by an admin: the next message uses the new
text, every version is kept, a bad edit is refused and changes nothing."""

from __future__ import annotations

import re

from sqlalchemy import select

from kesu.store import tables as t
from tests.conftest import bearer

N = t.notifications.c


def _sent(rt) -> list[dict]:
    with rt.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(t.notifications).order_by(N.id))]


def test_an_edited_template_is_used_from_the_next_message_and_its_history_kept(
    rt, client, as_role, make_complaint, act
):
    admin = as_role("admin")
    listed = client.get("/api/v1/notification-templates", headers=admin).json()["items"]
    accepted = next(x for x in listed if x["key"] == "accepted")
    assert accepted["edited"] is False and accepted["event"] == "accepted"
    assert set(accepted["fields"]) == {"number", "portal", "reply_due", "basis"}
    assert accepted["preview"].startswith("【客诉】您的投诉已受理，单号TS")

    new = "您好，投诉{number}已受理，我们会在{reply_due}前答复{basis}。查询：{portal}"
    r = client.put(
        "/api/v1/notification-templates/accepted",
        json={"text": new, "note": "按客服部统一话术调整"},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    assert r.json()["edited"] is True and r.json()["history"][0]["note"] == "按客服部统一话术调整"

    n = make_complaint()["number"]
    act(n, "accept")
    body = _sent(rt)[-1]["body"]
    assert body.startswith(f"您好，投诉{n}已受理，我们会在2026年12月14日前答复（时限依据")

    # Back to the file's default: a version of its own; the history keeps both.
    r = client.put("/api/v1/notification-templates/accepted", json={"text": None}, headers=admin)
    one = r.json()
    assert one["edited"] is False and one["text"] == one["default_text"]
    assert [v["restored_default"] for v in one["history"]] == [True, False]
    assert one["history"][1]["text"] == new
    m = make_complaint(customer={"phone": "13900001111", "name": "李四"})["number"]
    act(m, "accept")
    assert _sent(rt)[-1]["body"].startswith(f"您的投诉已受理，单号{m}。")

    audit = client.get("/api/v1/audit", headers=as_role("auditor")).json()["items"]
    actions = [a["action"] for a in audit]
    assert "notification_template.edit" in actions and "notification_template.restore" in actions


def test_a_bad_edit_is_refused_in_chinese_and_saves_nothing(client, as_role):
    admin = as_role("admin")
    url = "/api/v1/notification-templates/delayed"
    for text, code, named in [
        ("单号{number}，电话{phone}", "template_unknown_field", "{phone}"),
        ("单号{number.__class__}", "template_unknown_field", "{number.__class__}"),
        ("单号{number:>20}", "template_unknown_field", "{number}"),
        ("单号{number", "template_bad_braces", "花括号"),
        ("   ", "template_empty", "不能为空"),
        ("单号{number}" + "很抱歉" * 80, "template_too_long", "条短信"),
        ("单号{number}，预计{reply_due}", "template_unknown_field", "{reply_due}"),
    ]:
        r = client.put(url, json={"text": text}, headers=admin)
        assert r.status_code == 422, (text, r.text)
        assert r.json()["code"] == code and named in r.json()["detail"], r.json()
    one = client.get(url, headers=admin).json()
    assert one["history"] == [] and one["edited"] is False
    # The delay template may name the new date and the reason (and no other event's fields).
    ok = client.put(
        url, json={"text": "单号{number}因{reason}顺延至{expected}答复。"}, headers=admin
    )
    assert ok.status_code == 200 and ok.json()["preview"].endswith("顺延至2026年12月25日答复。")


def test_only_admins_see_or_edit_templates(client, tokens):
    for role in ("supervisor", "agent", "auditor"):
        r = client.get("/api/v1/notification-templates", headers=bearer(tokens(role)))
        assert r.status_code == 403
    r = client.put(
        "/api/v1/notification-templates/closed",
        json={"text": "已办结。"},
        headers=bearer(tokens("supervisor")),
    )
    assert r.status_code == 403
    assert (
        client.get(
            "/api/v1/notification-templates/nope", headers=bearer(tokens("admin"))
        ).status_code
        == 404
    )


def test_the_admin_page_edits_a_template_and_shows_its_history(staff_web):
    web, csrf = staff_web("tpl-admin", "admin")
    page = web.get("/admin/notification-templates")
    assert page.status_code == 200
    assert (
        "客户通知模板" in page.text and "延期告知" in page.text and 'data-key="closed"' in page.text
    )
    bad = web.post(
        "/admin/notification-templates/closed",
        data={"csrf_token": csrf, "text": "单号{number}，{nope}", "note": ""},
    )
    assert bad.status_code == 422 and "不可用" in bad.text
    assert "单号{number}，{nope}" in bad.text  # the draft is kept for correcting
    done = web.post(
        "/admin/notification-templates/closed",
        data={
            "csrf_token": csrf,
            "text": "您的投诉（单号{number}）已办结，感谢您的耐心。",
            "note": "更亲切",
        },
    )
    assert done.status_code == 200 and "已保存" in done.text
    assert re.search(r'data-key="closed" data-edited="yes"', done.text)
    one = web.get("/admin/notification-templates/closed")
    assert "更亲切" in one.text and "tpl-admin" in one.text and "恢复默认内容" in one.text
