"""The outbox as admins see it: messages by state and channel, one message, a dead
message sent again. Recipients are masked and one-time codes hidden (an admin sees that
a code went out, never the code); a resend is audited. Needs `outbox.manage`."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from kesu.accounts import masking
from kesu.accounts.audit import audit
from kesu.accounts.roles import Actor, as_principal, require
from kesu.channels import outbox
from kesu.problems import Problem, not_found
from kesu.store.db import read, write

if TYPE_CHECKING:
    from kesu.runtime import Runtime

PERMISSION = "outbox.manage"
CHANNELS = ("sms", "email", "webhook", "referral", "appeal_ref", "appeal_rec")
PAGE = 50


def _mask_address(channel: str, recipient: str) -> str:
    if channel == "sms":
        return masking.phone(recipient) or ""
    if channel == "email":
        local, _, domain = recipient.partition("@")
        return f"{local[:1]}***@{domain}"
    return recipient


def shown(m: dict[str, Any]) -> dict[str, Any]:
    """One message as the admin pages and the API show it."""
    body = m["body"]
    if m["purpose"] == "portal_code":
        body = re.sub(r"\d{4,8}", "••••••", body)
    else:
        body = masking.text(body) or ""
    return {
        "id": m["id"],
        "uid": m["uid"],
        "channel": m["channel"],
        "recipient": _mask_address(m["channel"], m["recipient"]),
        "subject": m["subject"],
        "purpose": m["purpose"],
        "body": body,
        "status": m["status"],
        "attempts": m["attempts"],
        "last_error": m["last_error"],
        "sink": m["sink"],
        "created_at": m["created_at"].isoformat(),
        "next_attempt_at": m["next_attempt_at"].isoformat() if m["status"] == "pending" else None,
        "sent_at": m["sent_at"].isoformat() if m["sent_at"] else None,
    }


def _check(status: str | None, channel: str | None) -> None:
    if status and status not in outbox.STATES:
        raise Problem(
            422, "invalid_value", "Invalid value", f"状态只能是 {'、'.join(outbox.STATES)}。"
        )
    if channel and channel not in CHANNELS:
        raise Problem(422, "invalid_value", "Invalid value", f"渠道只能是 {'、'.join(CHANNELS)}。")


def listing(
    rt: Runtime,
    actor: Actor,
    status: str | None = None,
    channel: str | None = None,
    before: int | None = None,
    limit: int = PAGE,
) -> dict[str, Any]:
    """The newest messages first; `next` is the `before` of the following page."""
    require(as_principal(actor), PERMISSION)
    _check(status, channel)
    with read(rt.engine) as conn:
        rows = outbox.listing(conn, status, channel, limit + 1, before)
    items = [shown(m) for m in rows[:limit]]
    return {
        "counts": outbox.counts(rt),
        "items": items,
        "next": items[-1]["id"] if len(rows) > limit else None,
    }


def message(rt: Runtime, actor: Actor, message_id: int) -> dict[str, Any]:
    require(as_principal(actor), PERMISSION)
    with read(rt.engine) as conn:
        m = outbox.one(conn, message_id)
    if m is None:
        raise not_found("消息", str(message_id))
    return shown(m)


def resend(rt: Runtime, actor: Actor, message_id: int) -> dict[str, Any]:
    """A dead message back in the queue (same id, attempts counted afresh), audited."""
    p = as_principal(actor)
    require(p, PERMISSION)
    now = rt.clock()
    with write(rt.engine) as conn:
        m = outbox.one(conn, message_id)
        if m is None:
            raise not_found("消息", str(message_id))
        if not outbox.resend(conn, now, message_id):
            raise Problem(
                409,
                "message_not_dead",
                "Not dead",
                "只有发送失败（已停止重试）的消息才能重发；这条消息"
                + ("已发出。" if m["status"] == "sent" else "仍在发送队列中。"),
            )
        audit(
            conn,
            p,
            now,
            "outbox.resend",
            "message",
            str(message_id),
            {"channel": m["channel"], "purpose": m["purpose"], "last_error": m["last_error"]},
        )
        again = outbox.one(conn, message_id)
    assert again is not None
    return shown(again)
