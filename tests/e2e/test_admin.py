"""The administrator and the auditor, in a real browser."""

from __future__ import annotations

from tests.e2e.conftest import shot


def test_admin_adds_a_handler_who_can_then_sign_in(new_page):
    admin = new_page("demo-admin")
    admin.goto("/admin/users")
    shot(admin, "admin-users")
    form = admin.locator("form:has(input[name=username])")
    form.locator("input[name=username]").fill("wang.fang")
    form.locator("input[name=display_name]").fill("王芳")
    form.locator("select[name=role]").select_option("handler")
    form.locator("select[name=team]").select_option("billing")
    form.locator("button[type=submit]").click()
    password = admin.locator("#one-time-password").inner_text().strip()
    assert len(password) >= 10
    handler = new_page("wang.fang", password)
    # A one-time password: the new handler sets their own first.
    assert "/account/password" in handler.url
    handler.fill("input[name=old]", password)
    handler.fill("input[name=new]", "wang-fang-2026")
    handler.fill("input[name=confirm]", "wang-fang-2026")
    handler.click("button[type=submit].primary")
    handler.wait_for_url("**/workbench")


def test_calendar_and_audit_pages(new_page):
    admin = new_page("demo-admin")
    admin.goto("/admin/calendar?year=2026")
    text = admin.locator("main").inner_text()
    assert "国庆" in text or "10-01" in text or "10月" in text
    shot(admin, "admin-calendar")
    auditor = new_page("demo-auditor")
    auditor.goto("/admin/audit")
    assert "demo-auditor" in auditor.locator("main").inner_text()
    shot(auditor, "admin-audit")


def test_admin_sees_the_messages_the_demo_would_have_sent(new_page, server):
    """Demo mode: the built-in sink keeps what would have gone out; the admin reads it."""
    from kesu.channels import delivery, outbox

    delivery.deliver(server.rt, budget=30)
    counts = outbox.counts(server.rt)
    assert counts["sent"] > 0
    admin = new_page("demo-admin")
    admin.goto("/admin/outbox")
    main = admin.locator("main")
    assert "外发消息" in main.locator("h1").inner_text()
    assert "演示模式" in admin.locator("#outbox-senders").inner_text()
    sent = admin.locator("#outbox-counts [data-state=sent] .n").inner_text()
    assert int(sent) == counts["sent"]
    first = admin.locator("#outbox tbody tr").first
    assert "受理告知" in main.inner_text() or "答复告知" in main.inner_text()
    assert "****" in first.inner_text()  # recipients masked
    shot(admin, "admin-outbox")


def test_admin_edits_what_customers_are_told_and_sees_the_history(new_page):
    admin = new_page("demo-admin")
    admin.goto("/admin/notification-templates")
    assert "客户通知模板" in admin.locator("h1").inner_text()
    admin.locator("#templates tr[data-key=closed] a.button").click()
    admin.wait_for_url("**/admin/notification-templates/closed")
    text = admin.locator("textarea[name=text]")
    text.fill("您的投诉（单号{number}）已办结，感谢您的耐心。如仍有问题，可通过 {portal} 反映。")
    admin.fill("input[name=note]", "按客服部统一话术调整")
    admin.locator("#template-form button.primary").click()
    admin.wait_for_url("**/admin/notification-templates?saved=closed")
    row = admin.locator("#templates tr[data-key=closed]")
    assert row.get_attribute("data-edited") == "yes"
    assert "感谢您的耐心" in row.inner_text()
    shot(admin, "admin-notification-templates")
    admin.goto("/admin/notification-templates/closed")
    assert "按客服部统一话术调整" in admin.locator("#template-history").inner_text()
