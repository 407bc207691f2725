"""The admin pages: users and roles, the matrix, teams, SLA rules, the calendar, the audit log.

Pages against create_app(rt) on SQLite and PostgreSQL, signed in through the
page POST /login with the session cookie and the CSRF token of the rendered page.
Facts about the calendar come from WorkCalendar itself, never from memory.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kesu.accounts import roles as r
from kesu.accounts import users
from kesu.app import create_app
from kesu.complaints import queries, registration
from kesu.complaints import vocabulary as vocab
from kesu.complaints.schemas import ComplaintIn
from kesu.complaints.teams import team_load
from kesu.store import tables as t
from kesu.store.db import read
from kesu.web import admin_audit, admin_calendar
from tests.conftest import complaint_body, sign_in

PASSWORD = "password-123456"


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


@pytest.fixture
def app(rt):
    return create_app(rt, watcher=False)


@pytest.fixture
def signed_in(rt, app):
    """signed_in(role) → (a TestClient signed in as a new user of that role, its CSRF token)."""
    clients: list[TestClient] = []

    def make(role: str, username: str | None = None, org: str | None = None):
        name = username or f"w-{role}"
        users.create_user(rt, "test", name, role, PASSWORD, org=org)
        web = TestClient(app)
        clients.append(web)
        r = sign_in(web, {"username": name, "password": PASSWORD})
        assert r.status_code == 200, r.text  # followed to the role's home page
        return web, _csrf(r.text)

    yield make
    for web in clients:
        web.close()


def _user(rt, username: str):
    with read(rt.engine) as conn:
        return conn.execute(select(t.users).where(t.users.c.username == username)).first()


def _row(html: str, username: str) -> str:
    found = re.search(rf'<tr data-user="{re.escape(username)}">(.*?)</tr>', html, re.S)
    assert found, f"no row for {username}"
    return found.group(1)


# -- users ---------------------------------------------------------------------------------


def test_admin_creates_a_user_who_can_then_sign_in(rt, app, signed_in):
    web, csrf = signed_in("admin", "boss")
    page = web.get("/admin/users")
    assert page.status_code == 200 and "新建用户" in page.text
    r = web.post(
        "/admin/users",
        data={
            "csrf_token": _csrf(page.text),
            "username": "li.ming",
            "display_name": "李明",
            "role": "handler",
            "team": "billing",
            "org": "",
            "password": "",
        },
    )
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    password = re.search(r'id="one-time-password">([^<]+)<', r.text).group(1)
    row = _row(r.text, "li.ming")
    assert "处理员" in row and "计费核查组" in row and "李明" in row and "从未登录" in row
    assert password not in row

    with TestClient(app) as other:
        signed = sign_in(
            other, {"username": "li.ming", "password": password}, follow_redirects=False
        )
        # A one-time password: the new user is asked for their own first.
        assert signed.status_code == 303 and signed.headers["location"] == "/account/password"
        assert other.get("/workbench", follow_redirects=False).headers["location"] == (
            "/account/password"
        )
    assert _user(rt, "li.ming").must_change_password
    # The sign-in shows on the list.
    assert "从未登录" not in _row(web.get("/admin/users").text, "li.ming")

    # A mistake is shown on the page, with the form kept and nothing created.
    r = web.post(
        "/admin/users",
        data={"csrf_token": csrf, "username": "Bad Name", "role": "agent", "display_name": "某"},
    )
    assert r.status_code == 422 and "用户名以小写字母开头" in r.text
    assert 'value="Bad Name"' in r.text and _user(rt, "bad name") is None
    r = web.post("/admin/users", data={"csrf_token": csrf, "username": "li.ming", "role": "agent"})
    assert r.status_code == 409 and "已存在" in r.text
    r = web.post(
        "/admin/users",
        data={"csrf_token": csrf, "username": "wang", "role": "agent", "team": "nowhere"},
    )
    assert r.status_code == 422 and "未知的班组" in r.text and _user(rt, "wang") is None
    # Without the CSRF token, nothing happens.
    r = web.post("/admin/users", data={"username": "zhao", "role": "agent"})
    assert r.status_code == 403 and "CSRF" in r.text and _user(rt, "zhao") is None


def test_role_change_and_disabling_show(rt, signed_in):
    web, csrf = signed_in("admin", "boss")
    users.create_user(rt, "test", "li", "agent", PASSWORD)
    r = web.post("/admin/users/li/role", data={"csrf_token": csrf, "role": "supervisor"})
    assert r.status_code == 200 and str(r.url).endswith("/admin/users?done=role&user=li")
    assert "已修改 li 的角色" in r.text
    assert "班组长/主管" in _row(r.text, "li").split("<form")[0]
    assert _user(rt, "li").role == "supervisor"

    # A reseller needs its organisation: said on the page, nothing changed.
    r = web.post("/admin/users/li/role", data={"csrf_token": csrf, "role": "reseller"})
    assert r.status_code == 422 and "必须指定所属代理商" in r.text
    assert _user(rt, "li").role == "supervisor"
    r = web.post(
        "/admin/users/li/role", data={"csrf_token": csrf, "role": "reseller", "org": "甲代理"}
    )
    assert r.status_code == 200 and "甲代理" in _row(r.text, "li")
    assert (_user(rt, "li").role, _user(rt, "li").org) == ("reseller", "甲代理")

    r = web.post("/admin/users/li/active", data={"csrf_token": csrf, "active": "0"})
    assert r.status_code == 200 and "已停用 li" in r.text and "已停用" in _row(r.text, "li")
    assert not _user(rt, "li").active
    r = web.post("/admin/users/li/active", data={"csrf_token": csrf, "active": "1"})
    assert _user(rt, "li").active and "已启用 li" in r.text
    r = web.post("/admin/users/boss/active", data={"csrf_token": csrf, "active": "0"})
    assert r.status_code == 409 and "不能停用自己的账号" in r.text and _user(rt, "boss").active
    r = web.post("/admin/users/nobody/role", data={"csrf_token": csrf, "role": "agent"})
    assert r.status_code == 404 and "不存在" in r.text


def test_an_agent_gets_403_pages_and_changes_nothing(rt, app, signed_in):
    users.create_user(rt, "test", "li", "agent", PASSWORD)
    web, csrf = signed_in("agent", "wang")
    for path in ("/admin", "/admin/users", "/admin/teams", "/admin/audit"):
        r = web.get(path)
        assert r.status_code == 403, path
        assert "无权" in r.text and "客服/受理员" in r.text and "<!doctype html>" in r.text
    r = web.post("/admin/users", data={"csrf_token": csrf, "username": "mole", "role": "admin"})
    assert r.status_code == 403 and "无权" in r.text and _user(rt, "mole") is None
    r = web.post("/admin/users/li/role", data={"csrf_token": csrf, "role": "admin"})
    assert r.status_code == 403 and _user(rt, "li").role == "agent"
    r = web.post("/admin/users/li/active", data={"csrf_token": csrf, "active": "0"})
    assert r.status_code == 403 and _user(rt, "li").active
    r = web.post(
        "/admin/calendar",
        data={"csrf_token": csrf},
        files={"file": ("2027.yaml", b"year: 2027\nholidays: {2027-01-01: x}\n")},
    )
    assert r.status_code == 403 and _calendar_rows(rt) == 0
    # The reference pages are readable by all staff, as in the API.
    for path in ("/admin/roles", "/admin/sla", "/admin/calendar"):
        assert web.get(path).status_code == 200, path
    # Not signed in: to the sign-in page.
    with TestClient(app) as anonymous:
        r = anonymous.get("/admin/users", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")


# -- roles, teams, rules ----------------------------------------------------------------------


def test_the_matrix_lists_every_role_and_permission(signed_in):
    web, _ = signed_in("admin")
    html = web.get("/admin/roles").text
    for code, role in r.roles().items():
        assert f'data-role="{code}"' in html and role["name"] in html
    for code, perm in r.permissions().items():
        row = re.search(rf'<tr data-permission="{re.escape(code)}">(.*?)</tr>', html, re.S)
        assert row and perm["name"] in row.group(1)
        ticks = row.group(1).count("✓")
        assert ticks == sum(code in role["permissions"] for role in r.roles().values())
    assert "本代理商" in html  # the reseller's scope


def test_teams_show_members_open_and_overdue(rt, clock, signed_in):
    body = ComplaintIn.model_validate(complaint_body(team="billing")).model_dump()
    registration.register(rt, body, "test")
    registration.register(rt, body, "test")
    clock.advance(hours=30)  # past the 24-hour acknowledgement of both
    registration.register(rt, body, "test")
    users.create_user(rt, "test", "li", "handler", PASSWORD, team="billing")
    load = {line["team"]: line for line in team_load(rt, "test")}
    assert list(load)[: len(vocab.TEAMS)] == list(vocab.TEAMS)
    assert (load["billing"]["open"], load["billing"]["overdue"]) == (3, 2)
    assert load["network"]["open"] == 0

    web, _ = signed_in("admin")
    html = web.get("/admin/teams").text
    row = re.search(r'<tr data-team="billing">(.*?)</tr>', html, re.S).group(1)
    assert re.search(r'class="num open">3<', row) and ">2</span>" in row and "li" in row
    assert "reference.yaml" in html and "/workbench?view=open" in html
    for team in vocab.TEAMS.values():
        assert team["name"] in html


def test_the_sla_page_lists_each_rule_and_cites_its_articles(rt, signed_in):
    web, _ = signed_in("admin")
    html = web.get("/admin/sla").text
    assert "deadline_rules.yaml" in html and "kesu rules" in html
    for rule in rt.rules.values():
        row = re.search(rf'<tr id="rule-{rule.id}" data-rule="{rule.id}">(.*?)</tr>', html, re.S)
        assert row, rule.id
        text = row.group(1)
        assert rule.name in text
        assert ("法定时限" if rule.statutory else "运营商政策") in text
        for basis in (*rule.basis, *rule.remedy_basis):
            if basis.policy:
                assert basis.regulation in text and "运营商内部政策" in text
            else:
                assert f"《{basis.regulation}》{basis.article}" in text
        for basis in rule.basis:
            if basis.quote:
                assert basis.quote in text
        hours = f"{rule.warn_before.total_seconds() / 3600:g}"
        assert f"到期前 {hours} 小时预警" in text


# -- the calendar ---------------------------------------------------------------------------


def _cells(html: str) -> dict[date, str]:
    return {
        date.fromisoformat(d): kind
        for d, kind in re.findall(r'data-date="(\d{4}-\d\d-\d\d)" data-kind="(\w+)"', html)
    }


def _expected_kind(info) -> str:
    weekend = info.day.weekday() >= 5
    if info.working:
        return "makeup" if weekend else "work"
    return "holiday" if (info.name or not weekend) else "weekend"


def _calendar_rows(rt) -> int:
    with read(rt.engine) as conn:
        return conn.execute(select(func.count()).select_from(t.calendar_years)).scalar_one()


def test_the_2026_calendar_marks_holidays_and_make_up_days_as_the_calendar_does(rt, signed_in):
    web, _ = signed_in("admin")
    html = web.get("/admin/calendar?year=2026").text
    cells = _cells(html)
    cal = rt.calendar()
    days = cal.year_days(2026)
    assert len(cells) == len(days) == 365
    assert cells == {d.day: _expected_kind(d) for d in days}

    national_day = cal.day_info(date(2026, 10, 1))
    assert not national_day.working and national_day.name
    assert cells[date(2026, 10, 1)] == "holiday"
    make_up = [d.day for d in days if d.working and d.day.weekday() >= 5]
    assert make_up, "the calendar holds 2026's make-up working days"
    assert all(cells[d] == "makeup" for d in make_up)
    october = [d for d in make_up if d.month in (9, 10)]
    assert october and all(
        f'data-date="{d.isoformat()}" data-kind="makeup"' in html for d in october
    )

    assert not cal.is_estimated(2026) and "已公布" in html and 'id="estimated"' not in html
    assert cal.is_estimated(2100)
    later = web.get("/admin/calendar?year=2100").text
    assert 'id="estimated"' in later and "预估" in later
    assert web.get("/admin/calendar?year=1999").status_code == 422


def test_a_bad_calendar_file_shows_a_chinese_error_and_changes_nothing(rt, clock, signed_in):
    year = next(y for y in range(2027, 2101) if rt.calendar().is_estimated(y))
    # A complaint whose 15-day period ends in that (estimated) year.
    clock.advance(days=(date(year - 1, 12, 28) - clock().date()).days)
    body = ComplaintIn.model_validate(complaint_body()).model_dump()
    view, _ = registration.register(rt, body, "test")
    reply = next(d for d in view["deadlines"] if d["rule"] == "reply_15d")
    assert reply["estimated"] is True and reply["due_at"].startswith(str(year))
    web, csrf = signed_in("admin", "boss")
    version = rt.calendar().version

    bad_files = {
        "wrong year": (f"year: {year}\nholidays: {{{year + 1}-01-01: x}}\n", f"不属于 {year} 年"),
        "no year": ("holidays: {}\n", "须写明年份"),
        "not yaml": ("year: [2027\n", "不是有效的 YAML 或 JSON"),
        "a list": ("- 1\n- 2\n", "应为一个映射"),
        "empty": ("", "请选择要上传的日历文件"),
        "both": (
            f"year: {year}\nholidays: {{{year}-01-01: a}}\nworkdays: {{{year}-01-01: b}}\n",
            "不能既是节假日又是上班日",
        ),
    }
    for label, (content, message) in bad_files.items():
        r = web.post(
            "/admin/calendar",
            data={"csrf_token": csrf, "shown_year": str(year)},
            files={"file": (f"{year}.yaml", content.encode())},
        )
        assert r.status_code == 422, label
        assert "日历文件有误，未做任何修改" in r.text and message in r.text, label
    r = web.post(
        "/admin/calendar",
        data={"csrf_token": csrf},
        files={"file": ("x.yaml", "year: 2027".encode("utf-16"))},
    )
    assert r.status_code == 422 and "UTF-8" in r.text
    assert _calendar_rows(rt) == 0 and rt.calendar().version == version

    # A good file (JSON): loaded, the complaint's deadline recomputed, who and when shown.
    good = (
        f'{{"year": {year}, "official": true, "source": "测试通知",'
        f' "holidays": {{"{year}-01-01": "元旦"}}, "workdays": {{"{year}-01-02": "调休上班"}}}}'
    )
    r = web.post(
        "/admin/calendar",
        data={"csrf_token": csrf, "shown_year": "2026"},
        files={"file": (f"{year}.json", good.encode())},
    )
    assert r.status_code == 200, r.text
    assert f"已载入 {year} 年日历（官方完整安排），重算了 1 件投诉的时限" in r.text
    assert f"工作日日历 · {year}" in r.text and "boss" in r.text and "测试通知" in r.text
    assert _calendar_rows(rt) == 1 and not rt.calendar().is_estimated(year)
    cells = _cells(r.text)
    assert cells[date(year, 1, 1)] == "holiday"
    if date(year, 1, 2).weekday() >= 5:
        assert cells[date(year, 1, 2)] == "makeup"
    deadlines = queries.get(rt, view["number"], "test")["deadlines"]
    reply = next(d for d in deadlines if d["rule"] == "reply_15d")
    assert reply["estimated"] is False


def test_the_calendar_export_is_a_file_the_upload_accepts(rt, signed_in):
    web, _ = signed_in("admin")
    r = web.get("/admin/calendar/export?year=2026")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    override = admin_calendar.parse_calendar_upload(r.content)
    assert override.official  # 2026 is published
    cal = rt.calendar()
    for d in cal.year_days(2026):
        if d.day in override.workdays:
            assert d.working
        if d.day in override.holidays:
            assert not d.working
    later = admin_calendar.parse_calendar_upload(
        web.get("/admin/calendar/export?year=2100").content
    )
    assert cal.is_estimated(2100) and not later.official  # an estimate never passes as official


# -- the audit log --------------------------------------------------------------------------


def test_the_audit_page_shows_the_sign_ins_to_an_auditor(rt, signed_in, monkeypatch):
    agent, _ = signed_in("agent", "wang")
    assert agent.get("/admin/audit").status_code == 403
    web, _ = signed_in("auditor", "shen")
    html = web.get("/admin/audit").text
    logins = re.findall(r'<tr data-action="auth.login" data-id="\d+">(.*?)</tr>', html, re.S)
    assert any("shen" in row for row in logins) and any("wang" in row for row in logins)
    assert "登录" in html and "审计" in html and "session" in html
    assert "password-123456" not in html

    r = web.get("/admin/audit?action=auth.login&actor=wang")
    rows = re.findall(r'<tr data-action="([\w.]+)"', r.text)
    assert rows == ["auth.login"] and "wang" in r.text
    assert web.get("/admin/audit?from=2026-11-29").text.count('data-action="auth.login"') == 0
    bad = web.get("/admin/audit?from=2026/11/01")
    assert bad.status_code == 422 and "日期格式应为 YYYY-MM-DD" in bad.text

    # Newest first, a page at a time with the service's cursor.
    monkeypatch.setattr(admin_audit, "AUDIT_PAGE", 2)
    first = web.get("/admin/audit")
    ids = [int(x) for x in re.findall(r'data-id="(\d+)"', first.text)]
    assert len(ids) == 2 and ids[0] > ids[1]
    older = re.search(r'href="(/admin/audit\?before_id=\d+)"', first.text).group(1)
    second = web.get(older)
    more = [int(x) for x in re.findall(r'data-id="(\d+)"', second.text)]
    assert more and max(more) < min(ids)


def test_audit_details_are_masked_and_secrets_never_shown():
    parts = admin_audit.detail_parts(
        {
            "reason": "客户 13800001234 要求核实",
            "password": "hunter2-hunter2",
            "before": {"status": "registered", "version": 1, "team": "billing"},
            "after": {"status": "accepted", "version": 2, "team": "billing"},
        }
    )
    text = repr(parts)
    assert "13800001234" not in text and "138****1234" in text
    assert "hunter2" not in text and "（已隐藏）" in text
    assert ("status", "registered", "accepted") in parts and ("version", "1", "2") in parts
    assert not any(key == "team" for key, _, _ in parts)  # unchanged


def test_the_overview_links_and_previews_retention(rt, clock, signed_in):
    web, _ = signed_in("admin")
    html = web.get("/admin").text
    for path in ("/admin/users", "/admin/roles", "/admin/teams", "/admin/sla", "/admin/calendar"):
        assert f'href="{path}"' in html
    assert "保存期限清理预览" in html and "未做任何修改" in html
    next_year = clock().year + 1
    if rt.calendar().is_estimated(next_year):
        assert f"{next_year} 年放假安排尚未载入" in html
    # English on request.
    web.cookies.set("kesu_lang", "en")
    assert "Administration" in web.get("/admin").text


def test_a_calendar_file_with_yaml_aliases_is_refused():
    nested = "a: &a [x, x]\nb: &b [*a, *a]\nyear: 2027\nholidays: [*b]\n"
    with pytest.raises(ValueError, match="锚点与别名"):
        admin_calendar.parse_calendar_upload(nested.encode())
    with pytest.raises(ValueError, match=r"第 \d+ 行附近"):
        admin_calendar.parse_calendar_upload(b"year: 2027\nholidays: [\n  - : :\n")
