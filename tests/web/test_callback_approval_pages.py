"""The complaint page and the queue for issue 14, items 2 and 3, without a browser: the
assignee's one-click reveal for a call back, the approval banner, the proposer's notice,
the approvers' header counter and the queue's 待审批 filter."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from kesu.accounts import roles as r
from kesu.accounts import users
from kesu.app import create_app
from kesu.complaints import transitions
from tests.conftest import sign_in
from tests.web.test_workbench_pages import MASKED, PASSWORD, PHONE, _audit, _csrf, _register


@pytest.fixture
def signed_in(rt):
    """signed_in(role, name) → (a browser-like client signed in as a new user, CSRF token)."""
    app = create_app(rt, watcher=False)
    clients: list[TestClient] = []

    def make(role: str, name: str | None = None):
        name = name or f"w-{role}"
        users.create_user(rt, "test", name, role, PASSWORD)
        web = TestClient(app)
        clients.append(web)
        got = sign_in(web, {"username": name, "password": PASSWORD})
        assert got.status_code == 200, got.text
        return web, _csrf(got.text)

    yield make
    for web in clients:
        web.close()


def _assign(rt, number: str, username: str) -> None:
    """Transferred to `username` in the escalation team (an assignee belongs to the team)."""
    from kesu.accounts import teams

    teams.set_user(rt, "system", username, {"team": "escalation"})
    transitions.transition(
        rt, number, "transfer", {"team": "escalation", "assignee": username}, r.system()
    )


def _to_investigating(rt, number: str) -> None:
    for action in ("accept", "investigate"):
        transitions.transition(rt, number, action, {}, r.system())


def test_the_assignee_reveals_the_phone_with_one_click(rt, signed_in):
    number = _register(rt)
    other = _register(rt)
    web, csrf = signed_in("handler", "hu.handler")
    _assign(rt, number, "hu.handler")

    page = web.get(f"/complaints/{number}")
    assert MASKED in page.text and PHONE not in page.text
    form = page.text.split('id="reveal-form"', 1)[1].split("</form>", 1)[0]
    assert '<option value="callback" selected>回访客户</option>' in form
    assert 'id="reveal-phone"' in form and "显示号码（回访）" in form
    assert 'id="reveal-full"' not in form  # everything else needs pii.show
    # Not theirs: no reveal at all.
    assert "/reveal" not in web.get(f"/complaints/{other}").text

    got = web.post(
        f"/complaints/{number}/reveal",
        data={"csrf_token": csrf, "reason": "callback", "scope": "phone"},
        headers={"HX-Request": "true"},
    )
    assert got.status_code == 200, got.text
    assert f'<a href="tel:{PHONE}">{PHONE}</a>' in got.text
    assert "张*" in got.text and "张三" not in got.text  # the name stays masked
    assert "号码已显示（已留痕）" in got.text and "回访客户" in got.text
    [entry] = _audit(rt, "pii.show")
    assert (entry.actor, entry.target_id) == ("hu.handler", number)
    assert entry.detail == {
        "reason": "callback",
        "reason_name": "回访客户",
        "scope": "phone",
        "basis": "assignee",
    }

    # Asking for everything, or for someone else's complaint: refused, nothing shown.
    got = web.post(
        f"/complaints/{number}/reveal",
        data={"csrf_token": csrf, "reason": "callback", "scope": "full"},
        headers={"HX-Request": "true"},
    )
    assert "张三" not in got.text and "只能为回访查看电话号码" in got.text
    got = web.post(
        f"/complaints/{other}/reveal",
        data={"csrf_token": csrf, "reason": "callback"},
        headers={"HX-Request": "true"},
    )
    assert PHONE not in got.text
    assert len(_audit(rt, "pii.show")) == 1


def test_the_proposer_is_told_who_must_approve_and_why(rt, signed_in):
    number = _register(rt)
    _to_investigating(rt, number)
    web, csrf = signed_in("handler", "hu.handler")
    page = web.get(f"/complaints/{number}")
    version = re.search(r'name="expected_version" value="(\d+)"', page.text).group(1)  # type: ignore[union-attr]
    got = web.post(
        f"/complaints/{number}/act",
        data={
            "csrf_token": csrf,
            "action": "propose",
            "resolution": "经核查多扣流量费，拟退还并补偿。",
            "compensation": "500",
            "expected_version": version,
        },
    )
    assert got.status_code == 200 and f"/complaints/{number}?done=proposed" in str(got.url)
    flash = got.text.split('id="flash"', 1)[1].split("</div>", 1)[0]
    assert "方案已提交，现待审批：须由班组长/主管或法务审批通过后才能答复客户" in flash
    assert "赔偿金额 500.00 元超过审批阈值 100.00 元" in flash
    banner = got.text.split('id="approval-banner"', 1)[1].split("</div>", 1)[0]
    assert "待审批" in banner and "班组长/主管或法务" in banner
    assert 'data-reason="amount"' in banner
    assert "去审批" not in banner  # the handler may not approve
    # A proposal under the threshold: no banner, the ordinary notice.
    small = _register(rt)
    _to_investigating(rt, small)
    page = web.get(f"/complaints/{small}")
    version = re.search(r'name="expected_version" value="(\d+)"', page.text).group(1)  # type: ignore[union-attr]
    got = web.post(
        f"/complaints/{small}/act",
        data={
            "csrf_token": csrf,
            "action": "propose",
            "resolution": "经核查系客户误解，已解释。",
            "expected_version": version,
        },
    )
    assert "done=action" in str(got.url) and 'id="approval-banner"' not in got.text


def test_approvers_see_a_counter_and_their_queue(rt, signed_in):
    waiting = _register(rt)
    _to_investigating(rt, waiting)
    transitions.transition(
        rt, waiting, "propose", {"resolution": "拟赔偿", "compensation": "300"}, r.system()
    )
    plain = _register(rt)

    boss, _ = signed_in("supervisor", "boss.zhao")
    home = boss.get("/workbench")
    assert 'hx-get="/workbench/approvals-count"' in home.text
    counter = boss.get("/workbench/approvals-count", headers={"HX-Request": "true"})
    assert "待审批 1" in counter.text
    assert 'href="/workbench?view=open&amp;approval=waiting"' in counter.text
    queue = boss.get("/workbench", params={"view": "open", "approval": "waiting"})
    numbers = re.findall(r'<tr data-number="([^"]+)">', queue.text)
    assert numbers == [waiting] and plain not in numbers
    assert '<option value="waiting" selected>待审批</option>' in queue.text
    total = boss.get("/workbench/total", params={"view": "open", "approval": "waiting"})
    assert "共 1 件" in total.text
    page = boss.get(f"/complaints/{waiting}")
    assert "去审批" in page.text.split('id="approval-banner"', 1)[1].split("</div>", 1)[0]

    # A handler may not approve: no counter in the header, and it counts nothing.
    web, _ = signed_in("handler")
    assert "approvals-count" not in web.get("/workbench").text
    assert "待审批" not in web.get("/workbench/approvals-count").text

    transitions.transition(rt, waiting, "approve", {}, r.system())
    assert "待审批" not in boss.get("/workbench/approvals-count").text
