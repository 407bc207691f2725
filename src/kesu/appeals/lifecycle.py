"""The life of an appeal at the centre (pure): statuses, actions, where each may start,
and what each changes. The ONLY place that decides whether an action is allowed.

Receipt → materials complete (申诉处理办法 第十二条) → acceptance decision within 5 working
days of the complete materials (第十四条) against 第十条 and 第十一条: accepted, not
accepted (the reason's article and item), or the appellant told to complain to the
operator first (第十三条) → referral to the operator with the date the centre needs its
answer by (centre policy: the texts we hold set none) → the operator's answer → mediation
(调解) sessions → an agreement (its performance tracked) or mediation ended (the appellant
told of arbitration and the courts) → concluded. The appellant is answered within 30 days
of receipt (电信条例 第三十九条): the decision not to accept, the redirect, the agreement,
the end of mediation, a resolution by the operator's answer or a withdrawal answer them.
Mediation steps rest on no article we hold: they are centre policy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from kesu.problems import Problem

STATUSES: dict[str, dict[str, str]] = {
    "awaiting_materials": {"name": "待补正材料", "en": "Awaiting materials"},
    "reviewing": {"name": "受理审查", "en": "Acceptance review"},
    "accepted": {"name": "已受理", "en": "Accepted"},
    "referred": {"name": "已转企业处理", "en": "Referred to the operator"},
    "answered": {"name": "企业已答复", "en": "Operator answered"},
    "mediating": {"name": "调解中", "en": "In mediation"},
    "agreed": {"name": "已达成调解协议", "en": "Agreement reached"},
    "concluded": {"name": "已办结", "en": "Concluded"},
    "not_accepted": {"name": "不予受理", "en": "Not accepted"},
    "redirected": {"name": "已告知先向企业投诉", "en": "Told to complain to the operator first"},
}
TERMINAL = frozenset({"concluded", "not_accepted", "redirected"})
OPEN = frozenset(STATUSES) - TERMINAL

OUTCOMES: dict[str, dict[str, str]] = {
    "agreement": {"name": "调解达成协议并履行", "en": "Agreement reached and performed"},
    "mediation_ended": {"name": "调解终止", "en": "Mediation ended without agreement"},
    "resolved": {"name": "企业处理后申诉人认可", "en": "Resolved by the operator's answer"},
    "withdrawn": {"name": "申诉人撤回", "en": "Withdrawn by the appellant"},
}

DECIDED = ("awaiting_materials", "reviewing")
ACTIONS: dict[str, dict[str, Any]] = {
    "supplement": {"name": "补正材料", "en": "Add materials", "from": ("awaiting_materials",)},
    "accept": {"name": "受理", "en": "Accept", "from": ("reviewing",)},
    "reject": {"name": "不予受理", "en": "Do not accept", "from": DECIDED},
    "redirect": {"name": "告知先向企业投诉", "en": "Redirect to the operator", "from": DECIDED},
    "refer": {"name": "转企业处理", "en": "Refer to the operator", "from": ("accepted",)},
    "answer": {"name": "登记企业答复", "en": "Record the operator's answer", "from": ("referred",)},
    "mediate": {
        "name": "调解",
        "en": "Hold a mediation session",
        "from": ("accepted", "referred", "answered", "mediating"),
    },
    "agree": {"name": "达成调解协议", "en": "Record the agreement", "from": ("mediating",)},
    "end_mediation": {"name": "终止调解", "en": "End mediation", "from": ("mediating",)},
    "perform": {"name": "确认协议履行", "en": "Agreement performed", "from": ("agreed",)},
    "conclude": {
        "name": "办结（企业处理后申诉人认可）",
        "en": "Conclude (resolved by the operator)",
        "from": ("accepted", "referred", "answered"),
    },
    "withdraw": {"name": "申诉人撤回", "en": "Withdrawn", "from": tuple(sorted(OPEN))},
    "classify": {"name": "更正分类", "en": "Correct the category", "from": tuple(sorted(OPEN))},
}


@dataclass(frozen=True)
class Outcome:
    """What an allowed action changes: the new status, the row's changed columns, the
    event written, and the notice the appellant gets (a key of data/appeals/notices.yaml)."""

    action: str
    status: str
    changes: dict[str, Any]
    event: str
    note: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    notice: str | None = None


def allowed(status: str) -> list[str]:
    return [a for a, spec in ACTIONS.items() if status in spec["from"]]


def _text(params: Mapping[str, Any], key: str, label: str, limit: int = 4000) -> str:
    value = params.get(key)
    if not isinstance(value, str) or not value.strip():
        raise Problem(422, "appeal_field_required", "Field required", f"请填写{label}。")
    if len(value) > limit:
        raise Problem(
            422, "appeal_field_too_long", "Field too long", f"{label}不能超过 {limit} 个字。"
        )
    return value.strip()


def _day(params: Mapping[str, Any], key: str, label: str) -> date:
    value = params.get(key)
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value))
    except (TypeError, ValueError):
        raise Problem(
            422, "appeal_field_required", "Date required", f"请填写{label}（YYYY-MM-DD）。"
        ) from None


def _refuse(status: str, action: str) -> Problem:
    name = ACTIONS[action]["name"] if action in ACTIONS else action
    can = [ACTIONS[a]["name"] for a in allowed(status)]
    return Problem(
        409,
        "appeal_transition_not_allowed",
        "Action not allowed in this status",
        f"申诉当前状态为“{STATUSES[status]['name']}”，不能“{name}”。"
        + (f"可进行：{'、'.join(can)}。" if can else "申诉已办结。"),
        status_now=status,
        allowed_actions=allowed(status),
    )


def decide(
    row: Mapping[str, Any],
    action: str,
    params: Mapping[str, Any],
    now: datetime,
    today: date,
    verdict: Mapping[str, Any] | None = None,
) -> Outcome:
    """Whether `action` may happen to the appeal in `row` now, and what it changes.

    `verdict` is appeals.conditions.verdict of the conditions as they stand (with the
    officer's confirmations applied); accept needs it acceptable, reject needs a reason."""
    status = str(row["status"])
    if action not in ACTIONS:
        raise Problem(422, "unknown_appeal_action", "Unknown action", f"未知的申诉操作“{action}”。")
    if status not in ACTIONS[action]["from"]:
        raise _refuse(status, action)
    return _DECIDERS[action](row, params, now, today, verdict or {})


def _accept(row, params, now, today, verdict) -> Outcome:
    if verdict.get("acceptable") is not True:
        blocking = [f"{c['article']}{c['item']}" for c in verdict.get("blocking", ())]
        open_ = [f"{c['article']}{c['item']}" for c in verdict.get("open", ())]
        detail = "不能受理："
        if blocking:
            detail += f"不符合{'、'.join(blocking)}。"
        if open_:
            detail += f"以下条件尚待核实确认：{'、'.join(open_)}。"
        raise Problem(
            409,
            "appeal_conditions_not_met",
            "Acceptance conditions not met",
            detail,
            blocking=blocking,
            open=open_,
        )
    changes = {"status": "accepted", "decision": "accepted", "decided_at": now}
    return Outcome("accept", "accepted", changes, "accepted", params.get("note"), {}, "accepted")


def _reject(row, params, now, today, verdict) -> Outcome:
    reason = params.get("reason")
    if not isinstance(reason, str) or not reason:
        raise Problem(
            422,
            "appeal_reason_required",
            "Reason required",
            "不予受理须选择理由（申诉处理办法第十条或第十一条的具体项）。",
        )
    changes = {
        "status": "not_accepted",
        "decision": "not_accepted",
        "decision_reason": reason,
        "decided_at": now,
        "replied_at": now,
        "closed_at": now,
        "is_open": False,
    }
    data = {"reason": reason}
    return Outcome(
        "reject", "not_accepted", changes, "not_accepted", params.get("note"), data, "not_accepted"
    )


def _redirect(row, params, now, today, verdict) -> Outcome:
    hand_over = bool(params.get("hand_over"))
    changes = {
        "status": "redirected",
        "decision": "redirected",
        "decided_at": now,
        "replied_at": now,
        "closed_at": now,
        "is_open": False,
    }
    data = {"hand_over": hand_over}
    return Outcome(
        "redirect", "redirected", changes, "redirected", params.get("note"), data, "redirected"
    )


def _refer(row, params, now, today, verdict) -> Outcome:
    due = _day(params, "operator_due_on", "企业答复期限")
    if due <= today:
        raise Problem(
            422,
            "appeal_date_out_of_range",
            "Due date must be in the future",
            f"企业答复期限（{due.isoformat()}）须晚于今天。",
        )
    reply_due = row.get("reply_due_at")
    if isinstance(reply_due, datetime) and due > reply_due.date():
        raise Problem(
            422,
            "appeal_date_out_of_range",
            "Due date after the appeal's own limit",
            f"企业答复期限（{due.isoformat()}）晚于本申诉须答复申诉人的期限"
            f"（{reply_due.date().isoformat()}，电信条例第三十九条）。",
        )
    if not row.get("operator"):
        raise Problem(
            409,
            "appeal_operator_unknown",
            "Operator not configured",
            "被申诉企业未在本中心登记，不能转办：请管理员先添加该企业。",
        )
    changes = {"status": "referred", "referred_at": now, "operator_due_on": due}
    data = {"operator": row.get("operator"), "operator_due_on": due.isoformat()}
    return Outcome("refer", "referred", changes, "referred", params.get("note"), data)


def _answer(row, params, now, today, verdict) -> Outcome:
    text = _text(params, "answer", "企业答复内容")
    changes: dict[str, Any] = {
        "status": "answered",
        "operator_answer": text,
        "operator_answer_at": now,
    }
    if params.get("operator_complaint"):
        changes["operator_complaint"] = str(params["operator_complaint"])[:40]
    data = {"via": params.get("via") or "officer"}
    for key in ("replied_at", "delivery"):  # the operator's kesu: when it answered, the id
        if params.get(key):
            data[key] = str(params[key])[:40]
    return Outcome("answer", "answered", changes, "operator_answered", None, data)


def _mediate(row, params, now, today, verdict) -> Outcome:
    held_on = _day(params, "held_on", "调解日期")
    if held_on > today:
        raise Problem(
            422,
            "appeal_date_out_of_range",
            "Session date in the future",
            f"调解日期（{held_on.isoformat()}）不能晚于今天：请在调解后登记。",
        )
    participants = _text(params, "participants", "参加人", 500)
    notes = _text(params, "notes", "调解记录")
    changes = {"status": "mediating", "mediated": True}
    data = {"held_on": held_on.isoformat(), "participants": participants}
    return Outcome("mediate", "mediating", changes, "mediation_session", notes, data)


def _agree(row, params, now, today, verdict) -> Outcome:
    terms = _text(params, "terms", "协议内容")
    perform_by = _day(params, "perform_by", "履行期限")
    if perform_by < today:
        raise Problem(
            422,
            "appeal_date_out_of_range",
            "Performance date in the past",
            f"履行期限（{perform_by.isoformat()}）不能早于今天。",
        )
    changes = {
        "status": "agreed",
        "agreement_terms": terms,
        "perform_by": perform_by,
        "replied_at": row.get("replied_at") or now,
    }
    data = {"perform_by": perform_by.isoformat()}
    return Outcome("agree", "agreed", changes, "agreement", terms, data, "agreement")


def _end(row, params, now, today, verdict) -> Outcome:
    reason = _text(params, "reason", "终止调解的原因", 500)
    changes = _close("mediation_ended", row, now)
    return Outcome(
        "end_mediation", "concluded", changes, "mediation_ended", reason, {}, "mediation_ended"
    )


def _perform(row, params, now, today, verdict) -> Outcome:
    note = _text(params, "note", "履行情况", 1000)
    changes = _close("agreement", row, now)
    return Outcome("perform", "concluded", changes, "agreement_performed", note, {})


def _conclude(row, params, now, today, verdict) -> Outcome:
    note = _text(params, "note", "办结说明", 1000)
    changes = _close("resolved", row, now)
    return Outcome("conclude", "concluded", changes, "concluded", note, {}, "concluded")


def _withdraw(row, params, now, today, verdict) -> Outcome:
    note = _text(params, "note", "撤回说明", 1000)
    changes = _close("withdrawn", row, now)
    if row.get("decision") is None:
        changes["decided_at"] = now
    return Outcome("withdraw", "concluded", changes, "withdrawn", note, {}, "withdrawn")


def _close(outcome: str, row: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    return {
        "status": "concluded",
        "outcome": outcome,
        "replied_at": row.get("replied_at") or now,
        "closed_at": now,
        "is_open": False,
    }


def _classify(row, params, now, today, verdict) -> Outcome:
    category = _text(params, "category", "分类", 40)
    if category == row.get("category"):
        raise Problem(422, "same_category", "Same category", "新分类与当前分类相同。")
    data = {"from": row.get("category"), "to": category}
    return Outcome("classify", str(row["status"]), {"category": category}, "classified", None, data)


def _supplement(row, params, now, today, verdict) -> Outcome:
    # The service merges the supplied fields and asks materials.missing again; the status
    # it lands in is decided there (reviewing when complete).
    return Outcome("supplement", "awaiting_materials", {}, "materials_supplemented", None)


_DECIDERS = {
    "supplement": _supplement,
    "accept": _accept,
    "reject": _reject,
    "redirect": _redirect,
    "refer": _refer,
    "answer": _answer,
    "mediate": _mediate,
    "agree": _agree,
    "end_mediation": _end,
    "perform": _perform,
    "conclude": _conclude,
    "withdraw": _withdraw,
    "classify": _classify,
}
