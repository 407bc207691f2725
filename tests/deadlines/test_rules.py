from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kesu.clock import BEIJING
from kesu.complaints import vocabulary as vocab
from kesu.data_files import load_yaml
from kesu.deadlines.calendar import WorkCalendar
from kesu.deadlines.rules import RuleError, compute_due, parse_rules, select
from kesu.law.loader import article_text
from kesu.runtime import load_rules

RULES = load_rules()
CAL = WorkCalendar()


def bj(*args):
    return datetime(*args, tzinfo=BEIJING)


def due(rule_id, start):
    return compute_due(RULES[rule_id], start, CAL)


def test_required_rules_exist_with_their_units():
    expected = {
        "ack_24h": (24, "hours"),
        "reply_15d": (15, "calendar_days"),
        "repair_urban_48h": (48, "hours"),
        "repair_rural_72h": (72, "hours"),
        "appeal_accept_5wd": (5, "working_days"),
        "appeal_reply_30d": (30, "calendar_days"),
        "henan_reply_5wd": (5, "working_days"),
        "chongqing_reply_15wd": (15, "working_days"),
    }
    for rid, (length, unit) in expected.items():
        assert (RULES[rid].length, RULES[rid].unit) == (length, unit)


def test_ack_is_operator_policy_and_statutory_rules_cite_held_articles():
    assert not RULES["ack_24h"].statutory
    assert all(b.policy and b.article is None for b in RULES["ack_24h"].basis)
    for rule in RULES.values():
        for b in rule.basis:
            if b.policy:
                continue
            assert b.verified, rule.id
            assert b.quote in article_text(b.file, b.article)
    assert RULES["reply_15d"].basis[0].citation == "《电信用户申诉处理办法》第十条第（四）项"
    assert RULES["repair_urban_48h"].basis[0].citation == "《中华人民共和国电信条例》第三十二条"
    assert RULES["appeal_reply_30d"].basis[0].article == "第三十九条"
    assert "免收障碍期间的月租费用" in RULES["repair_rural_72h"].remedy


def test_a_citation_of_an_article_we_do_not_hold_cannot_load():
    data = load_yaml("deadline_rules.yaml")
    bad = {
        "rules": [
            dict(
                data["rules"][1],
                basis=[
                    {
                        "regulation": "电信服务规范",
                        "article": "第十四条",
                        "file": "dianxin-fuwu-guifan-2005-excerpt.md",
                        "quote": "十五日内答复用户",
                    }
                ],
            )
        ]
    }
    with pytest.raises(RuleError, match="not held"):
        parse_rules(bad, article_text, vocab.KINDS)
    wrong_quote = {
        "rules": [
            dict(data["rules"][1], basis=[dict(data["rules"][1]["basis"][0], quote="10日内答复")])
        ]
    }
    with pytest.raises(RuleError, match="quote"):
        parse_rules(wrong_quote, article_text, vocab.KINDS)


def test_the_check_from_the_issue():
    d = due("henan_reply_5wd", bj(2026, 9, 30, 16, 0))
    assert d.due_at.astimezone(BEIJING).date().isoformat() == "2026-10-13"
    assert d.due_at.astimezone(BEIJING).hour == 23
    assert not d.estimated


def test_hours_run_from_the_moment():
    start = bj(2026, 10, 1, 9, 30)  # a holiday does not matter for hours
    assert due("repair_urban_48h", start).due_at == start + timedelta(hours=48)
    assert due("repair_rural_72h", start).due_at == start + timedelta(hours=72)
    assert due("ack_24h", start).due_at == start + timedelta(hours=24)


def test_days_start_the_next_day_and_end_at_24_00():
    d = due("reply_15d", bj(2026, 11, 2, 8, 0)).due_at.astimezone(BEIJING)
    assert (d.date().isoformat(), d.hour, d.minute) == ("2026-11-17", 23, 59)


def test_last_day_on_a_rest_day_moves_to_the_next_working_day():
    # 2026-09-16 + 15 days = 10-01, National Day: ends 10-08 (first working day after).
    d = due("reply_15d", bj(2026, 9, 16, 10, 0)).due_at.astimezone(BEIJING)
    assert d.date().isoformat() == "2026-10-08"
    # 2026-11-06 + 15 = 11-21, a Saturday: ends Monday 11-23.
    d = due("reply_15d", bj(2026, 11, 6, 10, 0)).due_at.astimezone(BEIJING)
    assert d.date().isoformat() == "2026-11-23"


def test_last_day_on_a_make_up_working_day_is_not_moved():
    # 2026-09-25 + 15 = 10-10, a Saturday worked in exchange for the holiday.
    d = due("reply_15d", bj(2026, 9, 25, 10, 0)).due_at.astimezone(BEIJING)
    assert d.date().isoformat() == "2026-10-10"


def test_the_beijing_date_decides_the_count():
    # 2026-11-01 20:00 UTC is already 11-02 04:00 in Beijing.
    late_utc = datetime(2026, 11, 1, 20, 0, tzinfo=UTC)
    d = due("reply_15d", late_utc).due_at.astimezone(BEIJING)
    assert d.date().isoformat() == "2026-11-17"
    same_moment_other_offset = late_utc.astimezone(BEIJING).replace(tzinfo=BEIJING)
    assert due("reply_15d", same_moment_other_offset).due_at == due("reply_15d", late_utc).due_at


def test_deadlines_in_an_unpublished_year_are_estimated():
    assert due("reply_15d", bj(2026, 12, 25, 10, 0)).estimated
    assert due("appeal_accept_5wd", bj(2026, 12, 28, 10, 0)).estimated
    assert not due("ack_24h", bj(2026, 12, 31, 10, 0)).estimated
    assert not due("reply_15d", bj(2026, 12, 1, 10, 0)).estimated


def test_rules_are_selected_by_kind_province_and_area():
    def ids(**facts):
        base = {"kind": "complaint", "area": "urban", "province": None, "priority": "normal"}
        return {r.id for r in select(RULES, {**base, **facts}, "received")}

    assert ids() == {"ack_24h", "reply_15d"}
    assert ids(province="河南省") == {"ack_24h", "reply_15d", "henan_reply_5wd"}
    assert ids(province="重庆市") == {"ack_24h", "reply_15d", "chongqing_reply_15wd"}
    assert ids(kind="fault") == {"repair_urban_48h"}
    assert ids(kind="fault", area="rural") == {"repair_rural_72h"}
    assert ids(kind="appeal") == {"appeal_accept_5wd", "appeal_reply_30d"}
    assert ids(priority="urgent") == {"ack_24h", "reply_15d", "sla_urgent_reply_2wd"}
    assert ids(kind="inquiry") == set()


instants = st.datetimes(
    min_value=datetime(2001, 1, 1),
    max_value=datetime(2035, 12, 1),
    timezones=st.sampled_from([UTC, BEIJING, __import__("zoneinfo").ZoneInfo("America/New_York")]),
)


@settings(max_examples=300, deadline=None)
@given(start=instants, rule_id=st.sampled_from(sorted(RULES)))
def test_a_deadline_is_never_before_its_start(start, rule_id):
    d = compute_due(RULES[rule_id], start, CAL)
    assert d.due_at > start
    rule = RULES[rule_id]
    if rule.unit != "hours":
        last = d.due_at.astimezone(BEIJING).date()
        assert CAL.is_working_day(last)
        assert last > start.astimezone(BEIJING).date()


@settings(max_examples=200, deadline=None)
@given(start=instants)
def test_the_count_depends_only_on_the_beijing_date(start):
    bj_day = start.astimezone(BEIJING).date()
    morning = datetime.combine(bj_day, datetime.min.time(), tzinfo=BEIJING)
    for rid in ("reply_15d", "henan_reply_5wd", "appeal_accept_5wd"):
        assert (
            compute_due(RULES[rid], start, CAL).due_at
            == compute_due(RULES[rid], morning, CAL).due_at
        )
