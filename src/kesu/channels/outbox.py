"""The notification outbox: messages to customers and staff, written in the same
transaction as what caused them, then delivered by the worker.

Nothing acknowledged is lost: a message waits in `notifications` until it is
delivered. No SMS gateway or mail server is wired yet (issue 15 builds the
senders and retries): only demo mode "delivers", to the console, masked.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection, func, insert, select, update

from kesu.accounts import masking
from kesu.store import tables as t
from kesu.store.db import read, write

if TYPE_CHECKING:
    from kesu.runtime import Runtime

N = t.notifications.c


def enqueue(
    conn: Connection,
    now: datetime,
    channel: str,
    recipient: str,
    body: str,
    purpose: str,
    subject: str | None = None,
) -> None:
    """Put one message in the outbox, in the caller's transaction (recipient and body are
    encrypted by the table's column types)."""
    conn.execute(
        insert(t.notifications).values(
            channel=channel,
            recipient=recipient,
            subject=subject,
            purpose=purpose,
            body=body,
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )


def deliver(rt: Runtime, limit: int = 100) -> int:
    """Send what the outbox holds.

    No SMS gateway is configured yet: only demo mode delivers (to the console);
    otherwise messages wait in the outbox, none is lost.
    """
    if not rt.settings.demo:
        return 0
    now = rt.clock()
    sent = 0
    with write(rt.engine) as conn:
        rows = conn.execute(
            select(t.notifications)
            .where(N.status == "pending", N.next_attempt_at <= now)
            .order_by(N.id)
            .limit(limit)
        ).all()
        for n in rows:
            # Demo delivery is the console; the number is masked like everywhere else.
            print(f"[演示模式短信] 发往 {masking.phone(n.recipient)}：{n.body}", flush=True)
            conn.execute(
                update(t.notifications)
                .where(N.id == n.id)
                .values(status="sent", sent_at=now, attempts=n.attempts + 1)
            )
            sent += 1
    return sent


def pending(rt: Runtime) -> int:
    """How many messages wait in the outbox."""
    with read(rt.engine) as conn:
        return conn.execute(select(func.count()).where(N.status == "pending")).scalar_one()
