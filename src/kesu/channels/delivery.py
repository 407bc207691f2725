"""Delivering the outbox: claim due messages, hand each to its channel's sender, mark it.

`deliver(rt)` runs one pass (the worker's loop and the embedded server call it every
second or so); a pass takes batches until nothing is due or its time is up. Nothing is
lost: a message stays pending until a gateway accepts it, a failure is retried with
backoff and jitter, and after the last attempt the message is dead, with its last error,
for an admin to resend.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from kesu.channels import outbox
from kesu.channels.senders import Held, Outgoing, Sender, SendFailed, senders_for

if TYPE_CHECKING:
    from kesu.runtime import Runtime

log = logging.getLogger(__name__)


def deliver(
    rt: Runtime,
    batch: int = 50,
    budget: float = 5.0,
    senders: dict[str, Sender] | None = None,
) -> dict[str, int]:
    """One pass over what is due: {"sent": n, "retry": n, "dead": n}."""
    senders = senders if senders is not None else senders_for(rt.settings, rt)
    out = {"sent": 0, "retry": 0, "dead": 0}
    started = time.monotonic()
    while time.monotonic() - started < budget:
        claimed = outbox.claim(rt, sorted(senders), batch)
        for c in claimed:
            if c.broken:
                outbox.mark_dead(rt, c, c.broken)
                out["dead"] += 1
                log.error("message %s cannot be sent: %s", c.uid, c.broken)
                continue
            sender = senders[c.channel]
            message = Outgoing(
                c.uid, c.channel, c.recipient, c.subject, c.body, c.purpose, rt.clock()
            )
            try:
                sender.send(message)
            except Held as e:
                outbox.hold(rt, c, e.until, str(e))  # waits: neither sent nor failed
                continue
            except SendFailed as e:
                state = outbox.mark_failed(rt, c, str(e))
                out["retry" if state == "pending" else "dead"] += 1
                if state == "dead":
                    log.warning("message %s is dead after %s attempts: %s", c.uid, c.attempts, e)
                continue
            except Exception as e:  # a sender's bug must not stop the others
                log.exception("sender %s failed on message %s", sender.name, c.uid)
                state = outbox.mark_failed(rt, c, f"{type(e).__name__}: {e}")
                out["retry" if state == "pending" else "dead"] += 1
                continue
            outbox.mark_sent(rt, c, sender.name)
            out["sent"] += 1
        if len(claimed) < batch:
            break
    return out


def run(rt: Runtime, stop: threading.Event) -> None:
    """Deliver until `stop` is set: a pass every `outbox_poll_seconds` (the embedded
    server's thread and `kesu worker`)."""
    senders = senders_for(rt.settings, rt)
    while True:
        try:
            deliver(rt, senders=senders)
        except Exception:  # the database away for a moment: try again next pass
            log.exception("delivering the outbox failed")
        if stop.wait(rt.settings.outbox_poll_seconds):
            return
