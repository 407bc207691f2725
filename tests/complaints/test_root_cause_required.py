"""Closing a complaint needs a root cause on every path that ends in `closed`: the close
action (API and page), a bulk close; a cause recorded before (propose, reply) is kept.
(Historical imports arrive closed with 未记录: tests/channels/test_import_file.py.)"""

from __future__ import annotations

import re

from kesu.accounts import roles as r
from kesu.complaints import queries


def _called_back(make_complaint, act, **reply) -> str:
    n = make_complaint()["number"]
    act(n, "accept")
    act(n, "reply", resolution="经核实已退还多收的30元。", **reply)
    act(n, "callback", result="satisfied")
    return n


def test_closing_without_a_cause_is_refused_in_chinese_and_changes_nothing(
    client, make_complaint, act
):
    n = _called_back(make_complaint, act)
    before = client.get(f"/api/v1/complaints/{n}").json()
    p = act(n, "close", expect=422, root_cause=None)
    assert p["code"] == "root_cause_required"
    assert "原因" in p["detail"]
    after = client.get(f"/api/v1/complaints/{n}").json()
    assert (after["status"], after["version"]) == ("callback", before["version"])
    events = client.get(f"/api/v1/complaints/{n}/events").json()["items"]
    assert "closed" not in [e["type"] for e in events]
    # An import's 未记录 is not a cause to close with.
    assert act(n, "close", expect=422, root_cause="unknown")["code"] == "unknown_root_cause"
    closed = act(n, "close", root_cause="network_fault")
    assert (closed["status"], closed["root_cause"]) == ("closed", "network_fault")


def test_a_cause_recorded_at_reply_is_kept_when_closing(client, make_complaint, act):
    n = _called_back(make_complaint, act, root_cause="reseller")
    closed = act(n, "close", root_cause=None)
    assert (closed["status"], closed["root_cause"]) == ("closed", "reseller")


def test_bulk_close_refuses_each_complaint_without_a_cause(client, make_complaint, act):
    with_cause = _called_back(make_complaint, act, root_cause="system_fault")
    without = _called_back(make_complaint, act)
    r1 = client.post(
        "/api/v1/complaints/bulk",
        json={"numbers": [with_cause, without], "action": "close", "params": {}},
    )
    assert r1.status_code == 200, r1.text
    by = {x["number"]: x for x in r1.json()["results"]}
    assert by[with_cause]["status"] == "done"
    assert by[without]["status"] == "failed"
    assert by[without]["problem"]["code"] == "root_cause_required"
    assert client.get(f"/api/v1/complaints/{without}").json()["status"] == "callback"
    r2 = client.post(
        "/api/v1/complaints/bulk",
        json={"numbers": [without], "action": "close", "params": {"root_cause": "policy"}},
    )
    assert r2.json()["summary"]["done"] == 1
    assert client.get(f"/api/v1/complaints/{without}").json()["root_cause"] == "policy"


def test_the_page_close_form_asks_for_the_cause(rt, staff_web, make_complaint, act):
    n = _called_back(make_complaint, act)
    web, csrf = staff_web("zhang.handler", "handler")
    page = web.get(f"/complaints/{n}").text
    form = page[page.index('data-action="close"') :]
    form = form[: form.index("</form>")]
    select = re.search(r'<select name="root_cause"[^>]*>', form)
    assert select and "required" in select.group(0)
    assert "人为差错" in form and "未记录" not in form  # 未记录 is never chosen
    version = re.search(r'name="expected_version" value="(\d+)"', page).group(1)
    refused = web.post(
        f"/complaints/{n}/act",
        data={"csrf_token": csrf, "action": "close", "expected_version": version},
        follow_redirects=False,
    )
    assert refused.status_code == 422
    assert "原因" in refused.text
    assert queries.get(rt, n, r.system())["status"] == "callback"
    done = web.post(
        f"/complaints/{n}/act",
        data={
            "csrf_token": csrf,
            "action": "close",
            "expected_version": version,
            "root_cause": "third_party",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    view = queries.get(rt, n, r.system())
    assert (view["status"], view["root_cause"]) == ("closed", "third_party")
