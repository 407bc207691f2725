"""The staff notices in the browser: the header's counter, the list (newest first, mark
one or all read), the switches; admins set a user's email on the users page."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from kesu.accounts import users
from kesu.app import create_app
from kesu.channels import staff_notices
from kesu.store import tables as t
from kesu.store.db import write
from tests.conftest import sign_in

PASSWORD = "password-123456"


@pytest.fixture
def signed_in(rt):
    app = create_app(rt, watcher=False)
    clients: list[TestClient] = []

    def make(name: str, role: str = "handler"):
        users.create_user(rt, "test", name, role, PASSWORD, team="billing")
        web = TestClient(app)
        clients.append(web)
        r = sign_in(web, {"username": name, "password": PASSWORD})
        assert r.status_code == 200, r.text
        return web, re.search(r'name="csrf_token" value="([^"]+)"', r.text).group(1)

    yield make
    for web in clients:
        web.close()


def _tell(rt, username: str, number: str, text: str) -> None:
    with write(rt.engine) as conn:
        user = conn.execute(select(t.users).where(t.users.c.username == username)).one()
        staff_notices.tell(conn, rt.clock(), "http://x", "assigned", [user], number, text)


def test_the_counter_the_list_and_marking_read(rt, signed_in, clock):
    web, csrf = signed_in("li.billing")
    other, _ = signed_in("wang.billing")
    assert 'hx-get="/notices/count"' in web.get("/workbench").text
    assert "notice-counter" not in web.get("/notices/count").text  # none: nothing shown
    _tell(rt, "li.billing", "TS20261128000001", "投诉单 TS20261128000001 已分派给您。")
    clock.advance(minutes=1)
    _tell(rt, "li.billing", "TS20261128000002", "投诉单 TS20261128000002 已分派给您。")
    _tell(rt, "wang.billing", "TS20261128000003", "投诉单 TS20261128000003 已分派给您。")
    assert "通知 2" in web.get("/notices/count").text
    page = web.get("/notices").text
    assert page.index("TS20261128000002") < page.index("TS20261128000001")  # newest first
    assert "TS20261128000003" not in page and "分派给我的投诉" in page
    first = re.search(r'<tr data-id="(\d+)" data-kind="assigned" class="unread"', page).group(1)
    r = web.post("/notices/read", data={"csrf_token": csrf, "id": first})
    assert r.status_code == 200 and "已标为已读" in r.text
    assert "通知 1" in web.get("/notices/count").text
    web.post("/notices/read", data={"csrf_token": csrf, "all": "1"})
    assert "notice-counter" not in web.get("/notices/count").text
    assert "通知 1" in other.get("/notices/count").text  # Wang's stay unread


def test_the_switches_on_the_page(rt, signed_in):
    web, csrf = signed_in("li.billing")
    form = {"csrf_token": csrf, "on.assigned": "1", "on.deadline_warning": "1"}
    form |= {"email.deadline_warning": "1"}
    r = web.post("/notices/prefs", data=form)
    assert r.status_code == 200 and "通知设置已保存" in r.text
    with rt.engine.connect() as conn:
        prefs = staff_notices.prefs(conn, "li.billing")
    assert prefs["assigned"] == {"off": False, "email": False}
    assert prefs["deadline_warning"] == {"off": False, "email": True}
    assert prefs["approval_waiting"]["off"] is True


def test_an_admin_sets_an_email_on_the_users_page(rt, signed_in):
    web, csrf = signed_in("the.admin", role="admin")
    users.create_user(rt, "test", "li.billing", "handler", PASSWORD)
    r = web.post("/admin/users/li.billing/email", data={"csrf_token": csrf, "email": "bad"})
    assert "不是有效的电子邮件地址" in r.text
    r = web.post(
        "/admin/users/li.billing/email", data={"csrf_token": csrf, "email": "lilei@example.cn"}
    )
    assert r.status_code == 200 and "已修改 li.billing 的邮箱" in r.text
    assert "l***@example.cn" in r.text and "lilei@example.cn" not in r.text
    handler, hcsrf = signed_in("wang.billing")
    refused = handler.post(
        "/admin/users/li.billing/email", data={"csrf_token": hcsrf, "email": "x@example.cn"}
    )
    assert refused.status_code == 403
