"""The customer portal's words and rules: what a customer is told (statuses, stages,
events, categories and time limits in plain sentences) and the operator's portal
policy (submissions per day, text limits, ratings), plus who may use the portal.

The portal (`channels.portal` for what a customer does, `channels.portal_track` for
what they are shown of their complaints) is the channel through which customers
reach kesu themselves. A customer is a principal of kind `customer` who proved a
phone number with a one-time code (`accounts.customers`); they see and act on the
complaints registered for that number only. Authorisation is here, not in the pages.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from kesu.accounts import roles as r
from kesu.accounts.roles import Principal
from kesu.clock import to_beijing
from kesu.complaints import lifecycle
from kesu.complaints import vocabulary as vocab
from kesu.data_files import load_yaml
from kesu.problems import Problem

if TYPE_CHECKING:
    from kesu.runtime import Runtime


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
    "split_off": (
        "您反映的另一个问题已另行登记处理",
        "Your other problem became a complaint of its own",
    ),
    "split_from": ("由您此前反映的问题另行登记", "Registered from a problem you raised earlier"),
}
NOT_OPEN = lifecycle.TERMINAL_STATUSES


# -- what the customer is and may do -------------------------------------------------


def customer_only(principal: Principal) -> Principal:
    if principal.kind != "customer" or not principal.phone_hash:
        raise Problem(
            403,
            "customers_only",
            "Customers only",
            "投诉门户供客户使用：请先用手机号和验证码登录。",
        )
    return principal


def acting_for(principal: Principal) -> Principal:
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
    if any((b.get("sla_scope") or {}).get("priority") for b in d.get("basis") or ()):
        return False  # an SLA policy narrowed to a priority set its period
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
        cites = "、".join(b["citation"] for b in basis)  # law's Citation.text
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


def deadlines_in_words(rt: Runtime, view: dict[str, Any], only_open: bool) -> list[dict[str, Any]]:
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


def status_words(code: str) -> dict[str, str]:
    zh, en = STATUS_TEXT.get(code, ("正在处理", "Being handled"))
    return {"status": code, "status_text": zh, "status_text_en": en, "stage": _STAGE.get(code, "")}
