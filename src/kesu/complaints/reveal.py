"""Revealing a complaint's customer data unmasked: who may, what they see, the audit entry.

Minimum necessary: a reveal shows the phone only (scope `phone`), which is what a call
back needs. The complaint's assignee may reveal its phone while the complaint is open,
without any other permission; a holder of `pii.show` may reveal the phone of any
complaint in their scope, or ask for scope `full` (name, account, place, description and
demands unmasked). Everyone else is refused (403) and keeps seeing the masked values.
The reason is a code of `reveal_reasons` in data/reference.yaml (an unknown one: 422
`unknown_reveal_reason`); each reveal is one audit entry `pii.show` with the reason (code
and name), the scope and the basis (`assignee` or `pii.show`), written in the reveal's transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kesu.accounts.audit import audit
from kesu.accounts.roles import Actor, Principal, as_principal, permissions
from kesu.complaints import lifecycle
from kesu.complaints import vocabulary as vocab
from kesu.complaints.queries import load_visible
from kesu.complaints.views import iso
from kesu.problems import Problem
from kesu.store.db import write

if TYPE_CHECKING:
    from kesu.runtime import Runtime

SCOPES = ("phone", "full")


def basis(assignee: str | None, status: str, p: Principal) -> str | None:
    """Why `p` may reveal the phone of a complaint: `pii.show`, `assignee`, or None."""
    if p.can("pii.show"):
        return "pii.show"
    if (
        p.kind in ("user", "token")
        and assignee
        and assignee == p.name
        and status in lifecycle.OPEN_STATUSES
        and p.can("complaint.read")
    ):
        return "assignee"
    return None


def _refused(p: Principal, full: bool) -> Problem:
    show = permissions()["pii.show"]["name"]
    if full:
        detail = (
            f"当前角色（{p.role_name}）只能为回访查看电话号码；查看全部个人信息需要“{show}”权限。"
        )
    else:
        detail = (
            f"当前角色（{p.role_name}）无权查看此投诉的客户号码："
            f"只有处理中的投诉单的处理人，或具备“{show}”权限的角色可以查看。"
        )
    return Problem(403, "forbidden", "Forbidden", detail)


def check_reason(reason: str) -> str:
    code = reason.strip()
    if code not in vocab.REVEAL_REASONS:
        choices = "、".join(f"{k}（{v['name']}）" for k, v in vocab.REVEAL_REASONS.items())
        raise Problem(
            422,
            "unknown_reveal_reason",
            "Unknown reason",
            f"未知的查看理由“{code[:40]}”，可选：{choices}。",
        )
    return code


def reveal(
    rt: Runtime,
    number: str,
    actor: Actor,
    reason: str,
    scope: str = "phone",
    note: str | None = None,
) -> dict[str, Any]:
    """The customer's phone (or, for `pii.show` and scope `full`, every personal field)
    of one complaint, unmasked; audited."""
    p = as_principal(actor)
    if scope not in SCOPES:
        raise Problem(422, "invalid_value", "Invalid scope", "查看范围只能是 phone 或 full。")
    now = rt.clock()
    with write(rt.engine) as conn:
        row = load_visible(conn, number, p)
        why = basis(row.assignee, row.status, p)
        if why is None or (scope == "full" and why != "pii.show"):
            raise _refused(p, full=why is not None)
        code = check_reason(reason)
        name = vocab.REVEAL_REASONS[code]["name"]
        detail: dict[str, Any] = {"reason": code, "reason_name": name, "scope": scope, "basis": why}
        if note:
            detail["note"] = note
        audit(conn, p, now, "pii.show", "complaint", number, detail)
        customer: dict[str, Any] = {"phone": row.customer_phone}
        out: dict[str, Any] = {
            "number": number,
            "scope": scope,
            "reason": code,
            "reason_name": name,
            "basis": why,
            "customer": customer,
            "shown_to": p.name,
            "shown_at": iso(now),
        }
        if scope == "full":
            customer.update(
                name=row.customer_name,
                account=row.customer_account,
                province=row.customer_province,
                city=row.customer_city,
                area=row.customer_area,
            )
            out.update(description=row.description, demands=row.demands)
        return out
