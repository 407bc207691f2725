"""KPIs over hand-made data sets, on every configured database.

Each data set is built through the real complaint service at chosen (frozen) times; the
expected figures are counted by hand in the comments.
"""

from __future__ import annotations

from datetime import date

import pytest

from kesu.reports import catalog, kpi_report, overview
from tests.reports.conftest import bj, kpi


def figures(report, kid):
    k = kpi(report, kid)
    return k["numerator"], k["denominator"], k["value"]


def trend(report, kid):
    return [(t["date"], t["value"]) for t in report["trends"][kid]]


def test_ack_within_24_hours(rt, desk):
    # Period 2026-11-02 .. 2026-11-06 (Beijing).
    c1 = desk.register(bj(11, 2, 9))
    desk.act(c1, "accept", bj(11, 2, 12))  # 3 h: in time
    c2 = desk.register(bj(11, 2, 10))
    desk.act(c2, "accept", bj(11, 3, 10))  # exactly 24 h: in time
    c3 = desk.register(bj(11, 3, 10))
    desk.act(c3, "accept", bj(11, 4, 10, 1))  # 24 h 1 min: late
    desk.register(bj(11, 4, 10))  # never accepted: late
    c5 = desk.register(bj(11, 3, 8), kind="consultation")
    desk.act(c5, "convert", bj(11, 5, 9))  # a complaint from now on
    desk.act(c5, "accept", bj(11, 5, 18))  # 9 h after the conversion: in time
    c6 = desk.register(bj(11, 6, 23, 30))  # the last day, late evening
    desk.act(c6, "accept", bj(11, 7, 1))  # in time
    # Not counted: a fault report, an inquiry, an invalid and a merged complaint,
    # one received 1 minute before the period and one after it.
    desk.register(bj(11, 2, 11), kind="fault")
    desk.register(bj(11, 2, 11), kind="inquiry")
    x = desk.register(bj(11, 2, 12))
    desk.act(x, "invalidate", bj(11, 2, 13), reason="not_specific")
    dup = desk.register(bj(11, 2, 14))
    desk.act(dup, "merge", bj(11, 5, 14), into=c1)
    before = desk.register(bj(11, 1, 23, 59))
    desk.act(before, "accept", bj(11, 2, 1))
    desk.register(bj(11, 8, 10))
    desk.done()

    r = kpi_report.kpis(rt, "system", date(2026, 11, 2), date(2026, 11, 6))
    assert figures(r, "ack_24h_rate") == (4, 6, round(4 / 6, 6))
    assert trend(r, "ack_24h_rate") == [
        ("2026-11-02", 1.0),  # c1, c2
        ("2026-11-03", 0.5),  # c3 late, c5 (received that day) in time
        ("2026-11-04", 0.0),
        ("2026-11-05", None),
        ("2026-11-06", 1.0),
    ]
    # The previous period (2026-10-28 .. 11-01) holds the complaint received at 23:59.
    assert r["previous_period"] == {"from": "2026-10-28", "to": "2026-11-01"}
    assert r["previous"]["ack_24h_rate"] == 1.0
    assert kpi(r, "ack_24h_rate")["previous"] == 1.0


def test_ack_not_yet_due_is_left_out(rt, desk):
    # Now: 2026-11-28 10:00. Received 2 hours ago: one accepted, one still waiting.
    a = desk.register(bj(11, 28, 8))
    desk.act(a, "accept", bj(11, 28, 9))
    desk.register(bj(11, 28, 8))
    desk.done()
    r = kpi_report.kpis(rt, "system", date(2026, 11, 28), date(2026, 11, 28))
    assert figures(r, "ack_24h_rate") == (1, 1, 1.0)


def test_reply_on_time(rt, desk):
    # Received Monday 2026-11-02 10:00: reply_15d is due 11-17 24:00; in Henan also
    # henan_reply_5wd, due 11-09 24:00 (five working days: 3, 4, 5, 6, 9 November).
    gd = "广东省"
    r1 = desk.register(bj(11, 2), province=gd)
    desk.act(r1, "accept", bj(11, 2, 11))
    desk.act(r1, "reply", bj(11, 10), resolution="已处理。")  # on time
    r2 = desk.register(bj(11, 2), province="河南省", category="billing")
    desk.act(r2, "accept", bj(11, 2, 11))
    desk.act(r2, "reply", bj(11, 12), resolution="已处理。")  # 5 working days: late; 15 d: on time
    desk.register(bj(11, 2, 11), province=gd, category="billing")  # never answered: breached
    r4 = desk.register(bj(11, 2, 12), province=gd, category="usage")
    desk.act(r4, "merge", bj(11, 3), into=r1)  # met by merging: not counted
    r5 = desk.register(bj(11, 2, 13), province=gd, category="service")
    desk.act(r5, "invalidate", bj(11, 4), reason="not_specific")  # answered: on time
    r6 = desk.register(bj(11, 10), province=gd, category="other")  # due 11-25, never answered
    desk.register(bj(11, 20), province=gd, category="marketing")  # due 12-05: not yet due
    desk.done()

    r = kpi_report.kpis(rt, "system", date(2026, 11, 9), date(2026, 11, 17))
    # r1 15d ✓, r2 5wd ✗, r2 15d ✓, r3 15d ✗, r5 15d ✓
    assert figures(r, "reply_on_time_rate") == (3, 5, 0.6)
    days = dict(trend(r, "reply_on_time_rate"))
    assert days["2026-11-09"] == 0.0  # due at 24:00 of the 9th counts on the 9th
    assert days["2026-11-17"] == 0.75
    assert days["2026-11-10"] is None

    # A period with r6 (due 11-25, breached) and the complaint not yet due (12-05).
    later = kpi_report.kpis(rt, "system", date(2026, 11, 18), date(2026, 12, 10))
    assert figures(later, "reply_on_time_rate") == (0, 1, 0.0)
    assert r6


def _closed_set(desk):
    """Closed complaints for 2026-11-01 .. 11-07; handling hours 10, 20, 30, 40, 100."""
    h1 = desk.register(bj(11, 1, 0))
    desk.close(h1, bj(11, 1, 1), bj(11, 1, 10), "satisfied")  # 10 h, first contact
    h2 = desk.register(bj(11, 2, 0), category="billing")
    desk.act(h2, "transfer", bj(11, 2, 1), team="billing")
    desk.close(h2, bj(11, 2, 2), bj(11, 2, 20), "basically_satisfied")  # 20 h, transferred
    h3 = desk.register(bj(11, 3, 0), category="usage")
    desk.act(h3, "escalate", bj(11, 3, 1))
    desk.close(h3, bj(11, 3, 2), bj(11, 4, 6), "dissatisfied")  # 30 h, escalated
    h4 = desk.register(bj(11, 3, 0), category="service")
    desk.close(h4, bj(11, 3, 1), bj(11, 3, 10), "dissatisfied")
    desk.act(h4, "reopen", bj(11, 3, 12))
    desk.act(h4, "reply", bj(11, 4, 16), resolution="重新核查后已处理。")
    desk.act(h4, "callback", bj(11, 4, 16), result="satisfied")
    desk.act(h4, "close", bj(11, 4, 16))  # 40 h to the last closing, reopened
    h5 = desk.register(bj(11, 1, 0), category="other")
    desk.act(h5, "accept", bj(11, 1, 1))
    desk.act(h5, "reply", bj(11, 4), resolution="已处理。")
    for hour in (1, 2, 3):
        desk.act(h5, "callback", bj(11, 5, hour), result="unreachable")
    desk.act(h5, "close", bj(11, 5, 4))  # 100 h, never reached at callback
    # Not counted: invalid, merged, a consultation, one closed after the period, and one
    # closed in the period then reopened and closed again after it.
    x = desk.register(bj(11, 2, 0), category="marketing")
    desk.act(x, "invalidate", bj(11, 2, 5), reason="not_specific")
    q = desk.register(bj(11, 2, 0), kind="consultation", category="handling")
    desk.act(q, "reply", bj(11, 2, 1), resolution="已解答。")
    desk.act(q, "callback", bj(11, 2, 2), result="satisfied")
    desk.act(q, "close", bj(11, 2, 3))
    late = desk.register(bj(11, 6, 0), category="handling")
    dup = desk.register(bj(11, 6, 1), category="handling", phone="13911113333")
    desk.act(dup, "merge", bj(11, 6, 6), into=late)
    desk.close(late, bj(11, 6, 1), bj(11, 9, 0))
    again = desk.register(bj(11, 5, 0), category="network", phone="13911112222")
    desk.close(again, bj(11, 5, 1), bj(11, 6, 0))
    desk.act(again, "reopen", bj(11, 6, 5))
    desk.act(again, "reply", bj(11, 8, 0), resolution="重新核查后已处理。")
    desk.act(again, "callback", bj(11, 8, 0), result="satisfied")
    desk.act(again, "close", bj(11, 8, 0))
    desk.done()


def test_handling_time_first_contact_and_satisfaction(rt, desk):
    _closed_set(desk)
    r = kpi_report.kpis(rt, "system", date(2026, 11, 1), date(2026, 11, 7))
    assert figures(r, "handling_hours_avg") == (200.0, 5, 40.0)
    assert figures(r, "handling_hours_p90") == (None, 5, 100.0)  # ⌈0.9 × 5⌉ = 5th
    assert figures(r, "first_contact_resolution_rate") == (2, 5, 0.4)  # h1, h5
    # Done callbacks: h1 satisfied, h2 basically, h3 dissatisfied, h4 satisfied (last).
    assert figures(r, "satisfaction_rate") == (3, 4, 0.75)
    assert dict(trend(r, "handling_hours_avg")) == {
        "2026-11-01": 10.0,
        "2026-11-02": 20.0,
        "2026-11-03": None,
        "2026-11-04": 35.0,
        "2026-11-05": 100.0,
        "2026-11-06": None,
        "2026-11-07": None,
    }

    s = overview.series(rt, "system", date(2026, 11, 1), date(2026, 11, 7))
    assert s["satisfaction"] == {
        "satisfied": 2,
        "basically_satisfied": 1,
        "dissatisfied": 1,
        "unreachable": 1,
    }


def test_repeat_complaints(rt, desk):
    a, b, c, d, e = (f"1380000{i:04d}" for i in range(1, 6))
    desk.register(bj(10, 10), phone=a)
    desk.register(bj(11, 5), phone=a)  # 26 days after a network complaint: repeat
    desk.register(bj(11, 6), phone=a, category="billing")  # another category: not
    desk.register(bj(9, 20), phone=b)
    desk.register(bj(11, 2), phone=b)  # 43 days later: not
    desk.register(bj(11, 3, 10), phone=c)
    desk.register(bj(11, 3, 12), phone=c)  # 2 hours later: repeat
    x = desk.register(bj(10, 30), phone=d)
    desk.act(x, "invalidate", bj(10, 30, 11), reason="not_specific")
    desk.register(bj(11, 4), phone=d)  # the earlier one was invalid: not
    desk.register(bj(10, 31), phone=e, kind="consultation")
    desk.register(bj(11, 2, 9), phone=e)  # the earlier one was a consultation: not
    desk.done()
    r = kpi_report.kpis(rt, "system", date(2026, 11, 1), date(2026, 11, 7))
    assert figures(r, "repeat_rate") == (2, 7, round(2 / 7, 6))
    assert dict(trend(r, "repeat_rate"))["2026-11-03"] == 0.5


def test_escalation(rt, desk):
    desk.register(bj(11, 2), kind="appeal", channel="regulator")  # an appeal
    desk.register(bj(11, 2), channel="weibo", category="billing")  # group-level channel
    e3 = desk.register(bj(11, 3), category="usage")
    desk.act(e3, "escalate", bj(11, 3, 12))  # escalated
    e4 = desk.register(bj(11, 3), category="service")
    desk.act(e4, "transfer", bj(11, 3, 12), team="billing")  # transferred is not escalated
    desk.register(bj(11, 4), category="other")
    desk.register(bj(11, 4), kind="consultation", channel="weibo")  # not a complaint
    x = desk.register(bj(11, 4), kind="appeal", channel="regulator", category="billing")
    desk.act(x, "invalidate", bj(11, 4, 12), reason="not_specific")  # invalid: left out
    desk.done()
    r = kpi_report.kpis(rt, "system", date(2026, 11, 1), date(2026, 11, 7))
    assert figures(r, "escalation_rate") == (3, 5, 0.6)


SUBSCRIBERS = """
provinces:
  河南:
    months: {"2026-10": 100000, "2026-11": 200000}
    cities:
      郑州市: {subscribers: 50000}
  广东省: {subscribers: 50000}
"""


@pytest.fixture
def subscriber_file(tmp_path, monkeypatch):
    path = tmp_path / "subscribers.yaml"
    path.write_text(SUBSCRIBERS, encoding="utf-8")
    monkeypatch.setenv(catalog.SUBSCRIBERS_ENV, str(path))
    return path


def test_complaints_per_10k_by_region(rt, desk, subscriber_file):
    # Period 2026-10-25 .. 11-05: 7 days of October, 5 of November.
    for when, city in ((bj(10, 26), "郑州市"), (bj(11, 2), "郑州市"), (bj(11, 3), "洛阳市")):
        desk.register(when, province="河南省", city=city, category="billing")
    for when in (bj(10, 27), bj(11, 4)):
        desk.register(when, province="广东省", category="usage")
    desk.register(bj(11, 1), province="四川省")  # no subscriber base configured
    desk.register(bj(11, 1), category="service")  # no province recorded
    desk.register(bj(11, 1), province="广东省", kind="inquiry")  # not a complaint
    desk.done()

    r = kpi_report.kpis(rt, "system", date(2026, 10, 25), date(2026, 11, 5))
    henan_base = (7 * 100000 + 5 * 200000) / 12
    rows = {(x["province"], x["city"]): x for x in r["by_region"]}
    henan = rows[("河南省", None)]
    assert (henan["complaints"], henan["subscribers"]) == (3, round(henan_base))
    assert henan["per_10k"] == round(3 / henan_base * 10000, 4)
    assert rows[("广东省", None)]["per_10k"] == 0.4
    sichuan = rows[("四川省", None)]
    assert (sichuan["complaints"], sichuan["subscribers"], sichuan["per_10k"]) == (1, None, None)
    assert "未配置" in sichuan["note"]
    assert rows[(None, None)]["complaints"] == 1 and "省份" in rows[(None, None)]["note"]
    num, den, value = figures(r, "complaints_per_10k")
    assert (num, den) == (5, round(henan_base + 50000, 2))
    assert value == round(5 / (henan_base + 50000) * 10000, 4)
    assert [x["province"] for x in r["by_region"]][:2] == ["广东省", "河南省"]  # by rate

    # One province: its figures, then its cities.
    h = kpi_report.kpis(rt, "system", date(2026, 10, 25), date(2026, 11, 5), region="河南")
    assert h["region"] == "河南省"
    assert figures(h, "complaints_per_10k")[:2] == (3, round(henan_base, 2))
    assert figures(h, "escalation_rate")[1] == 3  # every KPI is limited to the province
    cities = [(x["city"], x["complaints"], x["per_10k"]) for x in h["by_region"]]
    assert cities[0] == (None, 3, round(3 / henan_base * 10000, 4))
    assert (("郑州市", 2, 0.4) in cities) and (("洛阳市", 1, None) in cities)


def test_per_10k_month_without_figure(rt, desk, tmp_path, monkeypatch):
    path = tmp_path / "s.yaml"
    path.write_text('provinces:\n  河南省: {months: {"2026-11": 200000}}\n', encoding="utf-8")
    monkeypatch.setenv(catalog.SUBSCRIBERS_ENV, str(path))
    desk.register(bj(10, 30), province="河南省")
    desk.register(bj(11, 2), province="河南省", category="billing")
    desk.done()
    r = kpi_report.kpis(rt, "system", date(2026, 10, 25), date(2026, 11, 5))
    [row] = r["by_region"]
    # October has no figure: the November base stands for the period.
    assert (row["complaints"], row["subscribers"], row["per_10k"]) == (2, 200000, 0.1)
    assert "2026-10" in row["note"]


def test_broken_subscriber_file_is_a_clear_error(rt, tmp_path, monkeypatch):
    path = tmp_path / "s.yaml"
    path.write_text("provinces:\n  火星省: {subscribers: 10}\n", encoding="utf-8")
    monkeypatch.setenv(catalog.SUBSCRIBERS_ENV, str(path))
    from kesu.problems import Problem

    with pytest.raises(Problem) as err:
        kpi_report.kpis(rt, "system", date(2026, 11, 1), date(2026, 11, 5))
    assert err.value.code == "subscribers_invalid" and "火星省" in err.value.detail


def test_weekly_trend_for_a_long_period(rt, desk):
    desk.register(bj(9, 1))  # a Tuesday
    desk.register(bj(9, 7))  # the next Monday
    desk.done()
    r = kpi_report.kpis(rt, "system", date(2026, 9, 1), date(2026, 11, 10))  # 71 days
    assert r["trend_unit"] == "week"
    weeks = r["trends"]["escalation_rate"]
    assert (weeks[0]["date"], weeks[0]["to"], weeks[0]["denominator"]) == (
        "2026-09-01",
        "2026-09-06",
        1,
    )
    assert (weeks[1]["date"], weeks[1]["to"], weeks[1]["denominator"]) == (
        "2026-09-07",
        "2026-09-13",
        1,
    )
    assert weeks[-1]["date"] == "2026-11-09" and weeks[-1]["to"] == "2026-11-10"
    assert len(weeks) == 11


def test_every_kpi_has_its_definition_and_nothing_personal(rt, desk):
    desk.register(bj(11, 2), province="河南省")
    desk.done()
    r = kpi_report.kpis(rt, "system", date(2026, 11, 1), date(2026, 11, 7))
    assert [k["id"] for k in r["kpis"]] == list(catalog.definitions())
    for k in r["kpis"]:
        assert k["name"] and k["en"] and k["definition"] and k["source"]
        assert set(r["trends"][k["id"]][0]) >= {"date", "value"}
        assert k["id"] in r["previous"]
    text = str(r)
    assert "13900000001" not in text and "****" not in text
