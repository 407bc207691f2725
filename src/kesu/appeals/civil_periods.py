"""Periods counted as 民法典 第二百零一条 and 第二百零二条 say (pure).

"第二百零一条 按照年、月、日计算期间的，开始的当日不计入，自下一日开始计算。"
"第二百零二条 按照年、月计算期间的，到期月的对应日为期间的最后一日；没有对应日的，
月末日为期间的最后一日。"

Each function gives the LAST day of a period that starts on `start` (the day of the
event, itself not counted). 第二百零三条 (a last day on a statutory holiday moves to the
day after the holiday) needs the calendar and is not applied here: the appeal conditions
that use these periods say so in their evidence when it could matter.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

CIVIL_CODE = "民法典"
DAYS_RULE = f"《{CIVIL_CODE}》第二百零一条"
MONTHS_RULE = f"《{CIVIL_CODE}》第二百零一条、第二百零二条"


def last_day_after_days(start: date, days: int) -> date:
    """The last day of `days` days counted from the day after `start` (第二百零一条)."""
    return start + timedelta(days=days)


def last_day_after_months(start: date, months: int) -> date:
    """The last day of `months` months from `start`: the corresponding day of the month
    it ends in, or that month's last day when it has none (第二百零二条)."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def last_day_after_years(start: date, years: int) -> date:
    """The last day of `years` years from `start` (29 February → 28 February)."""
    return last_day_after_months(start, 12 * years)


def chinese_date(day: date) -> str:
    """2026年3月16日."""
    return f"{day.year}年{day.month}月{day.day}日"
