"""Telling the customer a reply will come later than promised (pure): the `delay` action.

When a handler sees that the reply will not be ready by the time the customer was told,
the customer is told before the limit passes, with the new expected date and the reason
(the customer's SMS template `delayed` in data/notifications.yaml). The statutory limit
itself does not move: it stays running and is breached if passed; telling the customer is
what the operator owes them in the meantime (operator policy, not a statutory step).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from kesu.clock import BEIJING

ACTIONS: dict[str, dict[str, str]] = {
    "delay": {"name": "告知延期", "en": "Tell of a delay"},
}
FROM = frozenset({"accepted", "investigating", "proposed", "approved"})
MAX_DAYS = 60  # a new date further out is surely a typing error


class Refused(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def _date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.astimezone(BEIJING).date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        return None


def decide(params: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """The changes of `delay`: the new expected reply date and the reason, kept in the
    event (no column). Refused without a reason or with a date not in the future."""
    raw = params.get("expected_on")
    if raw in (None, ""):
        raise Refused(
            "expected_on_required", "告知延期须填写预计答复日期（expected_on，如 2026-12-20）。"
        )
    expected = _date(raw)
    if expected is None:
        raise Refused(
            "expected_on_invalid", f"预计答复日期“{raw}”不是有效日期，格式如 2026-12-20。"
        )
    today = now.astimezone(BEIJING).date()
    if expected <= today:
        raise Refused("expected_on_not_future", "预计答复日期须晚于今天。")
    if (expected - today).days > MAX_DAYS:
        raise Refused("expected_on_too_far", f"预计答复日期距今超过 {MAX_DAYS} 天，请核对后再填。")
    reason = str(params.get("reason") or params.get("note") or "").strip()
    if not reason:
        raise Refused("delay_reason_required", "告知延期须说明原因（reason），该原因会告知客户。")
    if len(reason) > 40:
        raise Refused("delay_reason_too_long", "延期原因请控制在 40 字以内（将随短信发给客户）。")
    return {"expected_on": expected.isoformat(), "delay_reason": reason}


def words(day: str) -> str:
    d = date.fromisoformat(day)
    return f"{d.year}年{d.month}月{d.day}日"
