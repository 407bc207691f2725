"""The appeal centre's pages: the officer's queue, the appeal page with its decision forms,
registration of a letter, the supervisor's dashboard, the operators; refused to an
operator's staff."""

from __future__ import annotations

import re

import pytest

APPELLANT = {"name": "张三", "phone": "13800138000", "address": "某市某区某街2号"}
MATTER = {
    "request": "退还多收的流量费120元",
    "reasons": "未订购的流量包被扣费",
    "facts": "2026年9月账单出现未订购的流量包，10月向客服投诉后答复不予退费。",
    "dispute": "fee",
    "occurred_at": "2026-09-01",
    "complained_at": "2026-10-08",
    "operator_answered_at": "2026-10-12",
}
CONFIRM = {
    "confirm.direct_interest": "yes",
    "confirm.settled": "no",
    "confirm.already_handled": "unknown",
    "confirm.other_body": "no",
    "confirm.other_law": "no",
}


@pytest.fixture
def centre(staff_web):
    """(the supervisor's client, csrf, the officer's client, csrf) with one operator."""
    boss, boss_csrf = staff_web("chief", "appeal_supervisor")
    r = boss.post(
        "/admin/appeal-operators",
        data={
            "csrf_token": boss_csrf,
            "code": "telecom",
            "name": "某电信公司某省分公司",
            "address": "某市某路1号",
            "users": "2000000",
        },
    )
    assert r.status_code == 200 and "已保存：某电信公司某省分公司" in r.text, r.text
    officer, csrf = staff_web("li.officer", "appeal_officer")
    return boss, boss_csrf, officer, csrf


def register(web, csrf, **over) -> str:
    data = {"csrf_token": csrf, "channel": "letter", "operator": "telecom"}
    data.update(APPELLANT | {"postcode": "100000"} | MATTER)
    data.update(over)
    r = web.post("/appeals/new", data=data, follow_redirects=False)
    assert r.status_code == 303, r.text
    number = re.search(r"/appeals/(SS\d{14})", r.headers["location"]).group(1)
    return number


def act(web, csrf, number, action, **fields):
    return web.post(f"/appeals/{number}/act", data={"csrf_token": csrf, "action": action, **fields})


def test_centre_staff_see_their_pages(centre):
    boss, boss_csrf, officer, csrf = centre
    number = register(officer, csrf)
    for path in ("/appeals", "/appeals/new", f"/appeals/{number}"):
        for web in (officer, boss):
            r = web.get(path)
            assert r.status_code == 200, (path, r.text[:300])
    queue = officer.get("/appeals").text
    assert f'href="/appeals/{number}"' in queue and "待受理决定" in queue
    assert "张*" in queue and "13800138000" not in queue  # masked in the list
    assert "某电信公司某省分公司" in queue
    # The supervisor's dashboard and the operators are the supervisor's (appeal.manage).
    for path in ("/appeals/dashboard", "/admin/appeal-operators"):
        assert boss.get(path).status_code == 200, path
        r = officer.get(path)
        assert r.status_code == 403 and "无权" in r.text, path
    board = boss.get("/appeals/dashboard").text
    assert "申诉中心看板" in board and 'data-status="reviewing"' in board
    assert re.search(r'data-status="reviewing"><span class="n">1<', board)
    assert 'href="/appeals?queue=open&operator=telecom"' in board
    assert 'href="/appeals/dashboard"' in board and 'href="/appeals/dashboard"' not in queue
    # English on request.
    assert "To decide" in officer.get("/appeals?lang=en").text
    assert "Centre dashboard" in boss.get("/appeals/dashboard?lang=en").text
    # The front door leads each to their place.
    assert officer.get("/", follow_redirects=False).headers["location"] == "/appeals"
    assert boss.get("/", follow_redirects=False).headers["location"] == "/appeals/dashboard"


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_operator_staff_never_see_the_centre(centre, staff_web, role):
    _, _, officer, csrf = centre
    number = register(officer, csrf)
    web, their_csrf = staff_web(f"op-{role}", role)
    for path in (
        "/appeals",
        "/appeals/new",
        "/appeals/dashboard",
        f"/appeals/{number}",
        "/admin/appeal-operators",
    ):
        r = web.get(path)
        assert r.status_code == 403, path
        assert "无权" in r.text and "张三" not in r.text and "退还多收" not in r.text
    r = act(web, their_csrf, number, "reject", reason="11-1")
    assert r.status_code == 403
    assert "已受理" not in officer.get(f"/appeals/{number}").text
    assert 'href="/appeals"' not in web.get("/workbench" if role == "supervisor" else "/admin").text


def test_the_appeal_page_shows_both_limits_and_the_conditions(centre):
    _, _, officer, csrf = centre
    number = register(officer, csrf)
    page = officer.get(f"/appeals/{number}").text
    reply = re.search(r'id="limit-reply".*?</section>', page, re.S).group(0)
    accept = re.search(r'id="limit-accept".*?</section>', page, re.S).group(0)
    assert "第三十九条" in reply and "30日" in reply and "2026-12-28" in reply
    assert "第十四条" in accept and "5个工作日" in accept
    conditions = re.search(r'id="conditions".*?</section>', page, re.S).group(0)
    row = re.search(r'data-code="10-4".*?</tr>', conditions, re.S).group(0)
    assert "第十条（四）" in row and "15日内答复" in row and "✓" in row
    row = re.search(r'data-code="10-1".*?</tr>', conditions, re.S).group(0)
    assert "待核实" in row and "直接利害关系" in row
    # The forms of what is allowed now: accept, reject, redirect, withdraw, classify.
    forms = set(re.findall(r'data-action="([a-z_]+)"', page))
    assert forms == {"accept", "reject", "redirect", "withdraw", "classify"}


def test_accept_with_confirmations_then_refer(centre):
    _, _, officer, csrf = centre
    number = register(officer, csrf)
    r = act(officer, csrf, number, "accept", note="材料齐全", **CONFIRM)
    assert r.status_code == 200, r.text
    assert 'id="appeal-status">已受理<' in r.text and "已办理" in r.text
    assert "受理人员已确认：申诉人是与申诉事项有直接利害关系的当事人" in r.text
    accept = re.search(r'id="limit-accept".*?</section>', r.text, re.S).group(0)
    assert "已按期完成" in accept
    assert set(re.findall(r'data-action="([a-z_]+)"', r.text)) == {
        "refer",
        "mediate",
        "conclude",
        "withdraw",
        "classify",
    }
    r = act(officer, csrf, number, "refer", operator_due_on="")
    assert 'id="appeal-status">已转企业处理<' in r.text
    referral = re.search(r'id="referral".*?</section>', r.text, re.S).group(0)
    assert "2026-12-08" in referral and "中心规定" in referral
    assert "转企业处理" in re.search(r'id="timeline".*?</section>', r.text, re.S).group(0)


def test_reject_with_a_reason_shows_its_citation(centre):
    _, _, officer, csrf = centre
    number = register(officer, csrf, occurred_at="2026-01-05")  # over five months
    page = officer.get(f"/appeals/{number}").text
    assert "11-1" in page and "已超过五个月" in page
    r = act(officer, csrf, number, "reject", reason="11-1", note="收费争议超过五个月")
    assert r.status_code == 200, r.text
    decision = re.search(r'id="decision".*?</section>', r.text, re.S).group(0)
    assert "不予受理" in decision
    assert "《电信用户申诉处理办法》第十一条（一）规定的情形" in decision
    timeline = re.search(r'id="timeline".*?</section>', r.text, re.S).group(0)
    assert "电信用户申诉处理办法第十一条（一）" in timeline and "收费争议超过五个月" in timeline
    reply = re.search(r'id="limit-reply".*?</section>', r.text, re.S).group(0)
    assert "已按期完成" in reply
    assert "data-action=" not in r.text and "申诉已办结" in r.text


def test_an_action_error_keeps_what_was_typed(centre):
    _, _, officer, csrf = centre
    number = register(officer, csrf)
    # Accepting with the officer's items still open: 409, in Chinese, the note kept.
    typed = dict(CONFIRM, **{"confirm.direct_interest": "unknown"})
    r = act(officer, csrf, number, "accept", note="我写的说明", **typed)
    assert r.status_code == 409
    form = re.search(r'data-action="accept".*?</details>', r.text, re.S).group(0)
    assert "以下条件尚待核实确认：第十条（一）" in form and "我写的说明" in form
    assert re.search(r'name="confirm.settled" value="no" checked', form)
    assert re.search(r'name="confirm.direct_interest" value="unknown" checked', form)
    assert 'id="appeal-status">受理审查<' in r.text
    # A mediation session without its notes: 422, what was typed is still there.
    act(officer, csrf, number, "accept", **CONFIRM)
    r = act(officer, csrf, number, "mediate", held_on="2026-11-27", participants="申诉人、企业代表")
    assert r.status_code == 422 and "请填写调解记录" in r.text
    form = re.search(r'data-action="mediate".*?</details>', r.text, re.S).group(0)
    assert 'value="申诉人、企业代表"' in form and 'value="2026-11-27"' in form
    assert form.startswith('data-action="mediate" open>')  # the form tried stays open
    # An action the status does not allow: the same page, 409.
    r = act(officer, csrf, number, "perform", note="x")
    assert r.status_code == 409 and "不能“确认协议履行”" in r.text


def test_a_letter_with_missing_materials_then_supplemented(centre):
    _, _, officer, csrf = centre
    number = register(officer, csrf, postcode="", address="")
    page = officer.get(f"/appeals/{number}?done=received").text
    assert "申诉已登记" in page and 'id="appeal-status">待补正材料<' in page
    missing = re.search(r'id="missing".*?</div>', page, re.S).group(0)
    assert "申诉人邮政编码" in missing and "申诉人地址" in missing and "第十二条（一）" in missing
    accept = re.search(r'id="limit-accept".*?</section>', page, re.S).group(0)
    assert "材料不全，受理时限尚未起算" in accept
    form = re.search(r'data-action="supplement".*?</details>', page, re.S).group(0)
    assert 'name="appellant.postcode"' in form and 'name="appellant.address"' in form
    assert 'name="request"' not in form
    r = act(officer, csrf, number, "supplement", **{"appellant.postcode": "100001"})
    assert r.status_code == 200 and "申诉人地址" in r.text and "待补正材料" in r.text
    r = act(officer, csrf, number, "supplement", **{"appellant.address": "某市某路3号"})
    assert 'id="appeal-status">受理审查<' in r.text and 'id="missing"' not in r.text
    accept = re.search(r'id="limit-accept".*?</section>', r.text, re.S).group(0)
    assert "尚未起算" not in accept and "2026-12-0" in accept


def test_the_registration_form_keeps_input_on_errors(centre):
    _, _, officer, csrf = centre
    r = officer.post(
        "/appeals/new",
        data={"csrf_token": csrf, "channel": "phone", "name": "李四", "postcode": "12ab"},
    )
    assert r.status_code == 422 and 'value="李四"' in r.text and 'id="appeal-errors"' in r.text
    assert "邮政编码" in r.text
    r = officer.post(
        "/appeals/new",
        data={"csrf_token": csrf, "name": "李四", "occurred_at": "2027-01-01"},
    )
    assert r.status_code == 422 and "晚于今天" in r.text and 'value="李四"' in r.text
    options = officer.get("/appeals/new").text
    assert '<option value="telecom"' in options and '<option value="letter"' in options


def test_the_operators_page_shows_a_new_secret_once(centre):
    boss, csrf, _, _ = centre
    r = boss.post(
        "/admin/appeal-operators",
        data={
            "csrf_token": csrf,
            "code": "mobile",
            "name": "某移动公司",
            "referral_url": "https://mobile.example/api/v1/referrals",
        },
    )
    assert r.status_code == 200 and 'id="operator-secret"' in r.text
    secret = re.search(r'<code class="secret">([^<]+)</code>', r.text).group(1)
    listed = boss.get("/admin/appeal-operators").text
    assert secret not in listed and "已对接" in listed and "某移动公司" in listed
    edit = boss.get("/admin/appeal-operators?edit=telecom").text
    assert 'value="某市某路1号"' in edit and "修改企业 telecom" in edit
    r = boss.post(
        "/admin/appeal-operators",
        data={"csrf_token": csrf, "code": "Bad Code", "name": "x"},
    )
    assert r.status_code == 422 and "企业代码" in r.text


def test_the_dashboard_shows_what_is_overdue_and_due_soon(centre, clock, staff_web):
    boss, _, officer, csrf = centre
    number = register(officer, csrf)  # Saturday 28 Nov: decide by Fri 4 Dec
    board = boss.get("/appeals/dashboard").text
    assert number not in re.search(r'id="accept-soon".*?</section>', board, re.S).group(0)
    clock.advance(days=5)  # Thursday 3 Dec: due within 2 working days
    boss, _ = staff_web("chief2", "appeal_supervisor")  # sessions expire meanwhile
    board = boss.get("/appeals/dashboard").text
    assert number in re.search(r'id="accept-soon".*?</section>', board, re.S).group(0)
    clock.advance(days=2)  # Saturday 5 Dec: overdue, red in the queue too
    boss, _ = staff_web("chief3", "appeal_supervisor")
    board = boss.get("/appeals/dashboard").text
    overdue = re.search(r'id="accept-overdue".*?</section>', board, re.S).group(0)
    assert number in overdue and "已超期" in overdue
    assert re.search(r'data-count="accept_overdue"><span class="n">1<', board)
    row = re.search(rf'data-number="{number}".*?</tr>', boss.get("/appeals").text, re.S)
    assert 'class="late"' in row.group(0)
    officers = re.search(r'id="by-officer".*?</section>', board, re.S).group(0)
    assert 'data-officer="li.officer"' in officers
