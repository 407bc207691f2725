"""The workbench pages: sign-in, the queue, the hotline form, the complaint page, the
law fragment, the dashboard, the language switch and the error page.

Pages against create_app(rt) on SQLite and PostgreSQL, without a browser: signed in
through POST /login with the session cookie and the CSRF token of the rendered page.
Each test checks what a person at the desk would notice.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import timedelta
from urllib.parse import urljoin, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from kesu.accounts import roles as r
from kesu.accounts import users
from kesu.accounts.web import SESSION_COOKIE
from kesu.app import create_app
from kesu.complaints import queries, registration, reveal, transitions
from kesu.complaints.schemas import ComplaintIn
from kesu.data_files import load_yaml
from kesu.reports import overview
from kesu.store import tables as t
from kesu.store.db import read
from tests.conftest import complaint_body, sign_in

PASSWORD = "password-123456"
PHONE = "13800001234"  # complaint_body's caller
MASKED = "138****1234"
CALLER = "13912345678"  # a second caller
FAULT_TEXT = "宽带断网三天了，报修一直没人来修"


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


def _register(rt, **overrides) -> str:
    """A complaint registered through the service (as trusted code); its number."""
    body = ComplaintIn.model_validate(complaint_body(**overrides)).model_dump()
    view, created = registration.register(rt, body, r.system())
    assert created
    return view["number"]


def _get(rt, number: str) -> dict:
    return queries.get(rt, number, r.system())


def _count(rt) -> int:
    with read(rt.engine) as conn:
        return conn.execute(select(func.count()).select_from(t.complaints)).scalar_one()


def _rows(html: str) -> list[str]:
    """The complaint numbers of the queue's rows, in order."""
    return re.findall(r'<tr data-number="([^"]+)">', html)


def _actions(html: str) -> set[str]:
    return set(re.findall(r'<details class="action" data-action="([^"]+)">', html))


def _audit(rt, action: str) -> list:
    with read(rt.engine) as conn:
        return conn.execute(
            select(t.audit_log).where(t.audit_log.c.action == action).order_by(t.audit_log.c.id)
        ).all()


def _error(html: str) -> str:
    """The message of an error page."""
    found = re.search(r'<p class="error-detail">(.*?)</p>', html, re.S)
    assert found, html[:800]
    return found.group(1)


@pytest.fixture
def app(rt):
    return create_app(rt, watcher=False)


@pytest.fixture
def user(rt):
    """user(role, name, org=None, team=None) → the username of a new user with that role."""

    def make(role: str, name: str, org: str | None = None, team: str | None = None) -> str:
        users.create_user(rt, "test", name, role, PASSWORD, org=org, team=team)
        return name

    return make


@pytest.fixture
def signed_in(app, user):
    """signed_in(role, ...) → (a TestClient signed in as a new user of that role, CSRF token)."""
    clients: list[TestClient] = []

    def make(role: str, name: str | None = None, org: str | None = None, team: str | None = None):
        name = user(role, name or f"w-{role}", org=org, team=team)
        web = TestClient(app)
        clients.append(web)
        got = sign_in(web, {"username": name, "password": PASSWORD})
        assert got.status_code == 200, got.text  # followed to the role's home page
        return web, _csrf(got.text)

    yield make
    for web in clients:
        web.close()


@pytest.fixture
def web(app):
    with TestClient(app) as c:
        yield c


# -- 1. sign-in --------------------------------------------------------------------------


def test_a_wrong_password_shows_a_chinese_message_and_gives_no_session(web, user):
    user("agent", "xiao.wang")
    got = sign_in(
        web,
        {"username": "xiao.wang", "password": "wrong-password-1"},
        follow_redirects=False,
    )
    assert got.status_code == 401
    assert got.headers["content-type"].startswith("text/html")
    assert "用户名或密码不正确" in got.text
    assert 'value="xiao.wang"' in got.text  # the name typed is kept
    assert SESSION_COOKIE not in got.headers.get("set-cookie", "")
    assert SESSION_COOKIE not in web.cookies
    # Still not signed in: the workbench sends to the sign-in page.
    back = web.get("/workbench", follow_redirects=False)
    assert back.status_code == 303 and back.headers["location"].startswith("/login")


HOMES = {
    "agent": "/workbench",
    "handler": "/workbench",
    "supervisor": "/dashboard",
    "admin": "/admin",
    "auditor": "/admin/audit",
    "appeal_officer": "/appeals",
    "appeal_supervisor": "/appeals/dashboard",
}


def test_the_right_password_leads_to_the_role_home(app, user):
    for role, home in HOMES.items():
        name = user(role, f"home-{role}")
        with TestClient(app) as web:
            got = sign_in(web, {"username": name, "password": PASSWORD}, follow_redirects=False)
            assert got.status_code == 303, role
            assert got.headers["location"] == home, role
            assert SESSION_COOKIE in web.cookies
            # The front door now leads to the same place, and the place opens.
            door = web.get("/", follow_redirects=False)
            assert door.status_code == 303 and door.headers["location"] == home
            assert web.get(home).status_code == 200, role


def test_without_a_session_the_pages_lead_to_sign_in(web):
    got = web.get("/", follow_redirects=False)
    assert got.status_code == 303 and got.headers["location"] == "/login"
    page = web.get("/login")
    assert page.status_code == 200 and 'action="/login"' in page.text
    # A page needing sign-in remembers where it was.
    got = web.get("/complaints/new", follow_redirects=False)
    assert got.status_code == 303
    assert got.headers["location"] == "/login?next=/complaints/new"


HOSTILE = ("//evil.example", "https://evil.example/", "//evil.example/workbench", "/\\evil.example")


def test_next_only_follows_local_paths(app, user):
    name = user("agent", "next-agent")
    with TestClient(app) as web:
        for hostile in HOSTILE[:3]:
            # The sign-in form never carries a target on another site.
            form = web.get("/login", params={"next": hostile})
            assert form.status_code == 200 and 'name="next" value="' in form.text
            assert f'value="{hostile}"' not in form.text
        for hostile in HOSTILE:
            web.cookies.clear()
            got = sign_in(
                web,
                {"username": name, "password": PASSWORD, "next": hostile},
                follow_redirects=False,
            )
            assert got.status_code == 303
            where = urljoin("http://testserver/login", got.headers["location"])
            assert urlsplit(where).netloc == "testserver", got.headers["location"]
            assert "\\" not in got.headers["location"]  # browsers read "/\\x" as "//x"
            if hostile.startswith(("//", "https:")):
                assert got.headers["location"] == "/workbench"  # the home, not there
        # A local path is followed.
        web.cookies.clear()
        got = sign_in(
            web,
            {"username": name, "password": PASSWORD, "next": "/complaints/new"},
            follow_redirects=False,
        )
        assert got.status_code == 303 and got.headers["location"] == "/complaints/new"


# -- 2. the queue ------------------------------------------------------------------------


def test_the_queue_lists_the_complaints(rt, signed_in):
    a = _register(rt)
    b = _register(rt, customer={"phone": CALLER, "name": "李四"}, category="network")
    web, _ = signed_in("agent")
    page = web.get("/workbench")
    assert page.status_code == 200
    assert "投诉工单" in page.text
    assert sorted(_rows(page.text)) == sorted([a, b])
    assert f'href="/complaints/{a}"' in page.text
    assert "本页 2 件" in page.text


def test_mine_shows_only_what_is_assigned_to_me(rt, signed_in, user):
    mine = _register(rt)
    other = _register(rt)
    elsewhere = _register(rt)
    web, _ = signed_in("handler", team="billing")
    user("handler", "someone-else", team="billing")
    transitions.transition(
        rt, mine, "transfer", {"team": "billing", "assignee": "w-handler"}, r.system()
    )
    transitions.transition(
        rt, elsewhere, "transfer", {"team": "billing", "assignee": "someone-else"}, r.system()
    )
    page = web.get("/workbench", params={"view": "mine"})
    assert page.status_code == 200
    assert _rows(page.text) == [mine]
    assert other in web.get("/workbench", params={"view": "open"}).text


def test_an_unknown_status_filter_gives_a_chinese_422_page(signed_in):
    web, _ = signed_in("agent")
    page = web.get("/workbench", params={"status": "bogus"})
    assert page.status_code == 422
    assert page.headers["content-type"].startswith("text/html")
    assert "未知的状态“bogus”" in _error(page.text)


def test_a_phone_number_in_the_search_finds_that_callers_complaint(rt, signed_in):
    theirs = _register(rt, customer={"phone": CALLER, "name": "李四"})
    _register(rt)  # another caller
    web, _ = signed_in("agent")
    for typed in (CALLER, "139-1234-5678", "139 1234 5678"):
        page = web.get("/workbench", params={"q": typed})
        assert page.status_code == 200
        assert _rows(page.text) == [theirs], typed
        # The rows never show the number (the search box and links keep what was typed).
        body = page.text.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
        assert CALLER not in body and "139****5678" not in body


def test_a_phone_number_with_the_country_code_finds_the_caller_too(rt, signed_in):
    """Caller ID shows +86; the hotline form accepts it (and stores 139...), so must the search."""
    theirs = _register(rt, customer={"phone": "+86 139 1234 5678", "name": "李四"})
    _register(rt)
    web, _ = signed_in("agent")
    for typed in ("+86 139 1234 5678", "+8613912345678"):
        page = web.get("/workbench", params={"q": typed})
        assert page.status_code == 200
        assert _rows(page.text) == [theirs], typed


def test_more_than_fifty_rows_give_a_next_page_link(rt, signed_in):
    body = ComplaintIn.model_validate(complaint_body()).model_dump()
    numbers = registration.bulk_import(rt, [body] * 51, r.system())
    web, _ = signed_in("agent")
    first = web.get("/workbench")
    assert first.status_code == 200
    assert len(_rows(first.text)) == 50
    link = re.search(r'<a class="button" href="(/workbench\?[^"]*cursor=[^"]+)">', first.text)
    assert link, "no next-page link"
    assert "下一页" in first.text
    second = web.get(link.group(1).replace("&amp;", "&"))
    assert second.status_code == 200
    rows = _rows(second.text)
    assert len(rows) == 1
    assert sorted(_rows(first.text) + rows) == sorted(numbers)
    assert "下一页" not in second.text


def test_the_queue_never_shows_a_full_phone_or_name(rt, signed_in):
    # The caller's number and name, in the customer fields and in the title.
    _register(rt, title=f"张三来电{PHONE}反映断网")
    _register(rt, customer={"phone": CALLER, "name": "李四"})
    web, _ = signed_in("supervisor")  # may show personal data, but only on request
    for view in ("open", "all", "mine"):
        page = web.get("/workbench", params={"view": view})
        assert page.status_code == 200
        assert PHONE not in page.text and CALLER not in page.text
    page = web.get("/workbench")
    assert MASKED in page.text  # the title's number, masked
    assert "张*来电" in page.text and "张三" not in page.text


# -- 3. the hotline form -----------------------------------------------------------------


def _form(csrf: str | None, **fields) -> dict[str, str]:
    data = {
        "phone": CALLER,
        "name": "王五",
        "province": "河南省",
        "city": "郑州市",
        "channel": "hotline",
        "title": "宽带断网",
        "description": FAULT_TEXT,
        "demands": "尽快修好",
        **fields,
    }
    if csrf is not None:
        data["csrf_token"] = csrf
    return data


def test_the_form_without_its_token_is_refused_and_registers_nothing(rt, signed_in):
    web, _ = signed_in("agent")
    got = web.post("/complaints/new", data=_form(None), follow_redirects=False)
    assert got.status_code == 403
    assert got.headers["content-type"].startswith("text/html")
    assert "CSRF" in _error(got.text)
    got = web.post("/complaints/new", data=_form("not-the-token"), follow_redirects=False)
    assert got.status_code == 403
    assert _count(rt) == 0


def test_a_missing_description_keeps_the_form_and_registers_nothing(rt, signed_in):
    web, csrf = signed_in("agent")
    got = web.post("/complaints/new", data=_form(csrf, description="  "), follow_redirects=False)
    assert got.status_code == 422
    alert = re.search(r'<div class="flash error" role="alert">(.*?)</div>\s*<form', got.text, re.S)
    assert alert and "“投诉内容”不能为空" in alert.group(1)  # the label, not the API name
    # What was typed is still there.
    assert f'value="{CALLER}"' in got.text
    assert 'value="王五"' in got.text and 'value="郑州市"' in got.text
    assert 'value="宽带断网"' in got.text
    assert "<option selected>河南省</option>" in got.text
    assert _count(rt) == 0


def test_a_valid_form_registers_the_complaint(rt, signed_in):
    web, csrf = signed_in("agent", "agent.li")
    got = web.post(
        "/complaints/new",
        data=_form(csrf, channel="wechat", risk_flags="media"),
        follow_redirects=False,
    )
    assert got.status_code == 303, got.text
    found = re.fullmatch(r"/complaints/([^/?]+)\?done=registered", got.headers["location"])
    assert found, got.headers["location"]
    number = found.group(1)
    c = _get(rt, number)
    assert c["channel"] == "wechat"
    assert c["customer"]["phone"] == "139****5678"
    assert c["first_receiver"] == "agent.li"
    assert c["risk_flags"] == ["media"]
    assert c["description"] == FAULT_TEXT
    # Stored under the caller's number (found by it), in full.
    assert reveal.reveal(rt, number, r.system(), "verify")["customer"]["phone"] == CALLER
    page = web.get(got.headers["location"])
    assert page.status_code == 200 and "投诉已登记。" in page.text and number in page.text


def _suggest(web, csrf, **fields):
    return web.post(
        "/complaints/new/suggest",
        data={"csrf_token": csrf, **fields},
        headers={"HX-Request": "true"},
    )


def test_the_suggestions_list_the_callers_earlier_complaint(rt, signed_in):
    earlier = _register(rt, customer={"phone": CALLER, "name": "李四"})
    other = _register(rt)
    web, csrf = signed_in("agent")
    got = _suggest(web, csrf, phone=CALLER)
    assert got.status_code == 200
    assert f'href="/complaints/{earlier}"' in got.text
    assert "该号码近期已有 1 件投诉" in got.text
    assert other not in got.text
    # Another number: no earlier complaints.
    got = _suggest(web, csrf, phone="13700009999")
    assert got.status_code == 200 and earlier not in got.text and "该号码近期已有" not in got.text


def test_the_suggestions_find_the_caller_typed_with_the_country_code(rt, signed_in):
    """The repeat-caller warning must not depend on how the number was typed."""
    earlier = _register(rt, customer={"phone": CALLER, "name": "李四"})
    web, csrf = signed_in("agent")
    got = _suggest(web, csrf, phone="+86 139-1234-5678")
    assert got.status_code == 200
    assert f'href="/complaints/{earlier}"' in got.text, "the earlier complaint is not listed"


def test_the_suggestions_offer_a_category_for_a_clear_text(signed_in):
    web, csrf = signed_in("agent")
    got = _suggest(web, csrf, description=FAULT_TEXT)
    assert got.status_code == 200
    button = re.search(r'<button data-apply="category" data-value="([a-z_]+)">', got.text)
    assert button, got.text
    assert button.group(1) == "network"  # 网络质量 for a broadband outage


def test_the_suggestions_need_the_token(signed_in):
    web, _ = signed_in("agent")
    got = web.post(
        "/complaints/new/suggest",
        data={"description": FAULT_TEXT},
        headers={"HX-Request": "true"},
    )
    # htmx: the refusal goes into the flash area of the page.
    assert got.headers.get("hx-retarget") == "#flash"
    assert "CSRF" in got.text and "data-apply" not in got.text


# -- 4. the complaint page ---------------------------------------------------------------


def test_the_complaint_page_masks_the_phone_and_cites_the_article(rt, signed_in):
    number = _register(rt)
    web, _ = signed_in("agent")
    page = web.get(f"/complaints/{number}")
    assert page.status_code == 200
    assert MASKED in page.text and PHONE not in page.text
    assert "张*" in page.text and "张三" not in page.text
    deadlines = page.text.split('id="deadlines"', 1)[1].split("</section>", 1)[0]
    assert "电信用户申诉处理办法" in deadlines
    # The article link of the table opens the article's text.
    link = re.search(r'hx-get="(/law/article\?c=[^"]+)"', deadlines)
    assert link, deadlines
    quoted = web.get(link.group(1).replace("&amp;", "&"), headers={"HX-Request": "true"})
    assert quoted.status_code == 200 and "电信用户申诉处理办法" in quoted.text
    assert "article-text" in quoted.text
    # An agent has no reveal form.
    assert "/reveal" not in page.text


def _expected_actions(rt, number: str, role: str) -> set[str]:
    allowed = _get(rt, number)["allowed_actions"]
    perms = r.roles()[role]["permissions"]
    # `claim` is offered only to a person of the complaint's team (these users have none).
    return {a for a in allowed if set(r.action_permissions(a)) & set(perms)} - {"claim"}


def test_action_forms_exist_exactly_for_what_the_role_may_do(rt, signed_in):
    number = _register(rt)
    transitions.transition(rt, number, "accept", {}, r.system())
    transitions.transition(rt, number, "investigate", {}, r.system())
    agent, _ = signed_in("agent")
    handler, _ = signed_in("handler")
    supervisor, _ = signed_in("supervisor")
    shown = {
        role: _actions(web.get(f"/complaints/{number}").text)
        for role, web in (("agent", agent), ("handler", handler), ("supervisor", supervisor))
    }
    assert "propose" not in shown["agent"]
    assert "propose" in shown["handler"]
    for role, actions in shown.items():
        assert actions == _expected_actions(rt, number, role), role
    assert "escalate" not in shown["handler"] and "escalate" in shown["supervisor"]
    # A closed-for-the-role step: the agent's page holds no form for it either.
    assert 'value="propose"' not in agent.get(f"/complaints/{number}").text


def test_a_stale_version_is_refused_and_changes_nothing(rt, signed_in):
    number = _register(rt)
    web, csrf = signed_in("handler")
    page = web.get(f"/complaints/{number}")
    version = re.search(r'name="expected_version" value="(\d+)"', page.text).group(1)
    # Someone else acts first.
    transitions.transition(rt, number, "flag", {"add_flags": ["media"]}, r.system())
    before = _get(rt, number)
    got = web.post(
        f"/complaints/{number}/act",
        data={"csrf_token": csrf, "action": "accept", "expected_version": version, "note": "受理"},
        follow_redirects=False,
    )
    assert got.status_code == 409
    assert got.headers["content-type"].startswith("text/html")
    assert "已被他人修改" in _error(got.text)
    after = _get(rt, number)
    assert after["status"] == "registered" and after["version"] == before["version"]


def test_accept_from_the_page(rt, signed_in):
    number = _register(rt)
    web, _ = signed_in("handler")
    page = web.get(f"/complaints/{number}")
    version = re.search(r'name="expected_version" value="(\d+)"', page.text).group(1)
    got = web.post(
        f"/complaints/{number}/act",
        data={
            "csrf_token": _csrf(page.text),
            "action": "accept",
            "expected_version": version,
            "note": "已告知处理时限",
        },
        follow_redirects=False,
    )
    assert got.status_code == 303
    assert got.headers["location"] == f"/complaints/{number}?done=action"
    c = _get(rt, number)
    assert c["status"] == "accepted" and c["version"] == int(version) + 1
    events = queries.events(rt, number, r.system())
    accepted = next(e for e in events if e["type"] == "accepted")
    assert accepted["actor"] == "w-handler" and accepted["note"] == "已告知处理时限"
    # Accepting a complaint nobody had makes it the accepter's, an event of its own.
    assert c["assignee"] == "w-handler" and c["first_assignee"] == "w-handler"
    assert events[-1]["type"] == "assigned" and events[-1]["data"]["how"] == "accept"
    shown = web.get(got.headers["location"])
    assert "操作已完成。" in shown.text and "已受理" in shown.text


def test_an_action_without_the_token_changes_nothing(rt, signed_in):
    number = _register(rt)
    web, _ = signed_in("handler")
    got = web.post(f"/complaints/{number}/act", data={"action": "accept"}, follow_redirects=False)
    assert got.status_code == 403
    assert _get(rt, number)["status"] == "registered"


def test_reveal_shows_the_full_phone_and_is_audited(rt, signed_in):
    number = _register(rt)
    web, csrf = signed_in("supervisor", "boss.zhao")
    page = web.get(f"/complaints/{number}")
    assert f'hx-post="/complaints/{number}/reveal"' in page.text
    assert PHONE not in page.text
    got = web.post(
        f"/complaints/{number}/reveal",
        data={"csrf_token": csrf, "reason": "identity", "scope": "full"},
        headers={"HX-Request": "true"},
    )
    assert got.status_code == 200
    assert PHONE in got.text and "张三" in got.text
    assert "完整信息（已留痕）" in got.text
    [entry] = _audit(rt, "pii.show")
    assert entry.actor == "boss.zhao" and entry.target_id == number
    assert entry.detail["reason"] == "identity" and entry.detail["scope"] == "full"


def test_reveal_needs_a_reason_and_the_permission(rt, signed_in):
    number = _register(rt)
    boss, csrf = signed_in("supervisor")
    got = boss.post(
        f"/complaints/{number}/reveal",
        data={"csrf_token": csrf, "reason": ""},
        headers={"HX-Request": "true"},
    )
    assert PHONE not in got.text and "理由" in got.text
    agent, agent_csrf = signed_in("agent")
    got = agent.post(
        f"/complaints/{number}/reveal", data={"csrf_token": agent_csrf, "reason": "verify"}
    )
    assert got.status_code == 403 and PHONE not in got.text
    assert _audit(rt, "pii.show") == []


def test_a_reseller_sees_only_its_own_complaints(rt, signed_in):
    theirs = _register(rt, reseller="org-b")
    own = _register(rt, reseller="org-a", customer={"phone": CALLER, "name": "李四"})
    web, _ = signed_in("reseller", "agent.org-a", org="org-a")
    got = web.get(f"/complaints/{theirs}")
    assert got.status_code == 404
    assert got.headers["content-type"].startswith("text/html")
    assert theirs in _error(got.text)  # the number asked for, nothing about it
    assert "张*" not in got.text
    mine = web.get(f"/complaints/{own}")
    assert mine.status_code == 200 and own in mine.text and "139****5678" in mine.text
    assert _rows(web.get("/workbench", params={"view": "all"}).text) == [own]


# -- 5. the law fragment -----------------------------------------------------------------


def test_the_article_fragment_quotes_the_text(signed_in):
    web, _ = signed_in("agent")
    got = web.get("/law/article", params={"c": "电信条例第三十二条"})
    assert got.status_code == 200
    assert "第三十二条" in got.text
    assert "城镇48小时、农村72小时内修复或者调通" in got.text


def test_an_article_we_do_not_hold_gives_a_chinese_error(signed_in):
    web, _ = signed_in("agent")
    got = web.get("/law/article", params={"c": "电信条例第九百九十九条"})
    assert got.status_code == 404
    message = _error(got.text)
    assert "未收录" in message, message
    assert "城镇48小时" not in got.text
    # Asked by htmx (as the deadlines table does), the message goes to the flash area.
    got = web.get(
        "/law/article", params={"c": "电信条例第九百九十九条"}, headers={"HX-Request": "true"}
    )
    assert got.headers.get("hx-retarget") == "#flash" and message in got.text


def test_the_article_fragment_without_a_citation_is_a_request_error_not_a_crash(signed_in):
    web, _ = signed_in("agent")
    got = web.get("/law/article")
    assert got.headers["content-type"].startswith("text/html")
    assert got.status_code == 422, _error(got.text)
    assert "c" in _error(got.text) and "服务器内部错误" not in got.text


# -- 6. the dashboard --------------------------------------------------------------------


def _overview(html: str) -> dict[str, int]:
    block = html.split('id="overview"', 1)[1].split("</div>\n\n", 1)[0]
    pairs = re.findall(r'<span class="n">(\d+)</span>([^<]+)</div>', block)
    return {label.strip(): int(n) for n, label in pairs}


def test_the_dashboard_shows_the_overview_and_every_kpi(rt, clock, signed_in):
    now = clock()
    _register(rt, received_at=(now - timedelta(hours=2)).isoformat())  # today 08:00
    _register(rt)  # today 10:00
    _register(rt, received_at=(now - timedelta(days=1)).isoformat())  # yesterday
    web, _ = signed_in("supervisor")
    page = web.get("/dashboard")
    assert page.status_code == 200
    shown = _overview(page.text)
    o = overview.overview(rt, r.system())
    assert shown == {
        "今日受理": 2,  # yesterday's complaint is not counted
        "在办": 3,
        "24小时内到期": o["about_to_breach"],
        "已超期": o["breached"],
    }
    assert o["intake_today"] == 2 and o["about_to_breach"] >= 1  # the 08:00 one is due by 08:00
    ids = [k["id"] for k in load_yaml("reports/kpis.yaml")["kpis"]]
    assert ids
    rows = re.findall(r'<tr data-kpi="([^"]+)">', page.text)
    assert rows == ids


def test_an_agent_gets_a_403_dashboard(signed_in):
    web, _ = signed_in("agent")
    got = web.get("/dashboard")
    assert got.status_code == 403
    assert got.headers["content-type"].startswith("text/html")
    assert "无权" in _error(got.text)
    assert "今日受理" not in got.text


def test_bad_dates_give_a_422_page(signed_in):
    web, _ = signed_in("supervisor")
    got = web.get("/dashboard", params={"from": "2026-13-01"})
    assert got.status_code == 422
    assert "日期格式不对" in _error(got.text)


def _events(rt, number: str, type_: str) -> list[dict]:
    return [e for e in queries.events(rt, number, r.system()) if e["type"] == type_]


def test_reassign_from_the_dashboard(rt, clock, signed_in):
    number = _register(rt, received_at=(clock() - timedelta(hours=2)).isoformat())
    web, csrf = signed_in("supervisor", "boss.qian")
    page = web.get("/dashboard")
    breaching = page.text.split('id="breaching"', 1)[1].split("</section>", 1)[0]
    assert f'data-number="{number}"' in breaching
    assert 'action="/dashboard/reassign"' in breaching

    # Without the token: refused, nothing changes.
    got = web.post(
        "/dashboard/reassign", data={"number": number, "team": "escalation"}, follow_redirects=False
    )
    assert got.status_code == 403
    assert _get(rt, number)["team"] == "frontline"
    assert _events(rt, number, "transferred") == []

    got = web.post(
        "/dashboard/reassign",
        data={
            "csrf_token": csrf,
            "number": number,
            "team": "escalation",
            "back": "/dashboard?done=reassigned",
        },
        follow_redirects=False,
    )
    assert got.status_code == 303 and got.headers["location"] == "/dashboard?done=reassigned"
    c = _get(rt, number)
    assert c["team"] == "escalation" and c["status"] == "registered"
    [event] = _events(rt, number, "transferred")
    assert event["actor"] == "boss.qian"
    # Back to a page elsewhere is not followed.
    got = web.post(
        "/dashboard/reassign",
        data={"csrf_token": csrf, "number": number, "team": "billing", "back": "//evil.example"},
        follow_redirects=False,
    )
    assert got.status_code == 303 and got.headers["location"] == "/dashboard"


# -- 7. language -------------------------------------------------------------------------


def test_english_on_request(signed_in):
    web, _ = signed_in("agent")
    page = web.get("/workbench", params={"lang": "en"})
    assert page.status_code == 200
    assert '<html lang="en">' in page.text
    assert ">Complaints</h1>" in page.text and "All open" in page.text
    assert "投诉工单" not in page.text
    # Without the parameter (and no cookie), Chinese again.
    assert "投诉工单" in web.get("/workbench").text


def test_the_language_route_sets_the_cookie_and_stays_local(web, signed_in):
    agent, _ = signed_in("agent")
    got = agent.get("/lang/en", params={"next": "/workbench"}, follow_redirects=False)
    assert got.status_code == 303 and got.headers["location"] == "/workbench"
    assert "kesu_lang=en" in got.headers["set-cookie"]
    assert ">Complaints</h1>" in agent.get("/workbench").text  # the cookie holds
    for hostile in ("//evil.example", "https://evil.example", "/\\evil.example"):
        got = web.get("/lang/en", params={"next": hostile}, follow_redirects=False)
        assert got.status_code == 303
        where = urljoin("http://testserver/", got.headers["location"])
        assert urlsplit(where).netloc == "testserver", got.headers["location"]
        assert "\\" not in got.headers["location"]
    got = web.get("/lang/zh", params={"next": "//evil.example"}, follow_redirects=False)
    assert got.headers["location"] == "/"


# -- 8. the error page -------------------------------------------------------------------


def test_an_unexpected_failure_shows_an_html_error_page(rt, signed_in, monkeypatch):
    number = _register(rt)
    web, _ = signed_in("agent")

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("kesu.web.complaint_page.queries.get", broken)
    got = web.get(f"/complaints/{number}")
    assert got.status_code == 500
    assert got.headers["content-type"].startswith("text/html")
    assert "<!doctype html>" in got.text
    assert "服务器内部错误" in _error(got.text)
    assert "database went away" not in got.text and "Traceback" not in got.text
    assert 'href="/workbench"' in got.text  # the menu of the signed-in person
    monkeypatch.undo()
    assert web.get(f"/complaints/{number}").status_code == 200


class _Deadlock(Exception):
    sqlstate = "40P01"  # PostgreSQL: deadlock detected


def test_a_busy_database_on_a_page_says_so_as_the_api_does(rt, signed_in, monkeypatch):
    """The API answers a locked SQLite with 503 and a PostgreSQL deadlock with 409 (app.py);
    the page for the same failure must say the same, not "internal error"."""
    number = _register(rt)
    web, csrf = signed_in("handler")
    if rt.engine.dialect.name == "sqlite":
        orig, status, words = sqlite3.OperationalError("database is locked"), 503, "数据库繁忙"
    else:
        orig, status, words = _Deadlock("deadlock detected"), 409, "正被他人同时修改"

    def busy(*args, **kwargs):
        raise OperationalError("UPDATE complaints", {}, orig)

    monkeypatch.setattr("kesu.web.complaint_page.transitions.transition", busy)
    got = web.post(
        f"/complaints/{number}/act",
        data={"csrf_token": csrf, "action": "accept"},
        follow_redirects=False,
    )
    assert got.headers["content-type"].startswith("text/html")
    assert got.status_code == status, _error(got.text)
    assert words in _error(got.text)
