"""The appellant's own web form (the centre's 网上申诉): a user signed in to the portal
with their phone number and a one-time code appeals about that number. What 第十二条
asks for is asked; what is missing is named on the page and by SMS, and the acceptance
clock waits for it (appeals.service). A form sent twice registers one appeal (its
one-time token is the appeal's external reference)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from kesu.accounts import crypto, customers
from kesu.accounts.roles import Principal
from kesu.appeals import operators, service
from kesu.appeals.schemas import AppealIn
from kesu.channels.portal_words import customer_only
from kesu.problems import Problem, field_error

if TYPE_CHECKING:
    from kesu.runtime import Runtime

FIELDS = (
    "name",
    "phone",
    "address",
    "postcode",
    "operator",
    "request",
    "reasons",
    "facts",
    "dispute",
    "occurred_at",
    "complained_at",
    "operator_answered_at",
)
ACTOR = "portal-appeal"
LABELS = {
    "appellant.name": "姓名或名称",
    "appellant.phone": "手机号",
    "appellant.address": "地址",
    "appellant.postcode": "邮政编码",
    "operator": "被申诉企业",
    "request": "申诉要求",
    "reasons": "申诉理由",
    "facts": "事实根据",
    "dispute": "争议类型",
    "occurred_at": "争议发生日期",
    "complained_at": "向企业投诉的日期",
    "operator_answered_at": "企业答复的日期",
}


def operator_choices(rt: Runtime) -> list[dict[str, str]]:
    return [{"code": c, "name": n} for c, n in sorted(operators.names(rt).items())]


def _blank(value: Any) -> Any:
    return None if value in (None, "") else value


def submit(rt: Runtime, principal: Principal, data: dict[str, Any], token: str) -> dict[str, Any]:
    """Register the signed-in user's appeal; the appeal as the appellant sees it."""
    p = customer_only(principal)
    phone = customers.normalise(str(data.get("phone") or ""))
    if crypto.phone_hash(phone) != p.phone_hash:
        raise Problem(
            422,
            "phone_mismatch",
            "Phone mismatch",
            "您填写的手机号与登录时验证的手机号不一致，请填写您验证过的手机号。",
        )
    raw = {
        "appellant": {
            "name": _blank(data.get("name")),
            "phone": phone,
            "address": _blank(data.get("address")),
            "postcode": _blank(data.get("postcode")),
        },
        "operator": _blank(data.get("operator")),
        "request": _blank(data.get("request")),
        "reasons": _blank(data.get("reasons")),
        "facts": _blank(data.get("facts")),
        "dispute": data.get("dispute") or "other",
        "occurred_at": _blank(data.get("occurred_at")),
        "complained_at": _blank(data.get("complained_at")),
        "operator_answered_at": _blank(data.get("operator_answered_at")),
        "channel": "web",
        "external_ref": f"web-{token}" if token else None,
    }
    try:
        body = AppealIn.model_validate(raw)
    except ValidationError as err:
        errors = []
        for e in err.errors():
            found = field_error(e)
            label = LABELS.get(found["field"])
            if label:
                found["detail"] = found["detail"].replace(found["field"], label)
            errors.append(found)
        raise Problem(
            422,
            errors[0]["code"],
            "Invalid appeal",
            "；".join(e["detail"] for e in errors),
            errors=errors,
        ) from None
    view, _ = service.receive(rt, body, ACTOR)
    return {
        "number": view["number"],
        "status": view["status"],
        "status_name": view["status_name"],
        "missing": view["missing"],
        "deadlines": view["deadlines"],
        "verdict": view["verdict"],
    }
