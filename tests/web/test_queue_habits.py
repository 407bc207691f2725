"""The queue's habits without a browser (the browser tests are tests/e2e/test_queue_keys.py):
its pages keep their filters, its shortcuts script and their list are served, and a
complaint links back to the queue."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from kesu.accounts import users
from kesu.app import create_app
from kesu.web import workbench
from tests.conftest import sign_in
from tests.web.test_workbench_pages import PASSWORD, _register, _rows


@pytest.fixture
def signed_in(rt):
    """signed_in(role) → a TestClient signed in as a new user of that role."""
    clients: list[TestClient] = []

    def make(role: str) -> TestClient:
        users.create_user(rt, "test", f"h-{role}", role, PASSWORD)
        web = TestClient(create_app(rt, watcher=False))
        clients.append(web)
        assert sign_in(web, {"username": f"h-{role}", "password": PASSWORD}).status_code == 200
        return web

    yield make
    for web in clients:
        web.close()


def test_the_next_page_keeps_the_filters_and_the_sort(rt, signed_in, monkeypatch):
    monkeypatch.setattr(workbench, "PAGE_SIZE", 2)
    numbers = [_register(rt, category="billing") for _ in range(3)]
    _register(rt, category="network")  # not shown: another category
    web = signed_in("supervisor")
    query = {"view": "all", "category": "billing", "channel": "hotline", "sort": "received"}
    first = web.get("/workbench", params=query)
    assert first.status_code == 200
    found = re.search(r'<a class="button" href="([^"]+)">', first.text)
    assert found, "no link to the next page"
    link = found.group(1).replace("&amp;", "&")
    kept = {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}
    assert kept.pop("cursor")
    assert kept == query
    second = web.get(link)
    shown = _rows(first.text) + _rows(second.text)
    assert sorted(shown) == sorted(numbers)  # three complaints over two pages, none twice


def test_the_queue_loads_its_shortcuts_and_lists_them_in_chinese(signed_in):
    web = signed_in("handler")
    page = web.get("/workbench").text
    assert '<script src="/static/queue-keys.js" defer></script>' in page
    box = re.search(r'<div id="keys-help".*?</div>\s*</div>', page, re.S)
    assert box and " hidden " in box.group(0)
    listed = {"j": "下一条", "k": "上一条", "Enter": "打开选中的投诉", "a": "受理选中的投诉"}
    for key, text in {**listed, "/": "搜索", "?": "显示或关闭本帮助"}.items():
        assert f"<kbd>{key}</kbd></td><td>{text}</td>" in box.group(0)
    assert 'data-accepted="已受理 {number}。"' in box.group(0)
    script = web.get("/static/queue-keys.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]


def test_a_complaint_links_back_to_the_queue(rt, signed_in):
    number = _register(rt)
    web = signed_in("handler")
    page = web.get(f"/complaints/{number}").text
    assert '<a href="/workbench" data-queue-link>← 返回队列</a>' in page
    # The remembered filters are put on that link (and the nav's) by kesu.js.
    assert "data-queue-link" in web.get("/static/kesu.js").text
