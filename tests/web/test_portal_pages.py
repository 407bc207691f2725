"""The customer portal: sign-in by code, submit, follow, add to and rate a complaint.

Pages against create_app(rt) on SQLite and PostgreSQL; the service
(kesu.complaints.portal) is tested on its own at the end.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from kesu.accounts import crypto, users
from kesu.accounts.sessions import customer_principal
from kesu.app import create_app
from kesu.channels import portal, portal_track, portal_words
from kesu.complaints import queries, registration, transitions
from kesu.problems import Problem
from tests.conftest import complaint_body, last_code, sign_in

PHONE = "13700001111"
OTHER = "13700002222"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
DESCRIPTION = "家里宽带这个月经常断网，每天晚上八点以后就连不上，已经报修两次还没修好。"


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]*)"', html)
    assert found, html[:500]
    return found.group(1)


def _sign_in(web: TestClient, rt, phone: str = PHONE) -> str:
    """Signs the client in as the holder of `phone`; returns the session's CSRF token."""
    form = web.get("/portal/login")
    r = web.post(
        "/portal/login", data={"csrf_token": _csrf(form.text), "step": "code", "phone": phone}
    )
    assert r.status_code == 200 and 'name="code"' in r.text, r.text
    r = web.post(
        "/portal/login",
        data={"csrf_token": _csrf(r.text), "step": "verify", "phone": phone, "code": last_code(rt)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return _csrf(web.get("/portal/new").text)


@pytest.fixture
def web(rt):
    with TestClient(create_app(rt, watcher=False)) as c:
        yield c


@pytest.fixture
def other_web(rt):
    with TestClient(create_app(rt, watcher=False)) as c:
        yield c


def _submit(web: TestClient, csrf: str, phone: str = PHONE, files=None, **fields):
    data = {
        "csrf_token": csrf,
        "phone": phone,
        "category": "network",
        "description": DESCRIPTION,
        "demands": "尽快修好，减免断网期间的月租。",
        **fields,
    }
    return web.post("/portal/new", data=data, files=files)


def _number(html: str) -> str:
    return re.search(r'id="number">(TS\d{14})<', html).group(1)


# -- sign-in ---------------------------------------------------------------------------


def test_sign_in_by_code(web, rt):
    r = web.get("/portal/complaints", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/portal/login?next=/portal/complaints"
    form = web.get("/portal/login?next=/portal/complaints")
    assert "获取验证码" in form.text and 'lang="zh-CN"' in form.text
    r = web.post(
        "/portal/login", data={"csrf_token": _csrf(form.text), "step": "code", "phone": "123"}
    )
    assert r.status_code == 422 and "请输入11位手机号码" in r.text
    r = web.post(
        "/portal/login",
        data={"csrf_token": _csrf(r.text), "step": "code", "phone": "137-0000-1111"},
    )
    assert r.status_code == 200 and "137****1111" in r.text and 'name="code"' in r.text
    # Asking again at once: told to wait, still on the code step.
    again = web.post(
        "/portal/login", data={"csrf_token": _csrf(r.text), "step": "code", "phone": PHONE}
    )
    assert again.status_code == 429 and "秒后再试" in again.text and 'name="code"' in again.text
    assert again.headers.get("retry-after")
    wrong = web.post(
        "/portal/login",
        data={"csrf_token": _csrf(r.text), "step": "verify", "phone": PHONE, "code": "000000"},
    )
    assert wrong.status_code == 401 and "验证码不正确" in wrong.text
    r = web.post(
        "/portal/login",
        data={
            "csrf_token": _csrf(r.text),
            "step": "verify",
            "phone": PHONE,
            "code": last_code(rt),
            "next": "/portal/complaints",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/portal/complaints"
    page = web.get("/portal/complaints")
    assert page.status_code == 200 and "我的投诉" in page.text and "已验证手机号" in page.text
    # Signed out: the session ends on the server.
    r = web.post("/portal/logout", data={"csrf_token": _csrf(page.text)}, follow_redirects=False)
    assert r.status_code == 303
    assert web.get("/portal/complaints", follow_redirects=False).status_code == 303


def test_sign_in_form_needs_its_token(web):
    r = web.post("/portal/login", data={"step": "code", "phone": PHONE})
    assert r.status_code == 403 and "CSRF" in r.text and "text/html" in r.headers["content-type"]


def test_demo_mode_says_where_the_code_is(rt):
    from dataclasses import replace

    rt.settings = replace(rt.settings, demo=True)
    with TestClient(create_app(rt, watcher=False)) as web:
        assert "服务器控制台" in web.get("/portal/login").text


# -- submit ------------------------------------------------------------------------------


def test_submit_shows_the_number_and_time_limits_with_their_basis(web, rt):
    csrf = _sign_in(web, rt)
    form = web.get("/portal/new")
    assert "网速慢、没信号、断网" in form.text and 'enctype="multipart/form-data"' in form.text
    r = _submit(web, csrf, files={"evidence": ("断网.png", PNG, "image/png")}, name="李女士")
    assert r.status_code == 200, r.text
    number = _number(r.text)
    assert "投诉已提交" in r.text and "证据已上传" in r.text
    # The statutory answer, with its article, and the operator's own 24-hour promise.
    assert re.search(
        r"我们将在 2026年12月\d{1,2}日 24:00 前答复您（依据《电信用户申诉处理办法》第十条", r.text
    )
    assert "受理您的投诉并告知处理流程和时限（运营商承诺）" in r.text
    c = queries.get(rt, number)
    assert c["channel"] == "web" and c["kind"] == "complaint" and c["category"] == "network"
    assert c["customer"]["phone"] == "137****1111"
    detail = web.get(f"/portal/complaints/{number}")
    assert "断网.png" in detail.text and "您上传了证据" in detail.text
    # The same form sent twice registers one complaint.
    token = re.search(r'name="token" value="([^"]+)"', form.text).group(1)
    first = _submit(web, csrf, token=token)
    second = _submit(web, csrf, token=token)
    assert _number(first.text) == _number(second.text)
    assert "此前已经提交过" in second.text


def test_province_rules_show_in_the_time_limits(web, rt):
    csrf = _sign_in(web, rt)
    r = _submit(web, csrf, province="河南省")
    # The earliest answer that binds us: Henan's 5 working days, not the national 15 days.
    assert "前答复您（依据《河南省电信条例》第三十八条）" in r.text
    assert r.text.count("前答复您") == 1


def test_the_phone_must_be_the_verified_one(web, rt):
    csrf = _sign_in(web, rt)
    r = _submit(web, csrf, phone=OTHER)
    assert r.status_code == 422 and "与登录时验证的手机号不一致" in r.text
    assert DESCRIPTION in r.text  # what was typed is kept
    r = _submit(web, csrf, description="")
    assert r.status_code == 422


def test_sixth_submission_in_a_day_is_refused(web, rt, clock):
    csrf = _sign_in(web, rt)
    for _ in range(5):
        assert _submit(web, csrf).status_code == 200
        clock.advance(minutes=10)
    r = _submit(web, csrf)
    assert r.status_code == 429 and "24小时内最多在网上提交5件投诉" in r.text
    assert int(r.headers["retry-after"]) > 0
    clock.advance(hours=23, minutes=20)  # the first one leaves the window
    assert _submit(web, csrf).status_code == 200


# -- follow ------------------------------------------------------------------------------


def test_a_customer_sees_only_their_own(web, other_web, rt, make_complaint):
    csrf = _sign_in(web, rt)
    mine = _number(_submit(web, csrf).text)
    hotline = make_complaint(customer={"phone": PHONE})["number"]  # same number, by phone
    theirs = make_complaint(customer={"phone": OTHER})["number"]
    page = web.get("/portal/complaints").text
    assert mine in page and hotline in page and theirs not in page
    r = web.get(f"/portal/complaints/{theirs}")
    assert r.status_code == 404 and "不存在" in r.text
    other_csrf = _sign_in(other_web, rt, OTHER)
    assert mine not in other_web.get("/portal/complaints").text
    assert other_web.get(f"/portal/complaints/{mine}").status_code == 404
    r = other_web.post(
        f"/portal/complaints/{mine}/info", data={"csrf_token": other_csrf, "text": "我的"}
    )
    assert r.status_code == 404


def test_the_detail_page_shows_nothing_internal(web, rt, act, client):
    csrf = _sign_in(web, rt)
    number = _number(_submit(web, csrf).text)
    act(number, "accept", note="内部备注：客户难缠INTERNAL-7731")
    users.create_user(
        rt,
        "test",
        "wang.handler",
        "handler",
        "password-123456",
        team="escalation",
        display_name="王处理员",
    )
    act(number, "transfer", team="escalation", assignee="wang.handler", note="转疑难组")
    act(number, "flag", add_flags=["media"], note="舆情风险")
    staff_file = client.post(
        f"/api/v1/complaints/{number}/attachments",
        files={"file": ("内部核查.png", PNG, "image/png")},
    )
    assert staff_file.status_code in (200, 201), staff_file.text
    page = web.get(f"/portal/complaints/{number}").text
    html = page.split("<main", 1)[1]
    assert "正在处理" in html and "已受理，开始处理" in html
    for secret in (
        "INTERNAL-7731",
        "内部备注",
        "王处理员",
        "wang.handler",
        "疑难投诉组",
        "一线受理组",
        "转疑难组",
        "舆情风险",
        "媒体曝光风险",
        "t-supervisor",
        "内部核查",
        "紧急",
        "分诊",
    ):
        assert secret not in html, secret


def test_customer_adds_information(web, rt, act, client):
    csrf = _sign_in(web, rt)
    number = _number(_submit(web, csrf).text)
    r = web.post(
        f"/portal/complaints/{number}/info",
        data={"csrf_token": csrf, "text": "补充：昨晚又断了三次，光猫红灯一直闪。"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].endswith("?done=info")
    html = web.get(r.headers["location"]).text
    assert "已收到您补充的信息" in html and "光猫红灯一直闪" in html
    staff = client.get(f"/api/v1/complaints/{number}/events").json()["items"]
    added = [e for e in staff if e["type"] == "customer_info_added"]
    assert added and "光猫红灯" in added[0]["note"]
    r = web.post(f"/portal/complaints/{number}/info", data={"csrf_token": csrf, "text": "x" * 2001})
    assert r.status_code == 422 and "最多 2000 个字" in r.text
    act(number, "invalidate", reason="not_specific")
    r = web.post(f"/portal/complaints/{number}/info", data={"csrf_token": csrf, "text": "再补充"})
    assert r.status_code == 409 and "不能再补充信息" in r.text
    html = web.get(f"/portal/complaints/{number}").text
    assert "未予受理" in html and "内容不具体，无法核实" in html and 'id="add"' not in html


def test_rating_only_after_the_reply_and_dissatisfied_shows_how_to_appeal(web, rt, act, client):
    csrf = _sign_in(web, rt)
    number = _number(_submit(web, csrf, province="河南省").text)
    assert 'id="rate"' not in web.get(f"/portal/complaints/{number}").text
    r = web.post(
        f"/portal/complaints/{number}/rate", data={"csrf_token": csrf, "result": "satisfied"}
    )
    assert r.status_code == 409 and "答复后才能评价" in r.text
    act(number, "accept")
    act(number, "investigate")
    act(number, "propose", resolution="草案：内部拟定DRAFT-5512", note="方案")
    html = web.get(f"/portal/complaints/{number}").text
    assert "DRAFT-5512" not in html  # a resolution being drafted is not the answer
    act(
        number, "reply", resolution="经核查，您家宽带线路老化，已于11月29日更换，减免断网期间月租。"
    )
    html = web.get(f"/portal/complaints/{number}").text
    assert "已答复，请评价" in html and "已于11月29日更换" in html and 'id="rate"' in html
    r = web.post(
        f"/portal/complaints/{number}/rate",
        data={"csrf_token": csrf, "result": "dissatisfied", "comment": "还是经常断"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    html = web.get(r.headers["location"]).text
    assert "感谢您的评价" in html and "您的评价：不满意" in html
    assert "工业和信息化部电信用户申诉受理中心" in html and "《河南省电信条例》" in html
    assert 'id="rate"' not in html and "还是经常断" in html
    c = client.get(f"/api/v1/complaints/{number}").json()
    assert c["status"] == "callback" and c["callback_result"] == "dissatisfied"
    r = web.post(
        f"/portal/complaints/{number}/rate", data={"csrf_token": csrf, "result": "satisfied"}
    )
    assert r.status_code == 409


def test_customer_uploads_evidence_on_the_complaint(web, rt):
    csrf = _sign_in(web, rt)
    number = _number(_submit(web, csrf).text)
    r = web.post(
        f"/portal/complaints/{number}/attachments",
        data={"csrf_token": csrf},
        files={"file": ("账单.pdf", b"%PDF-1.4\n%test\n", "application/pdf")},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert "账单.pdf" in web.get(f"/portal/complaints/{number}").text
    r = web.post(
        f"/portal/complaints/{number}/attachments",
        data={"csrf_token": csrf},
        files={"file": ("x.exe", b"MZ\x90\x00", "application/octet-stream")},
    )
    assert r.status_code == 415 and "不支持该文件类型" in r.text


def test_posts_without_csrf_are_refused(web, rt):
    csrf = _sign_in(web, rt)
    number = _number(_submit(web, csrf).text)
    for path, data in (
        (f"/portal/complaints/{number}/info", {"text": "补充"}),
        (f"/portal/complaints/{number}/rate", {"result": "satisfied"}),
        ("/portal/new", {"phone": PHONE, "description": DESCRIPTION}),
    ):
        r = web.post(path, data=data)
        assert r.status_code == 403 and "CSRF" in r.text, path
        assert "text/html" in r.headers["content-type"]
    r = web.post(f"/portal/complaints/{number}/info", data={"csrf_token": "forged", "text": "x"})
    assert r.status_code == 403


def test_english_pages(web, rt):
    r = web.get("/portal?lang=en")
    assert "Submit a complaint" in r.text and 'lang="en"' in r.text
    csrf = _sign_in(web, rt)
    number = _number(_submit(web, csrf).text)
    html = web.get(f"/portal/complaints/{number}?lang=en").text
    assert "Received, waiting to be accepted" in html and "We will answer you by 24:00 on" in html
    assert "Slow internet" in html


def test_landing_page_for_everyone(web, rt):
    r = web.get("/portal")
    assert r.status_code == 200 and "提交投诉" in r.text and "查询进度" in r.text
    assert "工业和信息化部电信用户申诉受理中心" in r.text
    assert 'class="portal"' in r.text


def test_staff_are_sent_to_the_customer_sign_in(rt, tokens):
    from kesu.accounts import users

    users.create_user(rt, "test", "agent1", "agent", "password-123456")
    with TestClient(create_app(rt, watcher=False)) as staff:
        sign_in(staff, {"username": "agent1", "password": "password-123456"})
        r = staff.get("/portal/complaints", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/portal/login")


# -- the service -------------------------------------------------------------------------


def _me(phone: str = PHONE):
    return customer_principal(crypto.phone_hash(phone), "127.0.0.1", None)


def _data(**kw):
    return {"phone": PHONE, "description": DESCRIPTION, "category": "billing", **kw}


def test_service_refuses_staff_and_other_numbers(rt):
    from kesu.accounts.roles import system

    with pytest.raises(Problem) as err:
        portal.submit(rt, system(), _data())
    assert err.value.status == 403
    with pytest.raises(Problem) as err:
        portal.submit(rt, _me(), _data(phone=OTHER))
    assert err.value.code == "phone_mismatch" and "不一致" in err.value.detail
    with pytest.raises(Problem) as err:
        portal.submit(rt, _me(), _data(category="nonsense"))
    assert err.value.code == "unknown_category"


def test_service_submit_and_detail(rt, clock):
    me = _me()
    out = portal.submit(rt, me, _data(demands="退费"))
    assert out["created"] and out["number"].startswith("TS20261128")
    plain = {d["plain"] for d in out["deadlines"]}
    assert any("依据《电信用户申诉处理办法》第十条" in p for p in plain)
    assert any("运营商承诺" in p for p in plain)
    assert all(p.endswith("。") for p in plain)
    c = queries.get(rt, out["number"])
    assert c["first_receiver"] == "portal" and c["channel"] == "web"
    d = portal_track.detail(rt, me, out["number"])
    assert d["status_text"] == "已收到，等待受理" and d["can_add"] and not d["can_rate"]
    assert {"team", "assignee", "risk_flags", "priority"}.isdisjoint(d)
    assert [e["type"] for e in d["timeline"]] == ["registered"]
    assert portal_track.my_complaints(rt, me)[0]["number"] == out["number"]
    assert portal_track.my_complaints(rt, _me(OTHER)) == []
    with pytest.raises(Problem) as err:
        portal_track.detail(rt, _me(OTHER), out["number"])
    assert err.value.status == 404


def test_service_rate_limit_counts_web_submissions_of_the_number(rt, clock):
    me = _me()
    for _ in range(portal_words.SUBMISSIONS_PER_DAY):
        portal.submit(rt, me, _data())
    # Another number is not limited, nor are complaints by phone.
    portal.submit(rt, _me(OTHER), _data(phone=OTHER))
    registration.register(rt, complaint_body(customer={"phone": PHONE}), "test")
    with pytest.raises(Problem) as err:
        portal.submit(rt, me, _data())
    assert err.value.status == 429 and err.value.code == "portal_rate_limited"
    assert 0 < err.value.extra["retry_after"] <= 24 * 3600 + 1


def test_service_add_information_and_rate(rt, clock):
    me = _me()
    number = portal.submit(rt, me, _data(province="重庆市"))["number"]
    portal.add_information(rt, me, number, "补充：号码 13912345678 也被扣费")
    d = portal_track.detail(rt, me, number)
    info = [e for e in d["timeline"] if e["type"] == "customer_info_added"]
    assert info and "139****5678" in info[0]["note"] and "13912345678" not in info[0]["note"]
    with pytest.raises(Problem) as err:
        portal.add_information(rt, me, number, " ")
    assert err.value.status == 422
    with pytest.raises(Problem) as err:
        portal.rate(rt, me, number, "satisfied")
    assert err.value.status == 409
    transitions.transition(rt, number, "accept", {}, "test")
    transitions.transition(rt, number, "reply", {"resolution": "已退费10元。"}, "test")
    with pytest.raises(Problem) as err:
        portal.rate(rt, me, number, "great")
    assert err.value.status == 422
    with pytest.raises(Problem) as err:
        portal.rate(rt, _me(OTHER), number, "satisfied")
    assert err.value.status == 404
    out = portal.rate(rt, me, number, "dissatisfied", "没退够")
    assert (
        out["appeal"]["province"] == "重庆市" and "重庆市电信条例" in out["appeal"]["province_text"]
    )
    d = portal_track.detail(rt, me, number)
    assert d["status_text"] == "已回访" and d["rating"]["result"] == "dissatisfied"
    assert d["reply"]["text"] == "已退费10元。"
    types = [e["type"] for e in d["timeline"]]
    assert "customer_rated" in types and "callback_done" not in types  # one entry, not two
    staff_events = queries.events(rt, number)
    assert any(e["type"] == "callback_done" and e["actor"] == "portal" for e in staff_events)
    transitions.transition(rt, number, "close", {"root_cause": "human_error"}, "test")
    with pytest.raises(Problem) as err:
        portal.add_information(rt, me, number, "还有")
    assert err.value.status == 409 and err.value.code == "complaint_closed"


def test_satisfied_rating_has_no_appeal(rt):
    me = _me()
    number = portal.submit(rt, me, _data())["number"]
    transitions.transition(rt, number, "accept", {}, "test")
    transitions.transition(rt, number, "reply", {"resolution": "已处理。"}, "test")
    assert portal.rate(rt, me, number, "satisfied")["appeal"] is None
    assert portal_track.detail(rt, me, number)["appeal"] is None


def test_every_category_has_plain_words():
    from kesu.complaints import vocabulary as vocab

    assert sorted(c["code"] for c in portal_words.categories()) == sorted(vocab.CATEGORIES)
    assert all(c["zh"] and c["en"] for c in portal_words.categories())


def test_plain_deadline_wording():
    from types import SimpleNamespace

    rt = SimpleNamespace(rules={})
    from datetime import datetime

    from kesu.clock import BEIJING

    now = datetime(2026, 11, 28, 10, 0, tzinfo=BEIJING)
    d = {
        "rule": "x",
        "name": "投诉答复（15日）",
        "statutory": True,
        "due_at": "2026-12-14T23:59:59.999999+08:00",
        "basis": [
            {
                "regulation": "电信用户申诉处理办法",
                "article": "第十条",
                "policy": False,
                "citation": "《电信用户申诉处理办法》第十条",
            }
        ],
    }
    p = portal_words.plain_deadline(rt, d, now)
    assert (
        p["plain"]
        == "我们将在 2026年12月14日 24:00 前答复您（依据《电信用户申诉处理办法》第十条）。"
    )
    assert p["plain_en"].startswith("We will answer you by 24:00 on 14 Dec 2026")
    later = portal_words.plain_deadline(rt, d, datetime(2026, 12, 20, tzinfo=BEIJING))
    assert later["past"] and later["plain"].startswith("我们应在")


def test_plain_deadline_says_what_is_owed():
    from datetime import datetime
    from types import SimpleNamespace

    from kesu.clock import BEIJING
    from kesu.runtime import load_rules

    rt = SimpleNamespace(rules=load_rules())
    now = datetime(2026, 11, 28, 10, 0, tzinfo=BEIJING)
    repair = {
        "rule": "repair_urban_48h",
        "name": "障碍修复（城镇48小时）",
        "statutory": True,
        "due_at": "2026-11-30T10:00:00+08:00",
        "basis": rt.rules["repair_urban_48h"].basis_json,
    }
    p = portal_words.plain_deadline(rt, repair, now)
    assert p["plain"] == (
        "我们将在 2026年11月30日 10:00 前修复或调通障碍"
        "（依据《中华人民共和国电信条例》第三十二条）。"
    )
    ack = {**repair, "rule": "ack_24h", "statutory": False, "basis": rt.rules["ack_24h"].basis_json}
    assert portal_words.plain_deadline(rt, ack, now)["plain"].endswith(
        "告知处理流程和时限（运营商承诺）。"
    )


def test_a_customer_chooses_only_the_essential_messages(web, rt, act, make_complaint):
    """受理告知 and the answer always go; 办结告知 only when the customer wants every step."""
    from sqlalchemy import select

    from kesu.store import tables as t

    csrf = _sign_in(web, rt)
    page = web.get("/portal/complaints")
    assert "短信通知" in page.text and 'value="all" checked' in page.text
    r = web.post("/portal/messages", data={"csrf_token": csrf, "messages": "essential"})
    assert r.status_code == 200 and "已保存您的短信通知设置。" in r.text
    assert 'value="essential" checked' in r.text
    n = make_complaint(customer={"phone": PHONE, "name": "王五"})["number"]
    for action, params in [
        ("accept", {}),
        ("reply", {"resolution": "已修复线路，恢复上网。"}),
        ("callback", {"result": "satisfied"}),
        ("close", {"root_cause": "human_error"}),
    ]:
        act(n, action, **params)
    with rt.engine.connect() as conn:
        purposes = (
            conn.execute(
                select(t.notifications.c.purpose)
                .where(t.notifications.c.purpose.like("customer.%"))
                .order_by(t.notifications.c.id)
            )
            .scalars()
            .all()
        )
    assert purposes == ["customer.accepted", "customer.replied"]
    # Back to every step.
    web.post("/portal/messages", data={"csrf_token": csrf, "messages": "all"})
    assert 'value="all" checked' in web.get("/portal/complaints").text
