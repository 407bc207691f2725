"""Webhook subscriptions for admins (`outbox.manage`): list, create (the secret shown
once), change (URL, events, paused or active), delete, a test delivery, the delivery log.
Every change is audited; the secret is never shown again after creation."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from kesu.accounts.audit import audit
from kesu.accounts.roles import Actor, as_principal, require
from kesu.channels import webhooks
from kesu.problems import Problem, not_found
from kesu.store.db import read, write

if TYPE_CHECKING:
    from kesu.runtime import Runtime

PERMISSION = "outbox.manage"
MIN_SECRET = 16
# http or https, a host name or IPv4 address, an optional port; path and query in printable
# ASCII (a Chinese path is percent-encoded). The API's schema states the same patterns.
_URL = r"https?://[A-Za-z0-9][A-Za-z0-9.\-]*(:[0-9]{1,5})?([/?#][!-~]*)?"
_SECRET = r"[!-~]{16,200}"  # printable ASCII, no space
URL_PATTERN, SECRET_PATTERN = f"^{_URL}$", f"^{_SECRET}$"


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def shown(s: dict[str, Any]) -> dict[str, Any]:
    """One subscription as the API and the page show it (never its secret)."""
    return {
        "id": s["id"],
        "url": s["url"],
        "events": list(s["events"]),
        "state": s["state"],
        "created_by": s["created_by"],
        "created_at": _iso(s["created_at"]),
        "failing_since": _iso(s["failing_since"]),
        "last_error": s["last_error"],
        "paused_at": _iso(s["paused_at"]),
        "pause_reason": s["pause_reason"],
        "paused_automatically": s["pause_reason"] == "auto",
    }


def delivery(m: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": m["id"],
        "delivery": m["uid"],
        "event": m["purpose"].removeprefix(webhooks.PURPOSE),
        "status": m["status"],
        "attempts": m["attempts"],
        "last_error": m["last_error"],
        "created_at": _iso(m["created_at"]),
        "next_attempt_at": _iso(m["next_attempt_at"]) if m["status"] == "pending" else None,
        "sent_at": _iso(m["sent_at"]),
    }


def check_url(url: Any) -> str:
    url = url if isinstance(url, str) else ""
    if len(url) > 500 or not re.fullmatch(_URL, url) or not urlsplit(url).hostname:
        raise Problem(
            422,
            "invalid_webhook_url",
            "Invalid webhook URL",
            "推送地址须为 http:// 或 https:// 开头的完整网址（500 个字符以内，"
            "中文等字符须先进行百分号编码）。",
            field="url",
        )
    return url


def check_events(events: Any) -> list[str]:
    chosen = list(events) if isinstance(events, Iterable) and not isinstance(events, str) else []
    if not chosen or any(e not in webhooks.EVENTS for e in chosen):
        raise Problem(
            422,
            "invalid_webhook_events",
            "Invalid webhook events",
            f"请至少选择一个事件，事件只能是 {'、'.join(webhooks.EVENTS)}。",
            field="events",
        )
    return [e for e in webhooks.EVENTS if e in chosen]  # the fixed order, each once


def _secret(given: str | None) -> str:
    if given is None:
        return secrets.token_urlsafe(32)
    if not isinstance(given, str) or not re.fullmatch(_SECRET, given):
        raise Problem(
            422,
            "invalid_webhook_secret",
            "Invalid webhook secret",
            f"签名密钥须为 {MIN_SECRET}–200 个英文字母、数字或符号（不含空格）；留空则由系统生成。",
            field="secret",
        )
    return given


def _one(conn: Any, subscription_id: int) -> dict[str, Any]:
    s = webhooks.get(conn, subscription_id)
    if s is None:
        raise not_found("推送订阅", str(subscription_id))
    return s


def listing(rt: Runtime, actor: Actor) -> dict[str, Any]:
    require(as_principal(actor), PERMISSION)
    with read(rt.engine) as conn:
        items = [shown(s) for s in webhooks.listing(conn)]
    return {"items": items, "events": list(webhooks.EVENTS)}


def one(rt: Runtime, actor: Actor, subscription_id: int) -> dict[str, Any]:
    require(as_principal(actor), PERMISSION)
    with read(rt.engine) as conn:
        return shown(_one(conn, subscription_id))


def create(
    rt: Runtime, actor: Actor, url: Any, events: Any, secret: str | None = None
) -> dict[str, Any]:
    """A new active subscription; the answer carries its secret, this once."""
    p = as_principal(actor)
    require(p, PERMISSION)
    url, chosen, key = check_url(url), check_events(events), _secret(secret)
    now = rt.clock()
    with write(rt.engine) as conn:
        sid = webhooks.insert(conn, now, url, key, chosen, p.name)
        audit(
            conn,
            p,
            now,
            "webhook.create",
            "webhook",
            str(sid),
            {"url": url, "events": chosen, "secret_given": bool(secret)},
        )
        return {**shown(_one(conn, sid)), "secret": key}


def change(
    rt: Runtime,
    actor: Actor,
    subscription_id: int,
    url: Any = None,
    events: Any = None,
    active: bool | None = None,
) -> dict[str, Any]:
    """URL or events changed; `active` False pauses it, True resumes it (what waited, and
    what died while it was failing, goes out again)."""
    p = as_principal(actor)
    require(p, PERMISSION)
    values: dict[str, Any] = {}
    if url is not None:
        values["url"] = check_url(url)
    if events is not None:
        values["events"] = check_events(events)
    now = rt.clock()
    with write(rt.engine) as conn:
        before = _one(conn, subscription_id)
        if values:
            webhooks.change(conn, subscription_id, **values)
        detail: dict[str, Any] = {k: [before[k], v] for k, v in values.items() if before[k] != v}
        if active is False and webhooks.pause(conn, now, subscription_id, f"由 {p.name} 暂停"):
            detail["state"] = ["active", "paused"]
        if active is True and before["state"] == "paused":
            detail["state"] = ["paused", "active"]
            detail["messages_again"] = webhooks.resume(conn, now, subscription_id)
        if detail:
            audit(conn, p, now, "webhook.change", "webhook", str(subscription_id), detail)
        return shown(_one(conn, subscription_id))


def delete(rt: Runtime, actor: Actor, subscription_id: int) -> None:
    p = as_principal(actor)
    require(p, PERMISSION)
    now = rt.clock()
    with write(rt.engine) as conn:
        s = _one(conn, subscription_id)
        webhooks.remove(conn, subscription_id)
        audit(
            conn,
            p,
            now,
            "webhook.delete",
            "webhook",
            str(subscription_id),
            {"url": s["url"], "events": s["events"]},
        )


def test(rt: Runtime, actor: Actor, subscription_id: int) -> dict[str, Any]:
    """A `ping` queued for this one subscription; the delivery log shows how it went."""
    p = as_principal(actor)
    require(p, PERMISSION)
    now = rt.clock()
    with write(rt.engine) as conn:
        _one(conn, subscription_id)
        uid = webhooks.ping(conn, now, subscription_id)
        audit(conn, p, now, "webhook.test", "webhook", str(subscription_id), {"delivery": uid})
    return {"delivery": uid, "event": webhooks.PING}


def deliveries(rt: Runtime, actor: Actor, subscription_id: int, limit: int = 50) -> dict[str, Any]:
    require(as_principal(actor), PERMISSION)
    with read(rt.engine) as conn:
        _one(conn, subscription_id)
        rows = webhooks.deliveries(conn, subscription_id, limit)
    return {"items": [delivery(m) for m in rows]}
