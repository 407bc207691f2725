"""The appeal centre in the browser: a letter registered, accepted with the officer's
confirmations, referred to the operator, mediated and closed by an agreement."""

from __future__ import annotations

import re
from datetime import timedelta

from kesu.clock import system_clock, to_beijing
from tests.e2e.conftest import shot


def _day(offset: int) -> str:
    return (to_beijing(system_clock()).date() + timedelta(days=offset)).isoformat()


def _add_operator(page, code: str) -> None:
    page.goto("/admin/appeal-operators")
    if page.locator(f'tr[data-code="{code}"]').count():
        return
    form = page.locator("#operator-form")
    form.locator("input[name=code]").fill(code)
    form.locator("input[name=name]").fill("某电信公司某省分公司")
    form.locator("input[name=address]").fill("某市某路1号")
    form.locator("input[name=users]").fill("2000000")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert page.locator(f'tr[data-code="{code}"]').count() == 1


def _act(page, action: str, fill: dict[str, str] | None = None) -> None:
    box = page.locator(f'details[data-action="{action}"]')
    if box.get_attribute("open") is None:
        box.locator("summary").click()
    for name, value in (fill or {}).items():
        box.locator(f'[name="{name}"]').fill(value)
    with page.expect_navigation():
        box.locator("button[type=submit]").click()
    assert page.locator(".flash.error").count() == 0, page.locator(".flash.error").inner_text()


def _others(server) -> None:
    """Two more in the queue: a letter received 12 days ago (its decision overdue) and one
    still missing materials."""
    from kesu.appeals import service
    from kesu.appeals.schemas import AppealIn

    common = {
        "operator": "e2e-telecom",
        "request": "恢复被停机的号码并赔偿损失",
        "reasons": "未欠费被停机",
        "facts": "号码在未欠费的情况下被停机三天，向企业投诉后未获处理。",
        "occurred_at": _day(-60),
        "complained_at": _day(-40),
        "channel": "letter",
    }
    late = {"name": "赵六", "phone": "13700137000", "address": "某市某区1号", "postcode": "100001"}
    received = to_beijing(system_clock()) - timedelta(days=12)
    for body in (
        {**common, "appellant": late, "received_at": received.isoformat()},
        {**common, "appellant": {"name": "钱七", "phone": "13600136000"}, "channel": "phone"},
    ):
        service.receive(server.rt, AppealIn.model_validate(body), "e2e")


def test_an_appeal_from_receipt_to_agreement(new_page, server):
    boss = new_page("demo-appeal_supervisor", "kesu-demo-appeal_supervisor")
    _add_operator(boss, "e2e-telecom")
    _others(server)

    officer = new_page("demo-appeal_officer", "kesu-demo-appeal_officer")
    officer.goto("/appeals/new")
    form = officer.locator("#new-appeal")
    form.locator("select[name=channel]").select_option("letter")
    for name, value in {
        "name": "王五",
        "phone": "13900139000",
        "postcode": "100000",
        "address": "某市某区某街8号",
        "request": "退还多扣的套餐外流量费86元",
        "reasons": "从未订购该流量包",
        "facts": "上月账单出现未订购的流量包，向客服投诉后企业答复不予退费。",
        "occurred_at": _day(-30),
        "complained_at": _day(-20),
        "operator_answered_at": _day(-16),
    }.items():
        form.locator(f"[name={name}]").fill(value)
    form.locator("select[name=operator]").select_option("e2e-telecom")
    form.locator("select[name=dispute]").select_option("fee")
    with officer.expect_navigation(url=re.compile(r"/appeals/SS\d{14}")):
        form.locator("button[type=submit]").click()
    number = re.search(r"SS\d{14}", officer.url).group(0)
    assert "申诉已登记" in officer.locator("#flash").inner_text()
    assert officer.locator("#appeal-status").inner_text() == "受理审查"
    assert "第三十九条" in officer.locator("#limit-reply").inner_text()
    assert "第十四条" in officer.locator("#limit-accept").inner_text()

    # The queue lists it among the decisions to make.
    officer.goto("/appeals?queue=accept")
    row = officer.locator(f'tr[data-number="{number}"]')
    assert "王*" in row.inner_text() and "受理审查" in row.inner_text()
    shot(officer, "appeal-queue")

    officer.goto(f"/appeals/{number}")
    accept = officer.locator('details[data-action="accept"]')
    for key, answer in (
        ("direct_interest", "yes"),
        ("settled", "no"),
        ("other_body", "no"),
        ("other_law", "no"),
    ):
        accept.locator(f'input[name="confirm.{key}"][value="{answer}"]').check()
    officer.evaluate("window.scrollTo(0, 0)")
    shot(officer, "appeal")
    _act(officer, "accept")
    assert officer.locator("#appeal-status").inner_text() == "已受理"

    _act(officer, "refer")
    assert officer.locator("#appeal-status").inner_text() == "已转企业处理"
    assert "中心规定" in officer.locator("#referral").inner_text()

    _act(officer, "mediate", {"participants": "申诉人王五、企业代表", "notes": "企业同意退还86元"})
    assert officer.locator("#appeal-status").inner_text() == "调解中"
    assert "企业同意退还86元" in officer.locator("#mediation").inner_text()

    perform_by = _day(10)
    _act(officer, "agree", {"terms": "企业于十日内退还86元", "perform_by": perform_by})
    assert officer.locator("#appeal-status").inner_text() == "已达成调解协议"
    assert perform_by in officer.locator("#mediation").inner_text()
    timeline = officer.locator("#timeline").inner_text()
    for event in ("收到申诉", "受理", "转企业处理", "调解", "达成调解协议"):
        assert event in timeline
    assert "已按期完成" in officer.locator("#limit-reply").inner_text()

    boss.goto("/appeals/dashboard")
    assert boss.locator('[data-status="agreed"] .n').inner_text() != "0"
    shot(boss, "appeal-dashboard")
