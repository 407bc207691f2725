"""What a customer does on the portal: submit a complaint about their own number, add
information to an open one, rate the reply. Every submission goes through the one
registration (channels.intake → complaints.registration), like every channel.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

from kesu.accounts import crypto, customers
from kesu.accounts.audit import audit
from kesu.accounts.roles import Principal
from kesu.appeals.recourse import appeal_info
from kesu.channels import intake, notices
from kesu.channels.portal_words import (
    MAX_COMMENT,
    MAX_INFO,
    NOT_OPEN,
    RATINGS,
    STATUS_TEXT,
    SUBMISSION_WINDOW,
    SUBMISSIONS_PER_DAY,
    acting_for,
    customer_only,
    deadlines_in_words,
)
from kesu.clock import to_beijing
from kesu.complaints import events, lookups, queries, transitions
from kesu.complaints import vocabulary as vocab
from kesu.problems import Problem
from kesu.store import gates
from kesu.store.db import read, write

if TYPE_CHECKING:
    from kesu.runtime import Runtime


# -- submit ------------------------------------------------------------------------------


def _key(principal: Principal, token: str | None) -> str | None:
    """An idempotency key of this customer's form (a resubmitted form registers once)."""
    if not token or not re.fullmatch(r"[0-9a-zA-Z_-]{8,64}", token):
        return None
    return f"portal:{principal.phone_hash[:16]}:{token}"


def _text(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def submit(
    rt: Runtime, principal: Principal, data: dict[str, Any], token: str | None = None
) -> dict[str, Any]:
    """Register a complaint of the signed-in customer about their own number.

    data: phone (must be the verified number), description, and optionally
    category (a code from portal_categories.yaml; empty lets triage decide),
    demands, name (how to address them), province. `token`: the form's one-time
    token, so a form sent twice registers one complaint.
    """
    p = customer_only(principal)
    phone = customers.normalise(str(data.get("phone") or ""))
    if crypto.phone_hash(phone) != p.phone_hash:
        raise Problem(
            422,
            "phone_mismatch",
            "Phone mismatch",
            "您填写的手机号与登录时验证的手机号不一致。请填写您验证过的手机号；"
            "如需为其他号码投诉，请用该号码重新登录。",
        )
    category = _text(data, "category")
    if category is not None and category not in vocab.CATEGORIES:
        raise Problem(422, "unknown_category", "Unknown category", "请从列表中选择投诉的问题类型。")
    customer = {"phone": phone}
    for key in ("name", "province"):
        if value := _text(data, key):
            customer[key] = value
    body: dict[str, Any] = {
        "channel": "web",
        "kind": "complaint",
        "customer": customer,
        "description": _text(data, "description") or "",
    }
    if category:
        body["category"] = category
    if demands := _text(data, "demands"):
        body["demands"] = demands
    valid = intake.validate(body)
    key = _key(p, token)
    now = rt.clock()
    with read(rt.engine) as conn:
        replay = key is not None and intake.key_used(conn, key)
        if not replay:
            _check_rate(conn, p.phone_hash, now)
    phone_hash = p.phone_hash

    def guard(conn, at: datetime) -> None:
        # In the registration's write transaction, under a row lock per number: the
        # count read here includes every submission committed before, none is missed.
        gates.hold(conn, f"submit:{(phone_hash or '')[:40]}")
        if key is None or not intake.key_used(conn, key):
            _check_rate(conn, phone_hash, at)

    view, created = intake.receive(rt, valid, acting_for(p), key, intake.request_hash(body), guard)
    if created:
        with write(rt.engine) as conn:
            audit(conn, p, now, "portal.submit", "complaint", view["number"], {"channel": "web"})
    return {
        "number": view["number"],
        "received_at": view["received_at"],
        "created": created,
        "category": view.get("category"),
        "deadlines": deadlines_in_words(rt, view, only_open=False),
    }


def _check_rate(conn, phone_hash: str | None, now: datetime) -> None:
    since = now - SUBMISSION_WINDOW
    n, oldest = lookups.received_since(conn, phone_hash, "web", since, hashed=True)
    if n < SUBMISSIONS_PER_DAY:
        return
    wait = max(60, int((oldest + SUBMISSION_WINDOW - now).total_seconds()) + 1)
    hours, minutes = divmod((wait + 59) // 60, 60)
    span = f"{hours}小时{minutes}分钟" if hours else f"{minutes}分钟"
    raise Problem(
        429,
        "portal_rate_limited",
        "Too many submissions",
        f"同一手机号24小时内最多在网上提交{SUBMISSIONS_PER_DAY}件投诉，请约{span}后再试；"
        "如情况紧急，请拨打客服热线。已提交的投诉可以在“我的投诉”中补充信息。",
        retry_after=wait,
    )


# -- change ------------------------------------------------------------------------------


def _closed(number: str, status: str) -> Problem:
    return Problem(
        409,
        "complaint_closed",
        "Complaint closed",
        f"投诉 {number} {STATUS_TEXT[status][0]}，不能再补充信息；如有新的问题，请重新提交投诉。",
    )


def add_information(rt: Runtime, principal: Principal, number: str, text: str) -> dict[str, Any]:
    """The customer adds to their open complaint: an event `customer_info_added`."""
    p = customer_only(principal)
    text = (text or "").strip()
    if not text:
        raise Problem(422, "text_empty", "Text empty", "请填写要补充的内容。")
    if len(text) > MAX_INFO:
        raise Problem(
            422, "text_too_long", "Text too long", f"补充内容最多 {MAX_INFO} 个字，请分次提交。"
        )
    now = rt.clock()
    with write(rt.engine) as conn:
        row = queries.load_visible(conn, number, p, lock=True)
        if row.status in NOT_OPEN:
            raise _closed(number, row.status)
        # The text goes in the event's note (shown to the handler in the history, masked
        # on read like every note); record_event() has no note, hence _event().
        events.append(
            conn,
            row.id,
            now,
            "customer_info_added",
            p.name,
            None,
            None,
            text,
            {"chars": len(text), "source": "portal"},
        )
        audit(conn, p, now, "portal.info_added", "complaint", number, {"chars": len(text)})
    return {"number": number, "at": to_beijing(now).isoformat()}


def rate(
    rt: Runtime,
    principal: Principal,
    number: str,
    result: str,
    comment: str | None = None,
) -> dict[str, Any]:
    """The customer rates the reply: the callback of the lifecycle, done by the portal.

    Only while the complaint is answered and not yet followed up (status replied).
    A dissatisfied customer is told how to appeal.
    """
    p = customer_only(principal)
    if result not in RATINGS:
        raise Problem(
            422,
            "invalid_rating",
            "Invalid rating",
            "请选择评价：满意、基本满意或不满意。",
        )
    comment = (comment or "").strip() or None
    if comment is not None and len(comment) > MAX_COMMENT:
        raise Problem(422, "text_too_long", "Text too long", f"评价意见最多 {MAX_COMMENT} 个字。")
    with read(rt.engine) as conn:
        row = queries.load_visible(conn, number, p)
        version, status, province = row.version, row.status, row.customer_province
    if status != "replied":
        raise Problem(
            409,
            "rating_not_open",
            "Rating not open",
            "投诉答复后才能评价；已评价或已回访的投诉不能再次评价。"
            if status not in NOT_OPEN
            else f"投诉 {number} {STATUS_TEXT[status][0]}，不能再评价。",
        )
    transitions.transition(
        rt,
        number,
        "callback",
        {"result": result, "survey_how": "portal", "note": "客户在投诉门户自助评价"},
        acting_for(p),
        version,
    )
    now = rt.clock()
    with write(rt.engine) as conn:
        row = queries.load_visible(conn, number, p)
        events.append(
            conn, row.id, now, "customer_rated", p.name, None, None, comment, {"result": result}
        )
        audit(conn, p, now, "portal.rated", "complaint", number, {"result": result})
    return {
        "number": number,
        "result": result,
        "appeal": appeal_info(rt, province) if result == "dissatisfied" else None,
    }


def essential_only(rt: Runtime, p: Principal) -> bool:
    """Whether this customer asked for the essential messages only."""
    customer_only(p)
    with read(rt.engine) as conn:
        return notices.opted_out_hash(conn, p.phone_hash or "")


def choose_messages(rt: Runtime, p: Principal, only_essential: bool) -> None:
    """The customer's choice of SMS: every step, or only acceptance and the answer."""
    customer_only(p)
    now = rt.clock()
    with write(rt.engine) as conn:
        notices.set_opt_out_hash(conn, p.phone_hash or "", only_essential, now)
        audit(
            conn,
            p,
            now,
            "portal.messages",
            "phone",
            (p.phone_hash or "")[:12],
            {"essential_only": only_essential},
        )
