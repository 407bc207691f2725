"""The pure core of the reports: definitions, arithmetic, periods, the subscriber base."""

from __future__ import annotations

import copy
from datetime import date

import pytest

from kesu.complaints import vocabulary as vocab
from kesu.data_files import load_yaml
from kesu.law.loader import article_text
from kesu.reports import arithmetic, catalog, definitions, periods, registry, subscribers
from kesu.runtime import load_rules

# ---- arithmetic ---------------------------------------------------------------


def test_percentile_is_the_nearest_rank():
    assert arithmetic.percentile([5, 1, 4, 2, 3, 10, 9, 8, 7, 6], 90) == 9  # ⌈0.9 × 10⌉ = 9th
    assert arithmetic.percentile([10, 20, 30, 40, 100], 90) == 100  # ⌈4.5⌉ = 5th
    assert arithmetic.percentile([3.333333], 90) == 3.33
    assert arithmetic.percentile([1, 2, 3, 4], 50) == 2
    assert arithmetic.percentile([1, 2, 3, 4], 100) == 4
    assert arithmetic.percentile([], 90) is None
    with pytest.raises(ValueError):
        arithmetic.percentile([1], 0)


def test_rates_and_means_with_nothing_to_divide():
    assert arithmetic.ratio(3, 4) == 0.75
    assert arithmetic.ratio(1, 3) == 0.333333
    assert arithmetic.ratio(0, 0) is None and arithmetic.ratio(5, 0) is None
    assert arithmetic.mean([10, 20, 30, 40, 100]) == 40.0
    assert arithmetic.mean([]) is None
    assert arithmetic.per_10k(3, 20000) == 1.5
    assert arithmetic.per_10k(3, None) is None and arithmetic.per_10k(0, 0) is None


def test_kpi_value_in_its_unit():
    defs = catalog.definitions()
    assert defs["ack_24h_rate"].value(3, 4) == 0.75
    assert defs["ack_24h_rate"].value(0, 0) is None
    assert defs["complaints_per_10k"].value(5, 20000) == 2.5
    result = defs["ack_24h_rate"].result(3, 4, 0.75, previous=0.5)
    assert result["unit"] == "rate" and result["previous"] == 0.5
    assert result["source"].startswith("运营商内部考核口径")


# ---- periods ------------------------------------------------------------------


def test_periods():
    assert periods.previous_period(date(2026, 11, 1), date(2026, 11, 30)) == (
        date(2026, 10, 2),
        date(2026, 10, 31),
    )
    periods.check_period(date(2026, 1, 1), date(2026, 12, 31))  # 365 days
    periods.check_period(date(2024, 1, 1), date(2024, 12, 31))  # 366 days
    with pytest.raises(periods.PeriodError) as err:
        periods.check_period(date(2026, 1, 1), date(2027, 1, 2))  # 367 days
    assert err.value.code == "period_too_long"
    with pytest.raises(periods.PeriodError) as err:
        periods.check_period(date(2026, 2, 1), date(2026, 1, 31))
    assert err.value.code == "invalid_period"


def test_daily_buckets_up_to_62_days_then_weeks_from_monday():
    days = periods.buckets(date(2026, 11, 1), date(2026, 12, 2))  # 32 days
    assert len(days) == 32 and days[0] == periods.Bucket(date(2026, 11, 1), date(2026, 11, 1))
    assert periods.trend_unit(date(2026, 1, 1), date(2026, 3, 3)) == "day"  # 62 days
    weeks = periods.buckets(date(2026, 1, 1), date(2026, 3, 4))  # 63 days, a Thursday
    assert weeks[0] == periods.Bucket(date(2026, 1, 1), date(2026, 1, 4))  # to Sunday
    assert weeks[1] == periods.Bucket(date(2026, 1, 5), date(2026, 1, 11))
    assert weeks[-1] == periods.Bucket(date(2026, 3, 2), date(2026, 3, 4))
    assert sum((b.end - b.start).days + 1 for b in weeks) == 63


def test_rate_trend_sums_days_into_buckets():
    kpi = catalog.definitions()["repeat_rate"]
    per_day = {date(2026, 1, 5): (1, 2), date(2026, 1, 6): (1, 2), date(2026, 1, 12): (0, 1)}
    bs = periods.buckets(date(2025, 11, 3), date(2026, 1, 14))
    points = {p["date"]: p for p in arithmetic.rate_trend(kpi, per_day, bs)}
    assert points["2026-01-05"]["value"] == 0.5
    assert (points["2026-01-05"]["numerator"], points["2026-01-05"]["denominator"]) == (2, 4)
    assert points["2026-01-12"]["value"] == 0.0
    assert points["2025-11-03"]["value"] is None


def test_month_days_and_spans():
    assert periods.month_days(date(2026, 11, 20), date(2027, 1, 3)) == {
        "2026-11": 11,
        "2026-12": 31,
        "2027-01": 3,
    }
    assert periods.max_span_days([("hours", 24)]) == 2
    assert periods.max_span_days([("calendar_days", 30), ("working_days", 5)]) == 41
    spans = periods.max_span_days((r.unit, r.length) for r in load_rules().values())
    assert spans >= 31 + periods.HOLIDAY_SLACK_DAYS


# ---- subscriber base --------------------------------------------------------------


def subs(data):
    return subscribers.parse_subscribers(data, vocab.normalize_province)


def test_subscriber_base_is_weighted_by_days_of_each_month():
    s = subs({"provinces": {"河南": {"months": {"2026-11": 100000, "2026-12": 130000}}}})
    base, missing = s.average("河南省", None, date(2026, 11, 20), date(2026, 12, 10))
    assert base == pytest.approx((11 * 100000 + 10 * 130000) / 21)
    assert missing == []
    # A month without a figure takes no part; with a default, the default stands in.
    base, missing = s.average("河南省", None, date(2026, 10, 30), date(2026, 11, 2))
    assert (base, missing) == (100000, ["2026-10"])
    s = subs({"provinces": {"henan": {"subscribers": 90000, "months": {"2026-11": 100000}}}})
    base, missing = s.average("河南省", None, date(2026, 10, 30), date(2026, 11, 2))
    assert base == (2 * 90000 + 2 * 100000) / 4 and missing == []
    assert s.average("广东省", None, date(2026, 11, 1), date(2026, 11, 2)) == (None, [])
    assert s.average(None, None, date(2026, 11, 1), date(2026, 11, 2)) == (None, [])


def test_cities_and_provinces_without_their_own_figure():
    s = subs({"provinces": {"410000": {"cities": {"郑州市": {"subscribers": 5000}}}}})
    assert s.average("河南省", "郑州市", date(2026, 11, 1), date(2026, 11, 2)) == (5000, [])
    assert s.average("河南省", None, date(2026, 11, 1), date(2026, 11, 2)) == (None, [])
    assert s.average("河南省", "洛阳市", date(2026, 11, 1), date(2026, 11, 2)) == (None, [])


@pytest.mark.parametrize(
    "data, message",
    [
        ({"provinces": {"火星": {"subscribers": 1}}}, "unknown province"),
        ({"provinces": {"河南": {"subscribers": -5}}}, "positive whole number"),
        ({"provinces": {"河南": {"subscribers": 1.5}}}, "positive whole number"),
        ({"provinces": {"河南": {"months": {"2026-13": 1}}}}, "not YYYY-MM"),
        ({"provinces": {"河南": {"months": {"202611": 1}}}}, "not YYYY-MM"),
        ({"provinces": {"河南": {}}}, "give subscribers"),
        ({"provinces": {"河南": {"subscriber": 1}}}, "give subscribers"),
        ({"provinces": {"河南": {"subscribers": 1, "users": 1}}}, "unknown fields"),
        ({"provinces": {"河南": {"subscribers": 1}, "河南省": {"subscribers": 2}}}, "twice"),
        ({"provinces": {"河南": {"cities": {"郑州市": {"cities": {}}}}}}, "unknown fields"),
        ({"regions": {}}, "provinces"),
    ],
)
def test_a_wrong_subscriber_file_is_refused(data, message):
    with pytest.raises(definitions.DefinitionError, match=message):
        subs(data)


def test_the_shipped_subscriber_file_covers_the_demo_provinces():
    from kesu.demo.plans import PROVINCES

    s = catalog.subscribers()
    for province, _cities, _weight in PROVINCES:
        base, _ = s.average(province, None, date(2026, 11, 1), date(2026, 11, 30))
        assert base, province


# ---- definitions ------------------------------------------------------------------


def shipped():
    return copy.deepcopy(load_yaml("reports/kpis.yaml"))


def parse(data):
    return definitions.parse_definitions(
        data, article_text, catalog.vocabulary(), registry.needed_params()
    )


def test_the_shipped_definitions_load_with_their_citations_checked():
    defs = parse(shipped())
    assert list(defs) == [raw["id"] for raw in shipped()["kpis"]]
    assert set(defs) == set(registry.registered())
    reply = defs["reply_on_time_rate"]
    assert {c.citation for c in reply.source.basis} >= {
        "《河南省电信条例》第三十八条",
        "《重庆市电信条例》第二十条第二款",
    }
    assert all(c.quote for c in reply.source.basis)


def test_ack_kpi_counts_the_kinds_the_ack_rule_applies_to():
    defs = catalog.definitions()
    assert defs["ack_24h_rate"].population.kinds == load_rules()["ack_24h"].kinds


def test_reply_kpi_cites_every_article_of_the_rules_it_measures():
    rules = load_rules()
    reply = catalog.definitions()["reply_on_time_rate"]
    cited = {(c.regulation, c.article) for c in reply.source.basis}
    for rid in reply.population.rules:
        rule = rules[rid]
        assert rule.statutory, rid
        for b in rule.basis:
            assert (b.regulation, b.article) in cited, (rid, b.citation)


def test_a_citation_we_do_not_hold_cannot_load():
    data = shipped()
    data["kpis"][1]["source"]["basis"][0]["quote"] = "用户有权在十日内获得答复"
    with pytest.raises(definitions.DefinitionError, match="quote is not in"):
        parse(data)
    data = shipped()
    data["kpis"][1]["source"]["basis"][0]["article"] = "第九十九条"
    with pytest.raises(definitions.DefinitionError, match="not held"):
        parse(data)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d["kpis"].pop(), "without a definition"),
        (lambda d: d["kpis"].append(dict(d["kpis"][0])), "duplicate"),
        (lambda d: d["kpis"][0].update(id="nps"), "unknown KPI id"),
        (lambda d: d["kpis"][0].update(unit="percent"), "unit"),
        (lambda d: d["kpis"][0]["population"].update(kinds=["grievance"]), "unknown codes"),
        (lambda d: d["kpis"][0]["population"].update(time="created_at"), "population.time"),
        (lambda d: d["kpis"][1]["population"].update(rules=["reply_99d"]), "unknown codes"),
        (lambda d: d["kpis"][0]["params"].pop("within_hours"), "params"),
        (lambda d: d["kpis"][3]["params"].update(percentile=0), "percentile"),
        (lambda d: d["kpis"][0].update(definition=" "), "definition"),
        (lambda d: d["kpis"][0]["source"].update(policy=False), "operator policy"),
    ],
)
def test_a_wrong_definition_is_refused(change, message):
    data = shipped()
    change(data)
    with pytest.raises(definitions.DefinitionError, match=message):
        parse(data)
