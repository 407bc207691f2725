"""An appeal as the centre's staff read it: the row, its time limits (computed by
deadlines/ only, from the rules of data/deadline_rules.yaml), the conditions of 第十条 and
第十一条 as the data and the officer's confirmations decide them, the actions allowed, the
history. Lists are masked (the appellant's phone and name); the appeal page shows them
whole to the centre's staff, who must be able to call the appellant back."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from kesu.accounts import masking
from kesu.accounts.roles import Principal
from kesu.appeals import conditions, lifecycle, materials
from kesu.appeals.schemas import CHANNELS
from kesu.clock import to_beijing
from kesu.deadlines.rules import Rule, compute_due

if TYPE_CHECKING:
    from kesu.runtime import Runtime

ACCEPT_RULE = "appeal_accept_5wd"
REPLY_RULE = "appeal_reply_30d"


def iso(value: datetime | None) -> str | None:
    return to_beijing(value).isoformat() if value is not None else None


def day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def due_times(
    rt: Runtime, received_at: datetime, complete_at: datetime | None, conn=None
) -> tuple[datetime | None, datetime]:
    """(acceptance due, reply due): 第十四条 from the complete materials (None while they
    are incomplete), 电信条例 第三十九条 from receipt."""
    cal = rt.calendar(conn)
    accept = None
    if complete_at is not None:
        accept = compute_due(rt.rules[ACCEPT_RULE], complete_at, cal).due_at
    return accept, compute_due(rt.rules[REPLY_RULE], received_at, cal).due_at


def _deadline(rule: Rule, start: datetime | None, due: datetime | None, met, now) -> dict:
    if due is None:
        state = "waiting"  # the clock has not started (materials incomplete)
    elif met is not None:
        state = "met" if met <= due else "met_late"
    else:
        state = "breached" if now > due else "open"
    return {
        "rule": rule.id,
        "name": rule.name,
        "name_en": rule.name_en,
        "starts_at": iso(start),
        "due_at": iso(due),
        "met_at": iso(met),
        "state": state,
        "statutory": rule.statutory,
        "basis": list(rule.basis_json),
    }


def deadlines(rt: Runtime, row: Any, now: datetime) -> list[dict[str, Any]]:
    accept = _deadline(
        rt.rules[ACCEPT_RULE],
        row.materials_complete_at,
        row.accept_due_at,
        row.decided_at,
        now,
    )
    reply = _deadline(rt.rules[REPLY_RULE], row.received_at, row.reply_due_at, row.replied_at, now)
    return [accept, reply]


def facts(row: Any, respondent: Mapping[str, Any] | None) -> dict[str, Any]:
    """The appeal as the pure cores take it (materials, conditions)."""
    return {
        "number": row.number,
        "appellant": {
            "name": row.appellant_name,
            "phone": row.appellant_phone,
            "address": row.appellant_address,
            "postcode": row.appellant_postcode,
        },
        "respondent": {
            "name": (respondent or {}).get("name") or row.operator_name,
            "address": (respondent or {}).get("address"),
        },
        "operator": row.operator,
        "operator_name": (respondent or {}).get("name") or row.operator_name,
        "request": row.request,
        "reasons": row.reasons,
        "facts": row.facts,
        "dispute": row.dispute,
        "occurred_at": row.occurred_on,
        "complained_at": row.complained_on,
        "operator_answered_at": row.operator_answered_on,
        "received_at": to_beijing(row.received_at).date(),
        "date": row.appeal_date,
        "declared": dict(row.declared or {}),
        "operator_record": row.operator_record,
    }


def earlier_facts(rows: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "number": r.number,
            "status": r.status,
            "decision": r.decision,
            "reason": r.decision_reason,
            "request": r.request,
            "facts": r.facts,
            "received_at": to_beijing(r.received_at).date(),
        }
        for r in rows
    ]


def judged(
    row: Any, respondent: Mapping[str, Any] | None, earlier: list[Any], today: date
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    found = conditions.check(facts(row, respondent), today, earlier_facts(earlier))
    return found, conditions.verdict(found)


def summary(row: Any, now: datetime) -> dict[str, Any]:
    """One line of a list (masked)."""
    return {
        "number": row.number,
        "status": row.status,
        "status_name": lifecycle.STATUSES[row.status]["name"],
        "channel": row.channel,
        "operator": row.operator,
        "operator_name": row.operator_name,
        "appellant": {
            "name": masking.name(row.appellant_name),
            "phone": masking.phone(row.appellant_phone),
        },
        "request": row.request,
        "received_at": iso(row.received_at),
        "accept_due_at": iso(row.accept_due_at),
        "reply_due_at": iso(row.reply_due_at),
        "decision": row.decision,
        "outcome": row.outcome,
        "assignee": row.assignee,
        "overdue": bool(
            row.is_open
            and (
                (row.decided_at is None and row.accept_due_at and now > row.accept_due_at)
                or (row.replied_at is None and now > row.reply_due_at)
            )
        ),
    }


def full(
    rt: Runtime,
    row: Any,
    respondent: Mapping[str, Any] | None,
    earlier: list[Any],
    events: list[dict[str, Any]],
    now: datetime,
    p: Principal,
) -> dict[str, Any]:
    today = to_beijing(now).date()
    found, verdict = judged(row, respondent, earlier, today)
    data = facts(row, respondent)
    may_act = p.can("appeal.handle")
    return {
        **summary(row, now),
        "appellant": dict(data["appellant"]),
        "operator_address": data["respondent"]["address"],
        "reasons": row.reasons,
        "facts": row.facts,
        "dispute": row.dispute,
        "category": row.category,
        "occurred_at": day(row.occurred_on),
        "complained_at": day(row.complained_on),
        "operator_answered_at": day(row.operator_answered_on),
        "appeal_date": day(row.appeal_date),
        "external_ref": row.external_ref,
        "declared": data["declared"],
        "channel_name": CHANNELS[row.channel]["name"],
        "materials_complete_at": iso(row.materials_complete_at),
        "missing": materials.missing(data),
        "deadlines": deadlines(rt, row, now),
        "conditions": found,
        "verdict": verdict,
        "decision_reason": row.decision_reason,
        "decided_at": iso(row.decided_at),
        "referral": None
        if row.referred_at is None and row.operator_answer is None  # handed over: answered
        else {
            "referred_at": iso(row.referred_at),
            "operator_due_on": day(row.operator_due_on),
            "answer": row.operator_answer,
            "answered_at": iso(row.operator_answer_at),
            "operator_complaint": row.operator_complaint,
        },
        "operator_record": row.operator_record,
        "operator_connected": bool(
            respondent and respondent.get("referral_url") and respondent.get("secret")
        ),
        "mediated": row.mediated,
        "agreement": None
        if row.agreement_terms is None
        else {"terms": row.agreement_terms, "perform_by": day(row.perform_by)},
        "replied_at": iso(row.replied_at),
        "closed_at": iso(row.closed_at),
        "allowed_actions": lifecycle.allowed(row.status) if may_act else [],
        "history": [
            {
                "at": iso(e["at"]),
                "type": e["type"],
                "actor": e["actor"],
                "from_status": e["from_status"],
                "to_status": e["to_status"],
                "note": e["note"],
                "data": e["data"],
            }
            for e in events
        ],
    }
