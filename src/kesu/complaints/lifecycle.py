"""The complaint lifecycle: states, actions and their guards (pure).

This is the only place that decides whether an action is allowed. It takes
the complaint's current state, the command, the operator's policy and the
time, and returns an Outcome: the new status, the fields that change and the
event to record. It never touches the database or the clock.

registered 登记 → accepted 受理 → investigating 调查核实 → proposed 方案拟定
→ approved 审批 (when required) → replied 答复 → callback 回访 → closed 归档;
also invalid 无效, merged 合并, reopen 重开, transfer 转派, escalate 升级.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from kesu.complaints import delays, ownership
from kesu.complaints.lifecycle_table import ACTIONS as ACTIONS
from kesu.complaints.lifecycle_table import CALLBACK_DONE as CALLBACK_DONE
from kesu.complaints.lifecycle_table import FROM as _FROM
from kesu.complaints.lifecycle_table import OPEN_STATUSES as OPEN_STATUSES
from kesu.complaints.lifecycle_table import PRIORITY_ORDER as PRIORITY_ORDER
from kesu.complaints.lifecycle_table import QUICK_KINDS as QUICK_KINDS
from kesu.complaints.lifecycle_table import STATUSES as STATUSES
from kesu.complaints.lifecycle_table import TERMINAL_STATUSES as TERMINAL_STATUSES


@dataclass(frozen=True)
class Policy:
    approval_threshold: Decimal = Decimal("100")
    reopen_days: int = 30
    callback_max_attempts: int = 3
    approval_flags: frozenset[str] = frozenset({"legal", "media", "mass_incident"})
    validity_reasons: frozenset[str] = frozenset()
    callback_results: frozenset[str] = frozenset(CALLBACK_DONE | {"unreachable"})
    teams: frozenset[str] = frozenset()
    risk_flags: frozenset[str] = frozenset()
    root_causes: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    derived_flags: frozenset[str] = frozenset()
    remedy_kinds: frozenset[str] = frozenset()


@dataclass(frozen=True)
class State:
    status: str
    kind: str
    resolution: str | None = None
    compensation: Decimal | None = None
    risk_flags: frozenset[str] = frozenset()
    priority: str = "normal"
    team: str | None = None
    callback_result: str | None = None
    callback_attempts: int = 0
    replied_at: datetime | None = None
    closed_at: datetime | None = None
    reopen_count: int = 0
    escalation_level: int = 0
    number: str | None = None
    category: str | None = None
    assignee: str | None = None
    root_cause: str | None = None


@dataclass(frozen=True)
class Outcome:
    action: str
    status: str
    changes: Mapping[str, Any] = field(default_factory=dict)
    event: str = ""
    # Deadlines met by this action (their met_by lists this action name).
    meets: str | None = None
    # Deadline trigger started by this action (e.g. "reopened"), if any.
    starts: str | None = None
    # The consultation became a complaint: its complaint deadlines start now.
    converted: bool = False


class LifecycleError(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


class NotAllowed(LifecycleError):
    """The action is not allowed in the complaint's current state (HTTP 409)."""


class BadInput(LifecycleError):
    """The action is allowed but its input is missing or wrong (HTTP 422)."""


def approval_required(state: State, policy: Policy, compensation: Decimal | None = None) -> bool:
    amount = compensation if compensation is not None else state.compensation
    if amount is not None and amount > policy.approval_threshold:
        return True
    return bool(state.risk_flags & policy.approval_flags)


def _reopen_window_open(state: State, policy: Policy, now: datetime) -> bool:
    since = state.closed_at or state.replied_at
    return since is None or now - since <= timedelta(days=policy.reopen_days)


def _from_ok(action: str, state: State) -> bool:
    if action == "reply" and state.kind in QUICK_KINDS and state.status == "registered":
        return True
    if action == "convert":
        return state.kind == "consultation" and state.status in _FROM["convert"]
    return state.status in _FROM[action]


def _guard(action: str, state: State, policy: Policy, now: datetime) -> LifecycleError | None:
    """Guards that depend on the state alone (not on the command's input)."""
    if action == "reply" and state.status != "approved" and approval_required(state, policy):
        return NotAllowed(
            "approval_required",
            "赔偿金额超过审批阈值或存在法律/舆情风险，答复前须经主管审批。",
        )
    if (
        action == "close"
        and state.status == "replied"
        and state.callback_attempts < policy.callback_max_attempts
    ):
        return NotAllowed(
            "callback_required",
            f"归档前须完成回访（或记录{policy.callback_max_attempts}次回访未联系上）。",
        )
    if action == "reopen" and not _reopen_window_open(state, policy, now):
        return NotAllowed(
            "reopen_window_passed", f"已超过{policy.reopen_days}天的重开期限，不能重开。"
        )
    return None


def allowed_actions(state: State, policy: Policy, now: datetime) -> list[str]:
    return [a for a in ACTIONS if _from_ok(a, state) and _guard(a, state, policy, now) is None]


def _text(params: Mapping[str, Any], key: str) -> str | None:
    value = params.get(key)
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def _amount(params: Mapping[str, Any]) -> Decimal | None:
    raw = params.get("compensation")
    if raw is None or raw == "":
        return None
    try:
        amount = Decimal(str(raw))
    except InvalidOperation:
        raise BadInput("invalid_compensation", "赔偿金额必须是数字。") from None
    if not amount.is_finite() or amount < 0 or amount > Decimal("10000000"):
        raise BadInput("invalid_compensation", "赔偿金额必须是0到1000万元之间的数字。")
    return amount.quantize(Decimal("0.01"))


def decide(
    state: State, action: str, params: Mapping[str, Any], policy: Policy, now: datetime
) -> Outcome:
    """Decide what `action` does to a complaint in `state`, or raise why it cannot."""
    if action not in ACTIONS:
        raise BadInput("unknown_action", f"未知的操作“{action}”。")
    if not _from_ok(action, state):
        raise NotAllowed(
            "action_not_allowed",
            f"当前状态下不能执行“{ACTIONS[action]['name']}”。",
        )
    blocked = _guard(action, state, policy, now)
    if blocked is not None:
        raise blocked
    return _OUTCOMES[action](state, params, policy, now)


def _accept(state: State, params: Mapping[str, Any], policy: Policy, now: datetime) -> Outcome:
    return Outcome("accept", "accepted", {"accepted_at": now}, "accepted", meets="accept")


def _investigate(state: State, params: Mapping[str, Any], policy: Policy, now: datetime) -> Outcome:
    return Outcome("investigate", "investigating", {}, "investigation_started")


def _root_cause(params: Mapping[str, Any], policy: Policy) -> dict[str, Any]:
    cause = _text(params, "root_cause")
    if cause is None:
        return {}
    if policy.root_causes and cause not in policy.root_causes:
        raise BadInput("unknown_root_cause", f"未知的原因分类“{cause}”。")
    return {"root_cause": cause}


def _remedy_kind(params: Mapping[str, Any], policy: Policy) -> dict[str, Any]:
    """退费/减免/赔偿/补偿: what the remedy is (kept in the event, worded by the reply draft)."""
    kind = _text(params, "remedy_kind")
    if kind is not None and policy.remedy_kinds and kind not in policy.remedy_kinds:
        raise BadInput("unknown_remedy_kind", f"未知的补救方式“{kind}”（退费/减免/赔偿/补偿）。")
    return {} if kind is None else {"remedy_kind": kind}


def _propose(state: State, params: Mapping[str, Any], policy: Policy, now: datetime) -> Outcome:
    resolution = _text(params, "resolution")
    if resolution is None:
        raise BadInput("resolution_required", "拟定方案须填写处理意见（resolution）。")
    changes: dict[str, Any] = {"resolution": resolution, **_root_cause(params, policy)}
    changes.update(_remedy_kind(params, policy))
    amount = _amount(params)
    if amount is not None:
        changes["compensation"] = amount
    return Outcome("propose", "proposed", changes, "resolution_proposed")


def _approve(state: State, params: Mapping[str, Any], policy: Policy, now: datetime) -> Outcome:
    return Outcome("approve", "approved", {}, "approved")


def _reject(state: State, params: Mapping[str, Any], policy: Policy, now: datetime) -> Outcome:
    if _text(params, "note") is None:
        raise BadInput("note_required", "退回须说明原因（note）。")
    return Outcome("reject", "investigating", {}, "approval_rejected")


def _reply(state: State, params: Mapping[str, Any], policy: Policy, now: datetime) -> Outcome:
    resolution = _text(params, "resolution") or state.resolution
    if resolution is None:
        raise BadInput("resolution_required", "答复客户须填写处理结果（resolution）。")
    amount = _amount(params)
    if state.status != "approved" and approval_required(state, policy, amount):
        raise NotAllowed(
            "approval_required",
            "赔偿金额超过审批阈值或存在法律/舆情风险，答复前须经主管审批。",
        )
    if state.status == "approved" and amount is not None and amount != state.compensation:
        raise NotAllowed("approval_required", "已审批的方案不能在答复时修改赔偿金额，请退回重拟。")
    changes: dict[str, Any] = {"resolution": resolution, "replied_at": now}
    changes.update(_root_cause(params, policy), **_remedy_kind(params, policy))
    if amount is not None:
        changes["compensation"] = amount
    return Outcome("reply", "replied", changes, "replied", meets="reply")


def _callback(state: State, params: Mapping[str, Any], policy: Policy, now: datetime) -> Outcome:
    result = _text(params, "result")
    if result is None or result not in policy.callback_results:
        raise BadInput(
            "callback_result_required",
            "回访须填写结果（result）：satisfied 满意 / basically_satisfied 基本满意 / "
            "dissatisfied 不满意 / unreachable 未联系上。",
        )
    if result == "unreachable":
        return Outcome(
            "callback",
            state.status,
            {"callback_attempts": state.callback_attempts + 1},
            "callback_failed",
        )
    changes = {"callback_result": result, "callback_attempts": state.callback_attempts + 1}
    if result == "dissatisfied" and state.kind == "consultation":
        return _converted(state, changes)
    return Outcome("callback", "callback", changes, "callback_done")


def _close(state: State, params: Mapping[str, Any], policy: Policy, now: datetime) -> Outcome:
    """Closing needs a root cause: the one given now, or one recorded before (propose,
    reply) that is still a cause a person may choose (not an import's `unknown`)."""
    changes: dict[str, Any] = {"closed_at": now, **_root_cause(params, policy)}
    cause = changes.get("root_cause") or state.root_cause
    if cause is None or (policy.root_causes and cause not in policy.root_causes):
        raise BadInput("root_cause_required", "归档须选择投诉原因分类（root_cause）。")
    changes["root_cause"] = cause
    return Outcome("close", "closed", changes, "closed", meets="close")


def _reopen(state: State, params: Mapping[str, Any], policy: Policy, now: datetime) -> Outcome:
    return Outcome(
        "reopen",
        "investigating",
        {
            "reopen_count": state.reopen_count + 1,
            "closed_at": None,
            "callback_result": None,
            "callback_attempts": 0,
        },
        "reopened",
        starts="reopened",
    )


def _merge(state: State, params: Mapping[str, Any], policy: Policy, now: datetime) -> Outcome:
    into = _text(params, "into")
    if into is None:
        raise BadInput("merge_target_required", "合并须指明保留的投诉单号（into）。")
    if into == state.number:
        raise BadInput("merge_into_self", "不能把投诉单合并到它自己。")
    return Outcome(
        "merge", "merged", {"closed_at": now, "merged_into": into}, "merged", meets="merge"
    )


def _transfer(state: State, params: Mapping[str, Any], policy: Policy, now: datetime) -> Outcome:
    team = _text(params, "team")
    if team is None or (policy.teams and team not in policy.teams):
        raise BadInput("team_required", "转派须指明有效的处理班组（team）。")
    assignee = _text(params, "assignee")
    if team == state.team and assignee is None:
        raise BadInput("same_team", "投诉单已在该班组，无需转派；班组内换处理人请用“指派”。")
    if team == state.team:  # a person of the same team: an assignment
        return _owned("transfer")(state, params, policy, now)
    changes: dict[str, Any] = {"team": team, **({"assignee": assignee} if assignee else {})}
    return Outcome("transfer", state.status, changes, "transferred")


def _escalate(state: State, params: Mapping[str, Any], policy: Policy, now: datetime) -> Outcome:
    priority = state.priority
    if PRIORITY_ORDER.index(priority) < PRIORITY_ORDER.index("high"):
        priority = "high"
    return Outcome(
        "escalate",
        state.status,
        {"escalation_level": state.escalation_level + 1, "priority": priority},
        "escalated",
    )


def _invalidate(state: State, params: Mapping[str, Any], policy: Policy, now: datetime) -> Outcome:
    reason = _text(params, "reason")
    if reason is None or (policy.validity_reasons and reason not in policy.validity_reasons):
        raise BadInput(
            "validity_reason_required",
            "判为无效须选择无效原因（reason）：" + "、".join(sorted(policy.validity_reasons)),
        )
    return Outcome(
        "invalidate",
        "invalid",
        {"validity": "invalid", "invalid_reason": reason, "closed_at": now},
        "invalidated",
        meets="invalidate",
    )


def _flag(state: State, params: Mapping[str, Any], policy: Policy, now: datetime) -> Outcome:
    add = set(params.get("add_flags") or ())
    remove = set(params.get("remove_flags") or ())
    unknown = (add | remove) - policy.risk_flags if policy.risk_flags else set()
    if unknown or not (add or remove):
        raise BadInput("invalid_flags", "请用 add_flags / remove_flags 指明有效的风险标记。")
    if (add | remove) & policy.derived_flags:
        raise BadInput("derived_flag", "“重复投诉”标记由系统按规则判定，不能手工设置或取消。")
    flags = (state.risk_flags | add) - remove
    return Outcome("flag", state.status, {"risk_flags": sorted(flags)}, "flags_changed")


def _classify(state: State, params: Mapping[str, Any], policy: Policy, now: datetime) -> Outcome:
    category = _text(params, "category")
    if category is None or (policy.categories and category not in policy.categories):
        raise BadInput(
            "category_required",
            "更正分类须选择有效的分类（category）：" + "、".join(sorted(policy.categories)),
        )
    if category == state.category:
        raise BadInput("same_category", "分类未改变。")
    return Outcome("classify", state.status, {"category": category}, "recategorized")


def _converted(state: State, extra: Mapping[str, Any] | None = None) -> Outcome:
    changes: dict[str, Any] = {"kind": "complaint", **(extra or {})}
    return Outcome(
        "convert",
        "registered",
        changes,
        "converted_to_complaint",
        meets="convert",
        converted=True,
    )


def _convert(state: State, params: Mapping[str, Any], policy: Policy, now: datetime) -> Outcome:
    return _converted(state)


def convert_on_breach(state: State) -> Outcome | None:
    """A consultation open past its time limit becomes a complaint."""
    if state.kind == "consultation" and state.status in _FROM["convert"]:
        return _converted(state)
    return None


def _owned(action: str):
    def outcome(state: State, params: Mapping[str, Any], policy: Policy, now: datetime) -> Outcome:
        try:
            changes = ownership.OUTCOMES["claim" if action == "claim" else "assign"](
                state.assignee, params
            )
        except ownership.Refused as err:
            raise BadInput(err.code, err.detail) from None
        return Outcome(action, state.status, changes, "assigned")

    return outcome


def _delay(state: State, params: Mapping[str, Any], policy: Policy, now: datetime) -> Outcome:
    try:
        changes = delays.decide(params, now)
    except delays.Refused as err:
        raise BadInput(err.code, err.detail) from None
    return Outcome("delay", state.status, changes, "delay_told")


_OUTCOMES = {
    "accept": _accept,
    "investigate": _investigate,
    "propose": _propose,
    "approve": _approve,
    "reject": _reject,
    "reply": _reply,
    "callback": _callback,
    "close": _close,
    "reopen": _reopen,
    "merge": _merge,
    "transfer": _transfer,
    "escalate": _escalate,
    "invalidate": _invalidate,
    "flag": _flag,
    "convert": _convert,
    "classify": _classify,
    "assign": _owned("assign"),
    "claim": _owned("claim"),
    "delay": _delay,
}
