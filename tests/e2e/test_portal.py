"""A customer on a phone: sign in by code, submit with evidence, follow, rate."""

from __future__ import annotations

import re

from kesu.accounts.roles import system
from kesu.complaints import transitions
from tests.conftest import last_code
from tests.e2e.conftest import shot

PHONE = "13600136000"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


def test_a_customer_submits_follows_and_rates(new_page, server):
    page = new_page(phone=True)
    page.goto("/portal")
    shot(page, "portal")
    page.goto("/portal/login")
    page.fill("input[name=phone]", PHONE)
    page.click("button[value=code]")
    page.locator("input[name=code]").wait_for()
    page.fill("input[name=code]", last_code(server.rt))
    page.click("button[value=verify]")
    page.wait_for_url(re.compile("/portal/complaints"))

    page.goto("/portal/new")
    page.fill("input[name=phone]", PHONE)
    page.check("input[name=category][value=billing]")
    page.fill(
        "textarea[name=description]",
        "这个月话费突然多扣了58元，说是开通了视频会员，我从来没有订过。",
    )
    page.fill("textarea[name=demands]", "退还58元并取消会员")
    page.set_input_files(
        "input[name=evidence]",
        files=[{"name": "扣费短信.png", "mimeType": "image/png", "buffer": PNG}],
    )
    page.click("button[type=submit].primary")
    page.locator("#number").wait_for()
    number = page.locator("#number").inner_text().strip()
    body = page.locator("main").inner_text()
    assert "扣费短信.png" in body
    assert "前答复您" in body and "依据" in body  # the time limit and its article
    shot(page, "portal-submitted")

    # Staff accept and answer it.
    staff = system("e2e-handler")
    transitions.transition(server.rt, number, "accept", {}, staff)
    transitions.transition(
        server.rt,
        number,
        "reply",
        {"resolution": "经核查，该会员为误订购，已退还58元并取消。"},
        staff,
    )

    page.goto(f"/portal/complaints/{number}")
    assert "已退还58元" in page.locator("#reply").inner_text()
    page.check("input[name=result][value=dissatisfied]")
    page.click("#rate button[type=submit]")
    page.wait_for_load_state("networkidle")
    text = page.locator("main").inner_text()
    assert "不满意" in text
    assert "申诉" in text  # how to appeal, once dissatisfied
    shot(page, "portal-track")
    # Nothing internal leaks: the handler's name is not on the customer's page.
    assert "e2e-handler" not in page.content()
