"""Customers are told by SMS, in the transaction of the change: accepted (number, the
statutory reply date and its article, the portal link), answered (with the link to rate),
closed; quiet hours defer them; an opted-out customer gets only the essential ones."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from kesu.channels import notices
from kesu.clock import BEIJING
from kesu.store import tables as t
from kesu.store.db import write

N = t.notifications.c


def _messages(rt) -> list[dict]:
    with rt.engine.connect() as conn:
        rows = conn.execute(select(t.notifications).order_by(N.id)).all()
    return [dict(r._mapping) for r in rows]


def _to_the_end(n, act):
    act(n, "accept")
    act(n, "investigate")
    act(n, "propose", resolution="经核查多扣30元，已退还。", compensation=30)
    act(n, "reply")
    act(n, "callback", result="basically_satisfied")
    act(n, "close")


def test_the_customer_is_told_at_each_step(rt, make_complaint, act):
    c = make_complaint()
    n = c["number"]
    assert _messages(rt) == []  # registration alone tells nothing yet
    _to_the_end(n, act)
    sent = _messages(rt)
    assert [m["purpose"] for m in sent] == [
        "customer.accepted",
        "customer.replied",
        "customer.closed",
    ]
    assert {m["recipient"] for m in sent} == {"13800001234"}
    accepted = sent[0]["body"]
    # Received Saturday 2026-11-28: the fifteen days (电信用户申诉处理办法 第十条) count
    # from the next day and end with 2026-12-14 (the deadline engine's due time, 23:59).
    assert f"单号{n}" in accepted
    assert "于2026年12月14日前答复您（时限依据《电信用户申诉处理办法》第十条）" in accepted
    assert f"http://localhost:8000/portal/complaints/{n}" in accepted
    assert "评价" in sent[1]["body"] and "已办结" in sent[2]["body"]
    # Sent at 10:00 Beijing time: nothing deferred.
    assert all(m["next_attempt_at"] == m["created_at"] for m in sent)


def test_quiet_hours_defer_the_sms_to_eight_in_the_morning(rt, make_complaint, act, clock):
    n = make_complaint()["number"]
    clock.advance(hours=12, minutes=30)  # 22:30 Beijing time
    act(n, "accept")
    (m,) = _messages(rt)
    at = m["next_attempt_at"].astimezone(BEIJING)
    assert (at.date().isoformat(), at.hour, at.minute) == ("2026-11-29", 8, 0)


def test_an_opted_out_customer_gets_only_what_they_must_know(rt, make_complaint, act, clock):
    n = make_complaint()["number"]
    with write(rt.engine) as conn:
        notices.set_opt_out(conn, "13800001234", True, clock())
    _to_the_end(n, act)
    assert [m["purpose"] for m in _messages(rt)] == ["customer.accepted", "customer.replied"]
    with write(rt.engine) as conn:
        notices.set_opt_out(conn, "13800001234", False, clock())
        assert not notices.opted_out(conn, "13800001234")


def test_quiet_hours_edges():
    start, end = notices.quiet_window("21:00-08:00")
    assert notices.quiet_window("off") is None

    def at(h, m=0):
        return datetime(2026, 12, 7, h, m, tzinfo=BEIJING)

    assert notices.after_quiet_hours(at(20, 59), start, end) is None
    assert notices.after_quiet_hours(at(8, 0), start, end) is None
    assert notices.after_quiet_hours(at(21, 0), start, end) == datetime(
        2026, 12, 8, 8, 0, tzinfo=BEIJING
    )
    assert notices.after_quiet_hours(at(3, 15), start, end) == datetime(
        2026, 12, 7, 8, 0, tzinfo=BEIJING
    )


def test_a_fault_is_told_when_it_will_be_repaired(rt, make_complaint, act):
    n = make_complaint(
        kind="fault", category="network", description="家里宽带从昨天起完全断网，光猫红灯闪烁。"
    )["number"]
    act(n, "accept")
    (m,) = _messages(rt)
    assert m["body"].startswith(f"您报修的故障已受理，单号{n}。我们将于")
    assert "前修复（时限依据《" in m["body"] and "答复" not in m["body"]


def test_a_customer_is_told_before_the_limit_when_the_reply_will_be_late(
    rt, make_complaint, act, client
):
    n = make_complaint()["number"]
    act(n, "accept")
    act(n, "investigate")
    view = act(n, "delay", expected_on="2026-12-18", reason="需协调网络部门现场测试")
    assert view["status"] == "investigating"  # telling of a delay changes no state
    told = _messages(rt)[-1]
    assert told["purpose"] == "customer.delayed"
    assert told["body"].startswith(f"您的投诉（单号{n}）因需协调网络部门现场测试需要更多时间处理")
    assert "预计于2026年12月18日前答复您" in told["body"]
    events = client.get(f"/api/v1/complaints/{n}/events").json()
    delay = events["items"][-1] if "items" in events else events[-1]
    assert delay["type"] == "delay_told"
    assert delay["data"]["expected_on"] == "2026-12-18"
    # The statutory limit is not moved by it: still 2026-12-14 and still running.
    due = [d for d in view["deadlines"] if d["statutory"] and not d.get("met_at")]
    assert due and all(d["due_at"].startswith("2026-12-14") for d in due)


def test_a_delay_needs_a_future_date_and_a_reason_and_changes_nothing_otherwise(
    rt, make_complaint, act
):
    n = make_complaint()["number"]
    act(n, "accept")
    before = len(_messages(rt))
    for params, code in [
        ({"reason": "需要测试"}, "expected_on_required"),
        ({"expected_on": "2026-11-28", "reason": "需要测试"}, "expected_on_not_future"),
        ({"expected_on": "12月18日", "reason": "需要测试"}, "expected_on_invalid"),
        ({"expected_on": "2027-03-01", "reason": "需要测试"}, "expected_on_too_far"),
        ({"expected_on": "2026-12-18"}, "delay_reason_required"),
    ]:
        problem = act(n, "delay", expect=422, **params)
        assert problem["code"] == code and problem["detail"]
    assert len(_messages(rt)) == before
    # Registered but not yet accepted, or already answered: no delay to tell.
    m = make_complaint()["number"]
    assert act(m, "delay", expect=409, expected_on="2026-12-18", reason="测试")["code"]
