"""A handler's day, in a real browser: a complaint of their team is claimed, the
customer's phone revealed with one click to call back (audited, phone only), a remedy
proposed that needs approval (the banner says who and why), a supervisor approves it from
the header's counter, and the handler replies, records the call back and closes it."""

from __future__ import annotations

import re

from sqlalchemy import select

from kesu.accounts.roles import system
from kesu.complaints import reveal, transitions
from kesu.store import tables as t
from tests.e2e.conftest import shot

C = t.complaints.c


def _team_complaint(rt) -> str:
    """A new complaint of demo-handler's team (billing), given by the team's policy to a
    colleague (another billing member if the policy picked demo-handler)."""
    from kesu.channels import intake
    from kesu.demo.staff import STAFF

    body = {
        "channel": "hotline",
        "customer": {"phone": "13912340001", "name": "钱七", "province": "广东省"},
        "category": "billing",
        "team": "billing",
        "description": "用户来电反映本月话费多扣了45元，要求核实并退还多收的费用。",
    }
    view, _ = intake.receive(rt, intake.validate(body), system("e2e"))
    if view["assignee"] in (None, "demo-handler"):
        colleague = next(
            u for u, _, role, team, _ in STAFF if team == "billing" and u != "demo-handler"
        )
        transitions.transition(rt, view["number"], "assign", {"assignee": colleague}, system())
    return view["number"]


def _act(page, action: str, fields: dict[str, str] | None = None, done: str = "action") -> None:
    box = page.locator(f"details[data-action={action}]")
    box.locator("summary").click()
    for name, value in (fields or {}).items():
        el = box.locator(f"[name={name}]")
        if el.evaluate("e => e.tagName") == "SELECT":
            el.select_option(value)
        else:
            el.fill(value)
    with page.expect_navigation(url=re.compile(f"done={done}")):
        box.locator("button[type=submit]").click()
    page.locator("#flash .flash.ok").wait_for()


def _pii_shown(rt, number: str) -> list[dict]:
    with rt.engine.connect() as conn:
        return [
            dict(r.detail) | {"actor": r.actor}
            for r in conn.execute(
                select(t.audit_log).where(
                    t.audit_log.c.action == "pii.show", t.audit_log.c.target_id == number
                )
            )
        ]


def test_a_handlers_day_call_back_approval_reply_close(new_page, server):
    number = _team_complaint(server.rt)
    phone = reveal.reveal(server.rt, number, system("e2e"), "audit")["customer"]["phone"]
    handler = new_page("demo-handler")
    handler.goto(f"/complaints/{number}")
    # Not theirs yet: no reveal; they claim it (their team's), and it is theirs.
    assert handler.locator("#reveal-form").count() == 0
    _act(handler, "claim")
    assert "demo-handler" in handler.locator("main").inner_text()
    customer = handler.locator("#customer")
    assert phone not in customer.inner_text() and "****" in customer.inner_text()

    # One click: the reason 回访客户 is chosen already; the phone only, audited.
    assert handler.locator("#reveal-form select[name=reason]").input_value() == "callback"
    handler.locator("#reveal-phone").click()
    handler.locator("#customer a[href^='tel:']").wait_for()
    assert handler.locator("#customer a[href^='tel:']").inner_text() == phone
    assert "号码已显示（已留痕）" in customer.inner_text()
    assert "*" in handler.locator("#customer dd").first.inner_text()  # the name stays masked
    mine = [e for e in _pii_shown(server.rt, number) if e["actor"] == "demo-handler"]
    assert mine == [
        {
            "reason": "callback",
            "reason_name": "回访客户",
            "scope": "phone",
            "basis": "assignee",
            "actor": "demo-handler",
        }
    ]

    # Accept, investigate, propose a compensation above the threshold: it waits.
    _act(handler, "accept", {"note": "已回电客户，说明处理流程和时限"})
    _act(handler, "investigate")
    _act(
        handler,
        "propose",
        {"resolution": "经核查多收取了费用，拟全额退费并补偿300元。", "compensation": "300"},
        done="proposed",
    )
    notice = handler.locator("#flash").inner_text()
    assert "现待审批" in notice and "班组长/主管或法务" in notice
    assert "赔偿金额 300.00 元超过审批阈值 100.00 元" in notice
    banner = handler.locator("#approval-banner")
    assert "待审批" in banner.inner_text() and "班组长/主管或法务" in banner.inner_text()
    assert handler.locator("details[data-action=reply]").count() == 0  # not before approval
    shot(handler, "complaint-approval")

    # The supervisor sees the counter in the header and approves from the queue.
    boss = new_page("demo-supervisor")
    boss.goto("/workbench")
    counter = boss.locator("#approvals .approval-counter")
    counter.wait_for()
    assert re.fullmatch(r"待审批 \d+", counter.inner_text())
    counter.click()
    boss.wait_for_url(re.compile("approval=waiting"))
    boss.locator(f"#queue tr[data-number='{number}'] a").click()
    boss.wait_for_url(re.compile(number))
    assert "去审批" in boss.locator("#approval-banner").inner_text()
    _act(boss, "approve", {"note": "同意退费及补偿"})
    assert boss.locator("#approval-banner").count() == 0

    # Back to the handler: reply, call back, close.
    handler.goto(f"/complaints/{number}")
    assert handler.locator("#approval-banner").count() == 0
    _act(handler, "reply")
    _act(handler, "callback", {"result": "satisfied"})
    _act(handler, "close", {"root_cause": "human_error"})  # the cause is a required select
    assert "已归档" in handler.locator("h1").inner_text()
    # Closed: no call to make, so no reveal for the handler any more.
    assert handler.locator("#reveal-form").count() == 0
    timeline = handler.locator("#timeline").inner_text()
    for step in ("受理", "拟定方案", "审批通过", "答复客户", "回访", "归档"):
        assert step in timeline
