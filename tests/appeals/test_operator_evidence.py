"""第十条（四） weighed with the connected operator's own complaint record
(appeals.operator_evidence): what the record confirms, what it contradicts, and what the
officer must then verify (declared.complaint_verified)."""

from __future__ import annotations

from datetime import date

import pytest

from kesu.appeals import conditions, operator_evidence
from tests.appeals.test_conditions import BASE, TODAY, appeal, item


def record(*complaints):
    return operator_evidence.parse(
        {"since": "2024-06-01", "complaints": list(complaints)}, "2026-06-21T02:00:00+00:00", "cm"
    )


def c(number, received, answered=None, status="closed"):
    return {
        "number": number,
        "kind": "complaint",
        "category": "billing",
        "status": status,
        "received_on": received,
        "answered_on": answered,
        "closed_on": answered,
    }


def test_a_record_that_agrees_is_named_and_the_item_stays_met():
    got = item(
        "10-4", appeal(operator_record=record(c("TS202606010001", "2026-06-02", "2026-06-05")))
    )
    assert got["met"] is True
    assert (
        "被申诉企业的记录相符：TS202606010001（2026年6月2日受理，2026年6月5日答复）"
        in got["evidence"]
    )
    assert "查询于2026-06-21" in got["evidence"]
    assert got["operator_record"] == ["TS202606010001"]


def test_an_answer_in_the_record_meets_the_item_the_appellants_dates_left_premature():
    # The appellant says no answer yet and appealed within 15 days: premature on their word;
    # the operator's record shows it answered before the appeal: an appeal against an answer.
    premature = appeal(
        complained_at=date(2026, 6, 12), operator_answered_at=None, received_at=date(2026, 6, 20)
    )
    assert item("10-4", premature)["met"] is False
    got = item(
        "10-4",
        {**premature, "operator_record": record(c("TS1", "2026-06-12", "2026-06-16"))},
    )
    assert got["met"] is True
    assert "被申诉人于2026年6月16日答复，申诉人对处理结果不满意" in got["evidence"]


def test_no_complaint_near_the_stated_date_leaves_the_item_to_the_officer():
    a = appeal(operator_record=record(c("TS9", "2026-03-01", "2026-03-03")))
    got = item("10-4", a)
    assert got["met"] is None and got["decides"] == "officer"
    assert "没有该号码在2026年6月1日前后7日内的投诉" in got["evidence"]
    assert "TS9（2026年3月1日受理" in got["evidence"]
    verdict = conditions.verdict(conditions.check(a, TODAY))
    assert verdict["acceptable"] is None  # cannot be accepted until verified
    # The officer verified the complaint by other means: the dates decide again.
    ok = appeal(
        operator_record=a["operator_record"],
        declared={**BASE["declared"], "complaint_verified": True},
    )
    got = item("10-4", ok)
    assert got["met"] is True and "受理人员已核实申诉人确曾投诉" in got["evidence"]
    # Or found the appellant never complained: 第十三条, told to complain first.
    no = appeal(
        operator_record=a["operator_record"],
        declared={**BASE["declared"], "complaint_verified": False},
    )
    got = item("10-4", no)
    assert got["met"] is False and got["redirect"] is True
    assert conditions.verdict(conditions.check(no, TODAY))["redirect"] is True


def test_a_complaint_in_the_record_stops_a_redirect_the_appellants_blank_date_would_make():
    never = appeal(complained_at=None, operator_answered_at=None)
    assert item("10-4", never)["redirect"] is True
    got = item("10-4", {**never, "operator_record": record(c("TS5", "2026-05-20", "2026-05-25"))})
    assert got["met"] is None and got["redirect"] is False
    assert "申诉人未填写向被申诉人投诉的日期" in got["evidence"] and "TS5" in got["evidence"]
    # An empty record confirms the appellant's word.
    empty = item("10-4", {**never, "operator_record": record()})
    assert empty["redirect"] is True and "也没有该号码在申诉前的投诉" in empty["evidence"]


def test_complaints_after_the_appeal_are_not_evidence_of_complaining_first():
    never = appeal(complained_at=None, operator_answered_at=None)
    got = item("10-4", {**never, "operator_record": record(c("TS7", "2026-06-21"))})
    assert got["redirect"] is True and got["operator_record"] == []


@pytest.mark.parametrize(
    "answer",
    [
        [],
        {"complaints": "none"},
        {"complaints": [{"received_on": "2026-06-01"}]},
        {"complaints": [{"number": "TS1"}]},
        {"complaints": [{"number": "TS1", "received_on": "June"}]},
    ],
)
def test_a_malformed_answer_is_refused_in_chinese(answer):
    with pytest.raises(operator_evidence.BadRecord) as err:
        operator_evidence.parse(answer, "2026-06-21T00:00:00+00:00", "cm")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(err.value))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://op.example/api/v1/referrals", "https://op.example/api/v1/complaint-records"),
        ("https://op.example/api/v1/referrals/", "https://op.example/api/v1/complaint-records"),
        (
            "http://10.0.0.5:8000/kesu/api/v1/referrals?x=1",
            "http://10.0.0.5:8000/kesu/api/v1/complaint-records",
        ),
    ],
)
def test_the_record_url_sits_next_to_the_referral_url(url, expected):
    assert operator_evidence.record_url(url) == expected
