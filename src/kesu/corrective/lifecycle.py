"""A corrective action's lifecycle (pure): its states, the actions that move it, and
what each needs. The only place that decides whether an action is allowed.

open 已立项 → in_progress 整改中 → closed 已完成 (what was done recorded); open or
in_progress → cancelled 已撤销 (why). `reassign` gives it another owner or due date
without changing its state. Closed and cancelled are final.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

STATES: dict[str, dict[str, str]] = {
    "open": {"name": "已立项", "en": "Open"},
    "in_progress": {"name": "整改中", "en": "In progress"},
    "closed": {"name": "已完成", "en": "Closed"},
    "cancelled": {"name": "已撤销", "en": "Cancelled"},
}
LIVE = frozenset({"open", "in_progress"})  # may be overdue; the dashboard's "open"
FINAL = frozenset({"closed", "cancelled"})

ACTIONS: dict[str, dict[str, str]] = {
    "start": {"name": "开始整改", "en": "Start"},
    "close": {"name": "完成整改", "en": "Close"},
    "cancel": {"name": "撤销", "en": "Cancel"},
    "reassign": {"name": "改派或改期", "en": "Reassign or reschedule"},
}
FROM: dict[str, frozenset[str]] = {
    "start": frozenset({"open"}),
    "close": LIVE,
    "cancel": LIVE,
    "reassign": LIVE,
}
MAX_TEXT = 4000


class Refused(Exception):
    def __init__(self, status: int, code: str, detail: str, allowed: list[str]) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail, self.allowed = status, code, detail, allowed


@dataclass(frozen=True)
class Outcome:
    action: str
    state: str
    changes: Mapping[str, Any] = field(default_factory=dict)
    event: str = ""
    note: str | None = None


def allowed(state: str) -> list[str]:
    return [a for a in ACTIONS if state in FROM[a]]


def _text(params: Mapping[str, Any], key: str) -> str | None:
    value = params.get(key)
    value = None if value is None else str(value).strip()
    return value[:MAX_TEXT] if value else None


def overdue(state: str, due_on: date, today: date) -> bool:
    """Past its due date (a Beijing day) and not closed or cancelled."""
    return state in LIVE and today > due_on


def decide(
    state: str, owner: str, due_on: date, action: str, params: Mapping[str, Any], today: date
) -> Outcome:
    """What `action` does to an action in `state`, or Refused (409 not allowed here, with
    the allowed ones; 422 input missing)."""
    can = allowed(state)
    if action not in ACTIONS:
        choices = "、".join(ACTIONS)
        raise Refused(422, "unknown_action", f"未知的操作“{action}”，可选：{choices}。", can)
    if state not in FROM[action]:
        names = "、".join(ACTIONS[a]["name"] for a in can) or "无（已结束）"
        raise Refused(
            409,
            "action_not_allowed",
            f"整改任务{STATES[state]['name']}，不能“{ACTIONS[action]['name']}”；可执行：{names}。",
            can,
        )
    note = _text(params, "note")
    if action == "start":
        return Outcome(action, "in_progress", {}, "started", note)
    if action == "close":
        outcome = _text(params, "outcome")
        if outcome is None:
            raise Refused(422, "outcome_required", "完成整改须写明整改措施和结果（outcome）。", can)
        return Outcome(action, "closed", {"outcome": outcome}, "closed", note)
    if action == "cancel":
        if note is None:
            raise Refused(422, "note_required", "撤销整改任务须说明原因（note）。", can)
        return Outcome(action, "cancelled", {}, "cancelled", note)
    changes: dict[str, Any] = {}
    new_owner = _text(params, "owner")
    if new_owner is not None and new_owner != owner:
        changes["owner"] = new_owner
    new_due = params.get("due_on")
    if new_due is not None and new_due != due_on:
        if new_due < today:
            raise Refused(422, "due_in_past", "整改期限不能早于今天。", can)
        changes["due_on"] = new_due
    if not changes:
        raise Refused(422, "nothing_to_change", "改派须给出新的责任人或新的整改期限。", can)
    return Outcome(action, state, changes, "reassigned", note)
