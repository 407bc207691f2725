"""The supervisor dashboard's aggregates: overview, series, about to breach, approvals."""

from __future__ import annotations

from datetime import date

from kesu.reports import kpi_report, overview, queues
from tests.reports.conftest import bj, reseller, with_reports

# The tests' now: Saturday 2026-11-28 10:00 Beijing.


def test_overview(rt, desk):
    desk.register(bj(11, 28, 8))  # today; ack due tomorrow 08:00: about to breach
    desk.register(bj(11, 28, 9), kind="inquiry")  # today; inquiries have no deadline
    old = desk.register(bj(11, 25, 9))  # ack due 11-26 09:00: breached
    closed = desk.register(bj(11, 27, 9), category="billing")
    desk.close(closed, bj(11, 27, 10), bj(11, 27, 12))
    desk.register(bj(11, 27, 23, 59), category="usage")  # yesterday; ack due in 13:59 h
    desk.done()
    o = overview.overview(rt, "system")
    assert o["intake_today"] == 2
    assert o["open"] == 4
    assert o["about_to_breach"] == 2
    assert o["breached"] == 1
    assert o["today"] == "2026-11-28"
    assert old


def test_about_to_breach_lists_the_soonest_first_without_personal_data(rt, desk):
    a = desk.register(bj(11, 28, 8), province="广东省")  # ack due 11-29 08:00
    b = desk.register(bj(11, 25, 9), category="billing")  # ack due 11-26 09:00: overdue
    c = desk.register(bj(11, 27, 23, 59), category="usage")  # ack due 11-28 23:59
    desk.register(bj(11, 28, 9), kind="fault", category="usage")  # repair due 11-30 09:00
    desk.done()
    items = queues.about_to_breach(rt, "system")
    assert [i["number"] for i in items] == [b, c, a]
    first = items[0]
    assert first["overdue"] is True and items[1]["overdue"] is False
    assert first["rule"] == "ack_24h" and first["rule_name"] == "投诉受理告知"
    assert first["status_name"] == "已登记" and first["category_name"] == "资费计费"
    assert first["next_due_at"] == "2026-11-26T09:00:00+08:00"
    assert first["hours_left"] == -49.0
    assert "customer" not in first and "1390000" not in str(items)
    assert [i["number"] for i in queues.about_to_breach(rt, "system", hours=72)][-1] != a
    assert len(queues.about_to_breach(rt, "system", limit=2)) == 2


def test_approvals_waiting_with_their_reason(rt, desk):
    def proposed(when, compensation=None, flags=(), category="billing"):
        n = desk.register(when, category=category, risk_flags=list(flags))
        desk.act(n, "accept", when)
        desk.act(n, "investigate", when)
        params = {"resolution": "退还多收费用。"}
        if compensation is not None:
            params["compensation"] = compensation
        desk.act(n, "propose", when, **params)
        return n

    big = proposed(bj(11, 20), compensation="200")
    media = proposed(bj(11, 18), flags=["media"], category="service")
    proposed(bj(11, 19), compensation="50", category="usage")  # below the threshold
    done = proposed(bj(11, 17), compensation="300", category="other")
    desk.act(done, "approve", bj(11, 17, 12))  # approved: no longer waiting
    desk.done()
    items = queues.approvals(rt, "system")
    assert [i["number"] for i in items] == [media, big]  # by next deadline
    assert items[0]["reason"] == "风险标记须审批：媒体曝光风险"
    assert items[1]["reason"] == "赔偿金额 200.00 元超过审批阈值 100.00 元"
    assert items[1]["compensation"] == "200.00" and items[1]["status"] == "proposed"


def test_series(rt, desk):
    a = desk.register(bj(11, 2, 9), category="billing", channel="app")
    desk.act(a, "accept", bj(11, 2, 10))  # ack met on time (due 11-03 09:00)
    b = desk.register(bj(11, 2, 11), category="billing")
    desk.act(b, "accept", bj(11, 3, 12))  # ack met late (due 11-03 11:00)
    desk.register(bj(11, 3, 9), category="network")  # ack breached (due 11-04 09:00)
    desk.register(bj(11, 3, 10), kind="consultation", category="network")  # answer due 11-05
    c = desk.register(bj(11, 1, 9), category="usage")
    desk.act(c, "accept", bj(11, 1, 10))
    desk.act(c, "reply", bj(11, 2, 9), resolution="已处理。", root_cause="system_fault")
    desk.act(c, "callback", bj(11, 2, 10), result="satisfied")
    desk.act(c, "close", bj(11, 2, 11), root_cause=None)  # the reply's cause kept
    desk.done()
    s = overview.series(rt, "system", date(2026, 11, 1), date(2026, 11, 3))
    assert s["days"] == ["2026-11-01", "2026-11-02", "2026-11-03"]
    assert s["by_category"]["billing"] == [0, 2, 0]
    assert s["by_category"]["network"] == [0, 0, 2]
    assert s["by_category"]["usage"] == [1, 0, 0]
    assert s["by_channel"]["app"] == [0, 1, 0] and s["by_channel"]["hotline"] == [1, 1, 2]
    assert s["by_kind"]["consultation"] == [0, 0, 1]
    # c's ack is due 11-02 09:00 (met on time), a's and b's 11-03.
    assert s["deadlines"]["met_on_time"] == [0, 1, 1]
    assert s["deadlines"]["met_late"] == [0, 0, 1]
    assert s["deadlines"]["breached"] == [0, 0, 0]  # the unaccepted one is due 11-04
    assert s["satisfaction"]["satisfied"] == 1
    assert s["root_causes"] == [{"code": "system_fault", "name": "系统故障", "count": 1}]
    assert s["names"]["categories"]["billing"] == "资费计费"
    assert s["names"]["channels"]["app"] == "掌上营业厅（App）"
    assert s["names"]["deadlines"]["met_late"] == "超时完成"
    # The next days: that ack, and the consultation's answer (due 11-05 10:00), both missed.
    s = overview.series(rt, "system", date(2026, 11, 4), date(2026, 11, 5))
    assert s["deadlines"]["breached"] == [1, 1]


def test_a_reseller_counts_only_its_own(rt, desk):
    ours = reseller("代理商甲")
    for day in (2, 3):
        desk.register(bj(11, day), actor=ours, channel="store", category="billing")
    desk.register(bj(11, 3), actor=reseller("代理商乙"), channel="store", category="usage")
    for day in (2, 3, 4):
        desk.register(bj(11, day), channel="weibo", category="service")
    desk.register(bj(11, 28, 8), actor=ours, channel="store", category="marketing")
    desk.done()
    p = with_reports(ours)
    mine = kpi_report.kpis(rt, p, date(2026, 11, 1), date(2026, 11, 7))
    everyone = kpi_report.kpis(rt, "system", date(2026, 11, 1), date(2026, 11, 7))
    esc = {k["id"]: k for k in mine["kpis"]}["escalation_rate"]
    assert (esc["numerator"], esc["denominator"]) == (0, 2)
    esc = {k["id"]: k for k in everyone["kpis"]}["escalation_rate"]
    assert (esc["numerator"], esc["denominator"]) == (3, 6)
    assert sum(r["complaints"] for r in mine["by_region"]) == 2
    o = overview.overview(rt, p)
    assert (o["intake_today"], o["open"]) == (1, 3)
    assert len(queues.about_to_breach(rt, p, hours=24 * 60)) == 3
    s = overview.series(rt, p, date(2026, 11, 1), date(2026, 11, 7))
    assert sum(s["by_category"]["billing"]) == 2 and sum(s["by_category"]["service"]) == 0
