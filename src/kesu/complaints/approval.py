"""Whether a complaint waits for approval, why, and who may give it (pure).

A complaint waits for approval when its resolution is proposed and
`lifecycle.approval_required` says so: the compensation is above the policy's threshold,
or it carries a risk flag that needs approval (legal, media, mass incident). The
approvers are the roles holding a permission of the `approve` action in roles.yaml.
The complaint's view (`approval`), its page's banner, the proposer's notice and the
approvers' list (reports.queues.approvals) all say it with these functions.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from kesu.accounts.roles import action_permissions, roles
from kesu.complaints import lifecycle
from kesu.complaints import vocabulary as vocab


def waiting(state: lifecycle.State, policy: lifecycle.Policy) -> bool:
    return state.status == "proposed" and lifecycle.approval_required(state, policy)


def reasons(state: lifecycle.State, policy: lifecycle.Policy) -> list[dict[str, Any]]:
    """Why approval is needed: {code: amount|risk_flags, text, …} in Chinese."""
    out: list[dict[str, Any]] = []
    amount = state.compensation
    if amount is not None and Decimal(amount) > policy.approval_threshold:
        out.append(
            {
                "code": "amount",
                "amount": f"{Decimal(amount):.2f}",
                "threshold": f"{policy.approval_threshold:.2f}",
                "text": f"赔偿金额 {Decimal(amount):.2f} 元超过审批阈值 "
                f"{policy.approval_threshold:.2f} 元",
            }
        )
    flags = sorted(state.risk_flags & policy.approval_flags)
    if flags:
        names = "、".join(vocab.RISK_FLAGS.get(f, {}).get("name", f) for f in flags)
        out.append({"code": "risk_flags", "flags": flags, "text": f"风险标记须审批：{names}"})
    return out


def approvers() -> list[dict[str, str]]:
    """The roles that may approve: [{role, name}] in roles.yaml's order."""
    needed = set(action_permissions("approve"))
    return [
        {"role": code, "name": r["name"]}
        for code, r in roles().items()
        if needed & set(r.get("permissions", ()))
    ]


def notice(state: lifecycle.State, policy: lifecycle.Policy) -> dict[str, Any] | None:
    """What a complaint waiting for approval says (None when it does not wait):
    {waiting, approvers, reasons, text}."""
    if not waiting(state, policy):
        return None
    who = approvers()
    why = reasons(state, policy)
    names = "或".join(a["name"] for a in who)
    text = f"待审批：须由{names}审批通过后才能答复客户。原因：" + "；".join(r["text"] for r in why)
    return {"waiting": True, "approvers": who, "reasons": why, "text": text + "。"}
