"""Re-encrypting personal fields with the current key (`kesu keys rotate`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from kesu.accounts import crypto
from kesu.accounts.audit import audit
from kesu.accounts.roles import Actor, as_principal
from kesu.store import tables as t
from kesu.store.db import write

if TYPE_CHECKING:
    from kesu.runtime import Runtime

BATCH = 500


def rotate(rt: Runtime, actor: Actor) -> dict[str, Any]:
    """Every encrypted value not under the current key is decrypted and encrypted again.

    Batches of BATCH rows, each in its own transaction, so a large table does
    not hold the writer for long; safe to run again after an interruption.
    """
    p = as_principal(actor)
    ring = crypto.keyring()
    kid = ring.current[0]
    counts = {
        "complaints": 0,
        "notifications": 0,
        "webhook_subscriptions": 0,
        "referral_sources": 0,
        "referrals": 0,
        "channel_sources": 0,
        "appeals": 0,
        "appeal_operators": 0,
    }
    for table, fields, name in (
        (t.complaints, ("customer_phone", "customer_name", "customer_account"), "complaints"),
        (t.notifications, ("recipient", "body"), "notifications"),
        (t.webhook_subscriptions, ("secret",), "webhook_subscriptions"),
        (t.referral_sources, ("secret",), "referral_sources"),
        (t.referrals, ("original",), "referrals"),
        (t.channel_sources, ("secret",), "channel_sources"),
        (
            t.appeals,
            ("appellant_name", "appellant_phone", "appellant_address"),
            "appeals",
        ),
        (t.appeal_operators, ("secret",), "appeal_operators"),
    ):
        last = 0
        while True:
            # Raw text, so that we see which key each value is under.
            cols = [table.c.id, *(table.c[f].cast(t.Text) for f in fields)]
            with write(rt.engine) as conn:
                rows = conn.execute(
                    select(*cols).where(table.c.id > last).order_by(table.c.id).limit(BATCH)
                ).all()
                if not rows:
                    break
                for row in rows:
                    values = dict(zip(fields, row[1:], strict=True))
                    stale = {f: v for f, v in values.items() if v and ring.key_id_of(v) != kid}
                    if stale:
                        conn.execute(
                            update(table)
                            .where(table.c.id == row.id)
                            .values({f: ring.encrypt(ring.decrypt(v)) for f, v in stale.items()})
                        )
                        counts[name] += 1
                last = rows[-1].id
    with write(rt.engine) as conn:
        audit(conn, p, rt.clock(), "keys.rotate", None, None, {"key": kid, **counts})
    return {"key": kid, **counts}
