"""What a customer is shown of their complaints on the portal, field by field: the
status in plain words, the customer-facing events of the history (never internal
notes, actor names, triage, risk flags, teams, assignees or priorities), the reply
once given, the time limits in plain sentences and how to appeal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kesu.accounts.roles import Principal
from kesu.appeals.recourse import appeal_info
from kesu.channels.portal_words import (
    EVENT_TEXT,
    NOT_OPEN,
    PORTAL_ACTOR,
    category_words,
    customer_only,
    deadlines_in_words,
    status_words,
)
from kesu.complaints import queries
from kesu.complaints import vocabulary as vocab

if TYPE_CHECKING:
    from kesu.runtime import Runtime


# -- read --------------------------------------------------------------------------------


def my_complaints(rt: Runtime, principal: Principal) -> list[dict[str, Any]]:
    """The customer's complaints, newest first (at most 100)."""
    p = customer_only(principal)
    found = queries.list_complaints(rt, {"limit": 100, "sort": "received"}, p)
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
                **status_words(c["status"]),
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

    p = customer_only(principal)
    view = queries.get(rt, number, p)
    events = queries.events(rt, number, p)
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
        **status_words(status),
        "invalid_reason": _reason(view) if status == "invalid" else None,
        "open": status not in NOT_OPEN,
        "deadlines": deadlines_in_words(rt, view, only_open=True) if status not in NOT_OPEN else [],
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
