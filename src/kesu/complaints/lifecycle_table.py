"""The lifecycle's table (pure): the statuses, the actions with their names, and the
statuses each action may start from. complaints.lifecycle decides with it and re-exports
every name, so callers keep reading `lifecycle.OPEN_STATUSES`, `lifecycle.ACTIONS`.
"""

from __future__ import annotations

from kesu.complaints import delays, ownership

OPEN_STATUSES = frozenset(
    {"registered", "accepted", "investigating", "proposed", "approved", "replied", "callback"}
)
TERMINAL_STATUSES = frozenset({"closed", "invalid", "merged"})
STATUSES = OPEN_STATUSES | TERMINAL_STATUSES
QUICK_KINDS = frozenset({"inquiry", "consultation"})
CALLBACK_DONE = frozenset({"satisfied", "basically_satisfied", "dissatisfied"})
PRIORITY_ORDER = ("low", "normal", "high", "urgent")

ACTIONS: dict[str, dict[str, str]] = {
    "accept": {"name": "受理", "en": "Accept"},
    "investigate": {"name": "开始调查", "en": "Start investigation"},
    "propose": {"name": "拟定方案", "en": "Propose resolution"},
    "approve": {"name": "审批通过", "en": "Approve"},
    "reject": {"name": "退回重拟", "en": "Send back"},
    "reply": {"name": "答复客户", "en": "Reply"},
    "callback": {"name": "回访", "en": "Call back"},
    "close": {"name": "归档", "en": "Close"},
    "reopen": {"name": "重开", "en": "Reopen"},
    "merge": {"name": "合并", "en": "Merge"},
    "transfer": {"name": "转派", "en": "Transfer"},
    "escalate": {"name": "升级", "en": "Escalate"},
    "invalidate": {"name": "判为无效", "en": "Mark invalid"},
    "flag": {"name": "标记风险", "en": "Set risk flags"},
    "convert": {"name": "转为投诉", "en": "Convert to complaint"},
    "classify": {"name": "更正分类", "en": "Correct the category"},
    **ownership.ACTIONS,
    **delays.ACTIONS,
}

# Statuses each action may start from (kind-specific exceptions in lifecycle._from_ok).
FROM: dict[str, frozenset[str]] = {
    "accept": frozenset({"registered"}),
    "investigate": frozenset({"accepted"}),
    "propose": frozenset({"investigating"}),
    "approve": frozenset({"proposed"}),
    "reject": frozenset({"proposed", "approved"}),
    "reply": frozenset({"accepted", "investigating", "proposed", "approved"}),
    "callback": frozenset({"replied"}),
    "close": frozenset({"replied", "callback"}),
    "reopen": frozenset({"replied", "callback", "closed"}),
    "merge": frozenset({"registered", "accepted", "investigating", "proposed", "approved"}),
    "transfer": OPEN_STATUSES,
    "escalate": OPEN_STATUSES - {"callback"},
    "invalidate": frozenset({"registered", "accepted", "investigating"}),
    "flag": OPEN_STATUSES,
    "convert": OPEN_STATUSES - {"callback"},
    "classify": OPEN_STATUSES | {"closed"},
    "assign": OPEN_STATUSES,
    "claim": OPEN_STATUSES,
    "delay": delays.FROM,
}
