"""Webhooks out: complaint events sent to the URLs admins subscribed, through the outbox.

`emit(conn, now, event, complaint)` is called in the transaction of the change (a
registration, a status change, a deadline warning or breach): one outbox message per
active subscription to that event (channel "webhook", recipient the subscription's id),
its body the JSON payload — the event and the complaint's number, status, kind,
category, team, priority and next due time, never the customer's data.

The webhook sender (channels.senders.WebhookSender) reads the subscription's current URL
and secret at send time, signs `<timestamp>.<body>` with HMAC-SHA256, and reports back
here: a failure starts (or continues) `failing_since`, a success clears it, and a
subscription failing for more than a day is paused in one conditional UPDATE, audited.
A paused subscription's messages wait in the outbox (held, not counted as attempts)
until it is resumed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, and_, delete, func, literal, or_, select, update

from kesu.accounts.audit import audit
from kesu.channels import outbox, staff_notices
from kesu.clock import BEIJING
from kesu.store import tables as t
from kesu.store.db import read, write

if TYPE_CHECKING:
    from kesu.runtime import Runtime

W = t.webhook_subscriptions.c
N = t.notifications.c
EVENTS = ("registered", "status_changed", "deadline_warning", "deadline_breached", "closed")
PING = "ping"
STATES = ("active", "paused")
PAUSE_AFTER = timedelta(days=1)  # failing this long pauses a subscription
HOLD = timedelta(hours=1)  # a paused subscription's messages are looked at again after
COMPLAINT_FIELDS = ("number", "status", "kind", "category", "team", "priority", "next_due_at")
PURPOSE = "webhook."  # + the event: the outbox message's purpose


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(BEIJING).isoformat()


def _field(row: Any, name: str) -> Any:
    value = row.get(name) if isinstance(row, Mapping) else getattr(row, name, None)
    return _iso(value) if isinstance(value, datetime) else value


def complaint_part(row: Any) -> dict[str, Any]:
    """What a webhook says of a complaint (a row, a mapping or a namespace): no personal data."""
    return {name: _field(row, name) for name in COMPLAINT_FIELDS}


def payload(event: str, now: datetime, event_id: str, **parts: Any) -> str:
    body = {"id": event_id, "event": event, "occurred_at": _iso(now), **parts}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>`: HMAC-SHA256 of `<timestamp>.<body>` with the subscription's secret."""
    signed = timestamp.encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def _subscribers(conn: Connection, event: str) -> list[int]:
    rows = conn.execute(select(W.id, W.events).where(W.state == "active").order_by(W.id))
    return [r.id for r in rows if event in (r.events or [])]


def emit_many(
    conn: Connection,
    now: datetime,
    event: str,
    complaints: Iterable[Any] | Callable[[], Iterable[Any]],
    extra: Mapping[str, Any] | None = None,
) -> list[str]:
    """Queue `event` of each complaint for every active subscription to it, in the
    caller's transaction. `complaints` may be a callable, asked only when someone
    subscribed. Returns the outbox ids."""
    assert event in EVENTS, event
    subs = _subscribers(conn, event)
    if not subs:
        return []
    rows = complaints() if callable(complaints) else complaints
    uids = []
    for row in rows:
        body = payload(event, now, uuid.uuid4().hex, complaint=complaint_part(row), **(extra or {}))
        for sid in subs:
            uids.append(
                outbox.enqueue(
                    conn, now, "webhook", str(sid), body, PURPOSE + event, webhook_id=sid
                )
            )
    return uids


def emit(
    conn: Connection,
    now: datetime,
    event: str,
    complaint: Any,
    extra: Mapping[str, Any] | None = None,
) -> list[str]:
    """Queue one complaint's `event` (see emit_many); `complaint` may be a callable."""
    return emit_many(
        conn, now, event, (lambda: [complaint()]) if callable(complaint) else [complaint], extra
    )


def status_changed(conn: Connection, now: datetime, before: str, after: Mapping[str, Any]) -> None:
    """A transition: `status_changed` when the status moved, and `closed` when it closed."""
    if after["status"] == before:
        return
    emit(conn, now, "status_changed", after, {"previous_status": before})
    if after["status"] == "closed":
        emit(conn, now, "closed", after)


def ping(conn: Connection, now: datetime, subscription_id: int) -> str:
    """A test delivery to one subscription (whatever it subscribed to)."""
    body = payload(PING, now, uuid.uuid4().hex, subscription=subscription_id)
    return outbox.enqueue(
        conn, now, "webhook", str(subscription_id), body, PURPOSE + PING, webhook_id=subscription_id
    )


# -- the subscriptions' rows -----------------------------------------------------------


def insert(
    conn: Connection, now: datetime, url: str, secret: str, events: list[str], by: str
) -> int:
    return int(
        conn.execute(
            t.webhook_subscriptions.insert()
            .values(
                url=url, secret=secret, events=events, state="active", created_by=by, created_at=now
            )
            .returning(W.id)
        ).scalar_one()
    )


def get(conn: Connection, subscription_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(t.webhook_subscriptions).where(W.id == subscription_id)).first()
    return dict(row._mapping) if row else None


def listing(conn: Connection) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in conn.execute(select(t.webhook_subscriptions).order_by(W.id))]


def change(conn: Connection, subscription_id: int, **values: Any) -> None:
    conn.execute(update(t.webhook_subscriptions).where(W.id == subscription_id).values(**values))


def pause(conn: Connection, now: datetime, subscription_id: int, reason: str) -> bool:
    return bool(
        conn.execute(
            update(t.webhook_subscriptions)
            .where(W.id == subscription_id, W.state == "active")
            .values(state="paused", paused_at=now, pause_reason=reason[:200])
        ).rowcount
    )


def resume(conn: Connection, now: datetime, subscription_id: int) -> int:
    """Active again; what waited, and what died while it was failing, goes out now (same
    ids, attempts counted afresh). Returns how many messages were put back."""
    sub = get(conn, subscription_id)
    if sub is None or sub["state"] == "active":
        return 0
    since = sub["failing_since"]
    change(
        conn,
        subscription_id,
        state="active",
        paused_at=None,
        pause_reason=None,
        failing_since=None,
        last_error=None,
    )
    waiting = and_(N.status == "pending", N.claim.is_(None))
    died = and_(N.status == "dead", N.created_at >= since) if since else None
    return conn.execute(
        update(t.notifications)
        .where(N.webhook_id == subscription_id, or_(waiting, died) if died is not None else waiting)
        .values(status="pending", attempts=0, next_attempt_at=now, claim=None)
    ).rowcount


def remove(conn: Connection, subscription_id: int) -> None:
    """The subscription deleted; its waiting messages stop (dead, saying why)."""
    conn.execute(
        update(t.notifications)
        .where(N.webhook_id == subscription_id, N.status == "pending")
        .values(status="dead", claim=None, last_error="订阅已删除，不再发送。")
    )
    conn.execute(delete(t.webhook_subscriptions).where(W.id == subscription_id))


def deliveries(conn: Connection, subscription_id: int, limit: int = 50) -> list[dict[str, Any]]:
    """The delivery log: the subscription's messages in the outbox, newest first."""
    q = (
        select(
            N.id,
            N.uid,
            N.purpose,
            N.status,
            N.attempts,
            N.last_error,
            N.created_at,
            N.next_attempt_at,
            N.sent_at,
        )
        .where(N.webhook_id == subscription_id)
        .order_by(N.id.desc())
        .limit(limit)
    )
    return [dict(r._mapping) for r in conn.execute(q)]


# -- what the sender reports -----------------------------------------------------------


def target(rt: Runtime, subscription_id: int) -> dict[str, Any] | None:
    """The subscription's current URL, secret and state, at send time."""
    with read(rt.engine) as conn:
        return get(conn, subscription_id)


def succeeded(rt: Runtime, subscription_id: int) -> None:
    with write(rt.engine) as conn:
        conn.execute(
            update(t.webhook_subscriptions)
            .where(W.id == subscription_id, W.failing_since.is_not(None))
            .values(failing_since=None, last_error=None)
        )


def failed(rt: Runtime, subscription_id: int, now: datetime, error: str) -> bool:
    """A delivery failed: failing since now (if not already); paused, once, when it has
    been failing for more than a day — audited, and shown on the admin page. Returns
    whether this failure paused it. The admin who made it is told (channels.staff_notices)."""
    with write(rt.engine) as conn:
        conn.execute(
            update(t.webhook_subscriptions)
            .where(W.id == subscription_id)
            .values(
                failing_since=func.coalesce(W.failing_since, literal(now, W.failing_since.type)),
                last_error=error[:500],
            )
        )
        paused = conn.execute(
            update(t.webhook_subscriptions)
            .where(
                W.id == subscription_id,
                W.state == "active",
                W.failing_since <= now - PAUSE_AFTER,
            )
            .values(state="paused", paused_at=now, pause_reason="auto")
            .returning(W.url, W.created_by, W.failing_since)
        ).first()
        if paused is not None:
            audit(
                conn,
                "system",
                now,
                "webhook.pause",
                "webhook",
                str(subscription_id),
                {
                    "reason": "failing for more than a day",
                    "failing_since": _iso(paused.failing_since),
                    "last_error": error[:200],
                    "url": paused.url,
                    "created_by": paused.created_by,
                },
            )
            staff_notices.webhook_paused(
                conn,
                now,
                rt.settings.public_url,
                subscription_id,
                paused.url,
                paused.created_by,
                error,
            )
    return paused is not None
