"""What a customer does on the portal: submit, follow, add to and rate their complaints.

The customer is a principal of kind `customer` who proved a phone number with a
one-time code (`accounts.customers`); they see and act on the complaints
registered for that number only. Authorisation is here, not in the pages.

What a customer is shown is chosen here, field by field: the status in plain
words, the customer-facing events of the history (never internal notes, actor
names, triage, risk flags, teams, assignees or priorities), the reply once given,
the time limits in plain sentences and how to appeal.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlalchemy import func, select

from kesu.accounts import crypto, customers
from kesu.accounts import roles as r
from kesu.accounts.audit import audit
from kesu.accounts.roles import Principal
from kesu.clock import to_beijing
from kesu.complaints import service as complaints
from kesu.complaints import vocabulary as vocab
from kesu.complaints.schemas import ComplaintIn
from kesu.data_files import load_yaml
from kesu.problems import Problem
from kesu.store import tables as t
from kesu.store.db import read, write
from kesu.web.http import field_error

if TYPE_CHECKING:
    from kesu.runtime import Runtime

C = t.complaints.c

# -- operator policy ---------------------------------------------------------------
# Submissions on the portal per phone number in a rolling 24 hours.
SUBMISSIONS_PER_DAY = 5
SUBMISSION_WINDOW = timedelta(hours=24)
MAX_INFO = 2000
MAX_COMMENT = 500
RATINGS = ("satisfied", "basically_satisfied", "dissatisfied")
PORTAL_ACTOR = "portal"

# The status as the customer reads it: (Chinese, English).
STATUS_TEXT: dict[str, tuple[str, str]] = {
    "registered": ("已收到，等待受理", "Received, waiting to be accepted"),
    "accepted": ("正在处理", "Being handled"),
    "investigating": ("正在处理", "Being handled"),
    "proposed": ("正在处理", "Being handled"),
    "approved": ("正在处理", "Being handled"),
    "replied": ("已答复，请评价", "Answered — please rate our handling"),
    "callback": ("已回访", "Followed up"),
    "closed": ("已办结", "Closed"),
    "invalid": ("未予受理", "Not accepted"),
    "merged": ("已与另一件投诉合并处理", "Handled together with another complaint"),
}
# The coarse stage, for the page's progress marker.
STAGES = ("received", "handling", "answered", "done")
_STAGE = {
    "registered": "received",
    "accepted": "handling",
    "investigating": "handling",
    "proposed": "handling",
    "approved": "handling",
    "replied": "answered",
    "callback": "answered",
    "closed": "done",
    "invalid": "done",
    "merged": "done",
}

# The events a customer sees, in their words: (Chinese, English).
EVENT_TEXT: dict[str, tuple[str, str]] = {
    "registered": ("投诉已登记", "Complaint registered"),
    "accepted": ("已受理，开始处理", "Accepted; we are working on it"),
    "replied": ("已答复", "We replied"),
    "callback_done": ("已回访", "We followed up with you"),
    "closed": ("已办结", "Closed"),
    "reopened": ("重新处理", "Reopened"),
    "customer_info_added": ("您补充了信息", "You added information"),
    "customer_rated": ("您评价了处理结果", "You rated the handling"),
    "attachment_added": ("您上传了证据", "You added evidence"),
}
NOT_OPEN = frozenset({"closed", "invalid", "merged"})


# -- what the customer is and may do -------------------------------------------------


def _customer(principal: Principal) -> Principal:
    if principal.kind != "customer" or not principal.phone_hash:
        raise Problem(
            403,
            "customers_only",
            "Customers only",
            "投诉门户供客户使用：请先用手机号和验证码登录。",
        )
    return principal


def _actor(principal: Principal) -> Principal:
    """The trusted portal code acting for the customer (keeps the customer's address)."""
    return replace(r.system(PORTAL_ACTOR), ip=principal.ip)


@lru_cache(maxsize=1)
def categories() -> list[dict[str, str]]:
    """The plain-words choices of data/web/portal_categories.yaml, checked against the codes."""
    items = load_yaml("web/portal_categories.yaml")
    codes = [c["code"] for c in items]
    if sorted(codes) != sorted(vocab.CATEGORIES) or len(set(codes)) != len(codes):
        raise ValueError("web/portal_categories.yaml must list every category exactly once")
    return [{"code": c["code"], "zh": c["zh"], "en": c.get("en") or c["zh"]} for c in items]


def category_words(code: str | None) -> dict[str, str] | None:
    return next((c for c in categories() if c["code"] == code), None)


# -- time limits in plain words --------------------------------------------------------


def _day_zh(moment: datetime) -> str:
    return f"{moment.year}年{moment.month}月{moment.day}日"


def _due_words(due_at: str) -> tuple[str, str]:
    """'2026年12月13日 24:00' and '24:00 on 13 Dec 2026': a period ending at the end of
    a day is shown as 24:00 of that day, as the Civil Code counts it."""
    due = to_beijing(datetime.fromisoformat(due_at))
    if (due.hour, due.minute, due.second) == (23, 59, 59):
        return f"{_day_zh(due)} 24:00", f"24:00 on {due.day} {due:%b} {due.year}"
    return f"{_day_zh(due)} {due:%H:%M}", f"{due:%H:%M} on {due.day} {due:%b} {due.year}"


def _customer_facing(rt: Runtime, d: dict[str, Any]) -> bool:
    """Not the internal SLAs that depend on the priority (it would tell the risk flags)."""
    rule = rt.rules.get(d["rule"])
    return rule is None or "priority" not in rule.when


def plain_deadline(rt: Runtime, d: dict[str, Any], now: datetime) -> dict[str, Any]:
    """One deadline as the customer reads it."""
    rule = rt.rules.get(d["rule"])
    met_by = rule.met_by if rule is not None else frozenset({"reply"})
    if rule is not None and rule.kinds <= {"fault"}:
        what, verb_zh, verb_en = "repair", "修复或调通障碍", "repair the fault"
    elif "accept" in met_by and "reply" not in met_by:
        what, verb_zh, verb_en = (
            "accept",
            "受理您的投诉并告知处理流程和时限",
            "acknowledge your complaint",
        )
    else:
        what, verb_zh, verb_en = "answer", "答复您", "answer you"
    when_zh, when_en = _due_words(d["due_at"])
    basis = [b for b in d.get("basis") or [] if not b.get("policy") and b.get("article")]
    statutory = bool(d.get("statutory")) and bool(basis)
    if statutory:
        cites = "、".join(
            b.get("citation") or f"《{b['regulation']}》{b['article']}" for b in basis
        )
        why_zh, why_en = f"依据{cites}", f"as required by {cites}"
    else:
        why_zh, why_en = "运营商承诺", "our own commitment, not a legal time limit"
    past = datetime.fromisoformat(d["due_at"]) < now
    if past:
        zh = f"我们应在 {when_zh} 前{verb_zh}（{why_zh}）"
        en = f"We were to {verb_en} by {when_en} ({why_en})"
    else:
        zh = f"我们将在 {when_zh} 前{verb_zh}（{why_zh}）"
        en = f"We will {verb_en} by {when_en} ({why_en})"
    if d.get("estimated"):
        zh += "；节假日安排尚未公布，日期按预估计算"
        en += "; the holiday schedule is not yet published, so the date is an estimate"
    return {
        "what": what,
        "name": d["name"],
        "due_at": d["due_at"],
        "statutory": statutory,
        "met": d.get("met_at") is not None,
        "past": past,
        "plain": zh + "。",
        "plain_en": en + ".",
    }


def _deadlines(rt: Runtime, view: dict[str, Any], only_open: bool) -> list[dict[str, Any]]:
    """The customer's time limits: for each thing we owe them (acknowledge, answer) the
    earliest that binds us, e.g. Henan's 5 working days rather than the national 15 days."""
    now = rt.clock()
    earliest: dict[str, dict[str, Any]] = {}
    rows = sorted(view.get("deadlines") or [], key=lambda d: datetime.fromisoformat(d["due_at"]))
    for d in rows:
        if not _customer_facing(rt, d):
            continue
        if only_open and d.get("met_at") is not None:
            continue
        plain = plain_deadline(rt, d, now)
        earliest.setdefault(plain["what"], plain)
    return list(earliest.values())


# -- appeal ------------------------------------------------------------------------------


def appeal_info(rt: Runtime, province: str | None = None) -> dict[str, Any]:
    """How to appeal, quoted from data/law/replies.yaml (national text, and the province's
    own paragraph where its regulation sets one)."""
    common = load_yaml("law/replies.yaml")["common"]
    text = str(common["recourse"])
    heading, _, body = text.partition("\n")
    local = (common.get("recourse_by_province") or {}).get(province or "")
    return {
        "heading": heading if body else "",
        "text": body or text,
        "citations": list(common.get("recourse_citations") or []),
        "province": province if local else None,
        "province_text": local["text"] if local else None,
        "province_citations": list(local.get("citations") or []) if local else [],
        "hotline": _hotline(rt),
    }


def _hotline(rt: Runtime) -> str | None:
    """The operator's hotline when one is configured (not the 【placeholder】)."""
    value = (rt.settings.hotline or "").strip()
    return value if value and not value.startswith("【") else None


# -- submit ------------------------------------------------------------------------------


def _request_hash(body: dict[str, Any]) -> str:
    return hashlib.sha256(
        json.dumps(body, sort_keys=True, ensure_ascii=False, default=str).encode()
    ).hexdigest()


def _key(principal: Principal, token: str | None) -> str | None:
    """An idempotency key of this customer's form (a resubmitted form registers once)."""
    if not token or not re.fullmatch(r"[0-9a-zA-Z_-]{8,64}", token):
        return None
    return f"portal:{principal.phone_hash[:16]}:{token}"


def _invalid(err: ValidationError) -> Problem:
    errors = [field_error(e) for e in err.errors()]  # type: ignore[arg-type]
    first = errors[0]
    return Problem(422, first["code"], "Invalid input", first["detail"], errors=errors)


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
    p = _customer(principal)
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
    try:
        valid = ComplaintIn.model_validate(body)
    except ValidationError as err:
        raise _invalid(err) from None
    key = _key(p, token)
    now = rt.clock()
    with read(rt.engine) as conn:
        replay = (
            key is not None and conn.execute(select(C.id).where(C.idempotency_key == key)).first()
        )
        if not replay:
            _check_rate(conn, p.phone_hash, now)
    view, created = complaints.register(rt, valid.model_dump(), _actor(p), key, _request_hash(body))
    if created:
        with write(rt.engine) as conn:
            audit(conn, p, now, "portal.submit", "complaint", view["number"], {"channel": "web"})
    return {
        "number": view["number"],
        "received_at": view["received_at"],
        "created": created,
        "category": view.get("category"),
        "deadlines": _deadlines(rt, view, only_open=False),
    }


def _check_rate(conn, phone_hash: str | None, now: datetime) -> None:
    since = now - SUBMISSION_WINDOW
    n, oldest = conn.execute(
        select(func.count(), func.min(C.received_at)).where(
            C.customer_phone_hash == phone_hash,
            C.channel == "web",
            C.received_at > since,
        )
    ).one()
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


# -- read --------------------------------------------------------------------------------


def _status(code: str) -> dict[str, str]:
    zh, en = STATUS_TEXT.get(code, ("正在处理", "Being handled"))
    return {"status": code, "status_text": zh, "status_text_en": en, "stage": _STAGE.get(code, "")}


def my_complaints(rt: Runtime, principal: Principal) -> list[dict[str, Any]]:
    """The customer's complaints, newest first (at most 100)."""
    p = _customer(principal)
    found = complaints.list_complaints(rt, {"limit": 100, "sort": "received"}, p)
    out = []
    for c in found["items"]:
        words = category_words(c.get("category"))
        out.append(
            {
                "number": c["number"],
                "received_at": c["received_at"],
                "category": c.get("category"),
                "category_text": words["zh"] if words else None,
                "category_text_en": words["en"] if words else None,
                **_status(c["status"]),
            }
        )
    return out


def _customer_attachment_ids(attachments: list[dict[str, Any]]) -> set[int]:
    return {a["id"] for a in attachments if a.get("source") == "customer"}


def _timeline(events: list[dict[str, Any]], mine: set[int]) -> list[dict[str, Any]]:
    out = []
    for e in events:
        kind = e["type"]
        if kind not in EVENT_TEXT:
            continue
        if kind == "callback_done" and e.get("actor") == PORTAL_ACTOR:
            continue  # the customer's own rating, shown as customer_rated
        data = e.get("data") or {}
        if kind == "attachment_added" and data.get("attachment_id") not in mine:
            continue  # evidence staff added stays internal
        zh, en = EVENT_TEXT[kind]
        item: dict[str, Any] = {"type": kind, "at": e["at"], "text": zh, "text_en": en}
        if kind == "customer_info_added":
            item["note"] = e.get("note")
        elif kind == "customer_rated":
            result = data.get("result")
            item["result"] = result
            item["note"] = e.get("note")
        elif kind == "attachment_added":
            item["filename"] = data.get("filename")
        out.append(item)
    return out


def _reply(view: dict[str, Any], events: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The text of the last reply sent (never a resolution still being drafted)."""
    for e in reversed(events):
        if e["type"] == "replied":
            changes = (e.get("data") or {}).get("changes") or {}
            text = changes.get("resolution") or view.get("resolution")
            return {"text": text, "at": e["at"]} if text else None
    return None


def _rating(events: list[dict[str, Any]]) -> dict[str, Any] | None:
    for e in reversed(events):
        if e["type"] == "customer_rated":
            return {"result": (e.get("data") or {}).get("result"), "at": e["at"]}
        if e["type"] == "reopened":
            return None
    return None


def _reason(view: dict[str, Any]) -> dict[str, str] | None:
    """Why a complaint was not accepted: the customer is told (PRODUCT: validity)."""
    entry = vocab.VALIDITY_REASONS.get(view.get("invalid_reason") or "")
    return {"zh": entry["name"], "en": entry.get("en") or entry["name"]} if entry else None


def detail(rt: Runtime, principal: Principal, number: str) -> dict[str, Any]:
    """One of the customer's complaints, with only what a customer is shown."""
    from kesu.complaints import attachments

    p = _customer(principal)
    view = complaints.get(rt, number, p)
    events = complaints.events(rt, number, p)
    files = attachments.list_for(rt, number, p)
    mine = _customer_attachment_ids(files)
    words = category_words(view.get("category"))
    status = view["status"]
    province = (view.get("customer") or {}).get("province")
    reply = _reply(view, events) if view.get("replied_at") else None
    rating = _rating(events)
    dissatisfied = (rating or {}).get("result") == "dissatisfied" or (
        view.get("callback_result") == "dissatisfied"
    )
    return {
        "number": view["number"],
        "received_at": view["received_at"],
        "category": view.get("category"),
        "category_text": words["zh"] if words else None,
        "category_text_en": words["en"] if words else None,
        "description": view.get("description"),
        "demands": view.get("demands"),
        **_status(status),
        "invalid_reason": _reason(view) if status == "invalid" else None,
        "open": status not in NOT_OPEN,
        "deadlines": _deadlines(rt, view, only_open=True) if status not in NOT_OPEN else [],
        "reply": reply,
        "rating": rating,
        "can_rate": status == "replied",
        "can_add": status not in NOT_OPEN,
        # How to appeal: shown up front to a dissatisfied customer, on request otherwise.
        "appeal": appeal_info(rt, province) if dissatisfied else None,
        "recourse": appeal_info(rt, province),
        "timeline": _timeline(events, mine),
        "attachments": [
            {
                "id": a["id"],
                "filename": a["filename"],
                "size": a["size"],
                "uploaded_at": a["uploaded_at"],
            }
            for a in files
            if a["id"] in mine
        ],
    }


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
    p = _customer(principal)
    text = (text or "").strip()
    if not text:
        raise Problem(422, "text_empty", "Text empty", "请填写要补充的内容。")
    if len(text) > MAX_INFO:
        raise Problem(
            422, "text_too_long", "Text too long", f"补充内容最多 {MAX_INFO} 个字，请分次提交。"
        )
    now = rt.clock()
    with write(rt.engine) as conn:
        row = complaints.load_visible(conn, number, p, lock=True)
        if row.status in NOT_OPEN:
            raise _closed(number, row.status)
        # The text goes in the event's note (shown to the handler in the history, masked
        # on read like every note); record_event() has no note, hence _event().
        complaints._event(
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
    p = _customer(principal)
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
        row = complaints.load_visible(conn, number, p)
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
    complaints.transition(
        rt,
        number,
        "callback",
        {"result": result, "note": "客户在投诉门户自助评价"},
        _actor(p),
        version,
    )
    now = rt.clock()
    with write(rt.engine) as conn:
        row = complaints.load_visible(conn, number, p)
        complaints._event(
            conn, row.id, now, "customer_rated", p.name, None, None, comment, {"result": result}
        )
        audit(conn, p, now, "portal.rated", "complaint", number, {"result": result})
    return {
        "number": number,
        "result": result,
        "appeal": appeal_info(rt, province) if result == "dissatisfied" else None,
    }
