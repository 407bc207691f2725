"""The notification outbox: messages to customers and staff, written in the same
transaction as what caused them, then delivered by the worker (channels.delivery).

A message is `pending` until a sender's gateway accepts it (`sent`), or until it has
failed the configured number of attempts (`dead`: shown to admins, who may resend it).
Claiming is one statement: the due rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL; the
single writer on SQLite) get the worker's claim token and their next attempt moved a
lease ahead, so several workers never take the same message, and a worker that dies
mid-send leaves its messages to the next one once the lease runs out.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Text, func, insert, select, type_coerce, update

from kesu.accounts import crypto
from kesu.store import tables as t
from kesu.store.db import read, write

if TYPE_CHECKING:
    from kesu.runtime import Runtime

N = t.notifications.c
STATES = ("pending", "sent", "dead")


def enqueue(
    conn: Connection,
    now: datetime,
    channel: str,
    recipient: str,
    body: str,
    purpose: str,
    subject: str | None = None,
    not_before: datetime | None = None,
    webhook_id: int | None = None,
) -> str:
    """Put one message in the outbox, in the caller's transaction (recipient and body are
    encrypted by the table's column types). Returns its stable id."""
    uid = uuid.uuid4().hex
    conn.execute(
        insert(t.notifications).values(
            uid=uid,
            channel=channel,
            recipient=recipient,
            subject=subject,
            purpose=purpose,
            body=body,
            status="pending",
            attempts=0,
            next_attempt_at=not_before or now,
            created_at=now,
            webhook_id=webhook_id,
        )
    )
    return uid


@dataclass(frozen=True)
class Claimed:
    id: int
    uid: str
    channel: str
    recipient: str
    subject: str | None
    body: str
    purpose: str
    attempts: int  # this attempt included
    claim: str
    broken: str | None = None  # why it cannot be sent at all (it could not be decrypted)


def claim(rt: Runtime, channels: list[str], limit: int) -> list[Claimed]:
    """Take up to `limit` due messages of `channels` for this worker (one statement)."""
    if not channels:
        return []
    now = rt.clock()
    token = uuid.uuid4().hex
    due = (
        select(N.id)
        .where(N.status == "pending", N.next_attempt_at <= now, N.channel.in_(channels))
        .order_by(N.next_attempt_at, N.id)
        .limit(limit)
    )
    if rt.engine.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    lease = timedelta(seconds=rt.settings.outbox_lease_seconds)
    # Recipient and body come back as stored and are decrypted one by one below: a row
    # that cannot be decrypted (a key gone) must not fail the claim of the whole batch.
    raw_recipient = type_coerce(N.recipient, Text)
    raw_body = type_coerce(N.body, Text)
    stmt = (
        update(t.notifications)
        .where(N.id.in_(due.scalar_subquery()), N.status == "pending")
        .values(claim=token, next_attempt_at=now + lease, attempts=N.attempts + 1)
        .returning(
            N.id, N.uid, N.channel, raw_recipient, N.subject, raw_body, N.purpose, N.attempts
        )
    )
    with write(rt.engine) as conn:
        rows = conn.execute(stmt).all()
    out = []
    for mid, uid, channel, recipient, subject, body, purpose, attempts in rows:
        try:
            recipient, body = _open(recipient), _open(body)
            broken = None
        except Exception as e:  # noqa: BLE001 - any failure to decrypt is this row's alone
            recipient, body, broken = (
                "",
                "",
                f"无法解密消息内容（{type(e).__name__}）：密钥缺失或数据损坏。",
            )
        out.append(
            Claimed(mid, uid, channel, recipient, subject, body, purpose, attempts, token, broken)
        )
    return sorted(out, key=lambda c: c.id)


def _open(stored: str | None) -> str:
    return crypto.EncryptedText().process_result_value(stored, None) or ""


def mark_sent(rt: Runtime, c: Claimed, sink: str) -> bool:
    """The gateway accepted it. False if this worker's lease had run out and another
    worker holds the message now (it may then be sent twice, with the same id)."""
    with write(rt.engine) as conn:
        done = conn.execute(
            update(t.notifications)
            .where(N.id == c.id, N.claim == c.claim, N.status == "pending")
            .values(status="sent", sent_at=rt.clock(), sink=sink, claim=None, last_error=None)
        ).rowcount
    return bool(done)


def mark_dead(rt: Runtime, c: Claimed, error: str) -> None:
    """A message that can never be sent as it is (it could not be decrypted): dead at
    once, with the reason, for an admin to look at (a resend tries it again)."""
    with write(rt.engine) as conn:
        conn.execute(
            update(t.notifications)
            .where(N.id == c.id, N.claim == c.claim, N.status == "pending")
            .values(status="dead", last_error=error[:500], claim=None)
        )


def backoff(attempt: int, base: float, cap: float, rnd: random.Random | None = None) -> float:
    """Seconds before attempt `attempt + 1`: base·2^(attempt-1), capped, with half of it
    random (so many messages failed together do not all come back at once)."""
    span = min(cap, base * 2 ** max(attempt - 1, 0))
    return span / 2 + (rnd or random).uniform(0, span / 2)


def mark_failed(rt: Runtime, c: Claimed, error: str) -> str:
    """A failed attempt: retried later with backoff, or dead after the last attempt.
    Returns the message's new state."""
    s = rt.settings
    now = rt.clock()
    dead = c.attempts >= s.outbox_max_attempts
    wait = backoff(c.attempts, s.outbox_retry_seconds, s.outbox_retry_cap_seconds)
    values: dict[str, Any] = {"last_error": error[:500], "claim": None}
    if dead:
        values["status"] = "dead"
    else:
        values["next_attempt_at"] = now + timedelta(seconds=wait)
    with write(rt.engine) as conn:
        conn.execute(
            update(t.notifications)
            .where(N.id == c.id, N.claim == c.claim, N.status == "pending")
            .values(**values)
        )
    return "dead" if dead else "pending"


def hold(rt: Runtime, c: Claimed, until: datetime, why: str) -> None:
    """Not sent now and not counted as an attempt (a paused webhook): due again `until`."""
    with write(rt.engine) as conn:
        conn.execute(
            update(t.notifications)
            .where(N.id == c.id, N.claim == c.claim, N.status == "pending")
            .values(next_attempt_at=until, attempts=N.attempts - 1, claim=None, last_error=why)
        )


def resend(conn: Connection, now: datetime, message_id: int) -> bool:
    """An admin sends a dead message again: pending now, its attempts counted afresh
    (same stable id). False when it is not dead."""
    return bool(
        conn.execute(
            update(t.notifications)
            .where(N.id == message_id, N.status == "dead")
            .values(status="pending", attempts=0, next_attempt_at=now, claim=None)
        ).rowcount
    )


def pending(rt: Runtime) -> int:
    """How many messages wait in the outbox."""
    with read(rt.engine) as conn:
        return conn.execute(select(func.count()).where(N.status == "pending")).scalar_one()


def counts(rt: Runtime) -> dict[str, int]:
    """Messages per state (every state listed, zero included)."""
    with read(rt.engine) as conn:
        rows = conn.execute(select(N.status, func.count()).group_by(N.status)).all()
    out = dict.fromkeys(STATES, 0)
    out.update({status: n for status, n in rows})
    return out


def listing(
    conn: Connection, status: str | None, channel: str | None, limit: int, before: int | None
) -> list[dict[str, Any]]:
    """The newest messages first (for the admin page), filtered by state and channel."""
    q = select(*_readable()).order_by(N.id.desc()).limit(limit)
    if status:
        q = q.where(N.status == status)
    if channel:
        q = q.where(N.channel == channel)
    if before:
        q = q.where(N.id < before)
    return [_opened(r) for r in conn.execute(q)]


def one(conn: Connection, message_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(*_readable()).where(N.id == message_id)).first()
    return _opened(row) if row else None


UNREADABLE = "（无法解密：密钥缺失或数据损坏）"


def _readable() -> list:
    """The outbox's columns, recipient and body as stored (opened row by row)."""
    return [
        type_coerce(c, Text).label(c.name) if c.name in ("recipient", "body") else c
        for c in t.notifications.columns
    ]


def _opened(row: Any) -> dict[str, Any]:
    out = dict(row._mapping)
    for key in ("recipient", "body"):
        try:
            out[key] = _open(out[key])
        except Exception:  # noqa: BLE001 - one unreadable row must not hide the others
            out[key] = UNREADABLE
    return out
