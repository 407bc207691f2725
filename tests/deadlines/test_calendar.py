from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from kesu.deadlines.calendar import WorkCalendar, YearOverride

CAL = WorkCalendar()


def test_national_day_2026_and_the_make_up_saturday():
    # 10-01..10-07 are rest days; Saturday 10-10 is a make-up working day.
    assert CAL.add_working_days(date(2026, 9, 30), 5) == date(2026, 10, 13)
    assert not any(CAL.is_working_day(date(2026, 10, d)) for d in range(1, 8))
    assert CAL.is_working_day(date(2026, 10, 10))
    assert CAL.is_working_day(date(2026, 9, 20))  # Sunday make-up day
    assert not CAL.is_working_day(date(2026, 10, 11))


def test_spring_festival_2026():
    assert CAL.is_working_day(date(2026, 2, 14))  # Saturday make-up
    assert not CAL.is_working_day(date(2026, 2, 17))
    assert CAL.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert CAL.add_working_days(date(2026, 2, 14), 1) == date(2026, 2, 24)


def test_published_and_estimated_years():
    assert not CAL.is_estimated(2026)
    assert CAL.is_estimated(2027)
    assert CAL.estimated_between(date(2026, 12, 30), date(2027, 1, 5))
    # 2027's festivals are known even though the schedule is not published.
    assert not CAL.is_working_day(date(2027, 10, 1))


def test_official_override_replaces_a_year():
    official = YearOverride(
        year=2027,
        official=True,
        holidays={date(2027, 1, 1): "元旦", date(2027, 2, 8): "春节", date(2027, 2, 9): "春节"},
        workdays={date(2027, 2, 6): "春节调休上班"},
    )
    cal = WorkCalendar([official])
    assert not cal.is_estimated(2027)
    assert cal.is_working_day(date(2027, 2, 6))  # Saturday, made a working day
    assert not cal.is_working_day(date(2027, 2, 9))
    assert cal.is_working_day(date(2027, 10, 1))  # not in this (toy) official file
    assert cal.version != CAL.version


def test_partial_override_adds_a_company_rest_day():
    cal = WorkCalendar(
        [YearOverride(year=2026, official=False, holidays={date(2026, 12, 31): "公司调整"})]
    )
    assert not cal.is_working_day(date(2026, 12, 31))
    assert cal.is_working_day(date(2026, 12, 30))
    assert not cal.is_estimated(2026)


days = st.dates(min_value=date(2001, 1, 1), max_value=date(2035, 12, 31))


@settings(max_examples=300, deadline=None)
@given(start=days, n=st.integers(min_value=1, max_value=60))
def test_nth_working_day_is_a_working_day_after_start(start, n):
    result = CAL.add_working_days(start, n)
    assert result > start
    assert CAL.is_working_day(result)
    between = [start + timedelta(days=i) for i in range(1, (result - start).days + 1)]
    assert sum(CAL.is_working_day(d) for d in between) == n


@settings(max_examples=200, deadline=None)
@given(
    start=days, a=st.integers(min_value=0, max_value=30), b=st.integers(min_value=0, max_value=30)
)
def test_working_days_add_up(start, a, b):
    assert CAL.add_working_days(CAL.add_working_days(start, a), b) == CAL.add_working_days(
        start, a + b
    )
