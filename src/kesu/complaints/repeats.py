"""The one definition of a repeat complaint (pure).

A complaint is a repeat when it is of a complaint-like kind and the same customer (the
same number) had an earlier complaint-like complaint of the same category received
within `WITHIN_DAYS` before it that was neither merged nor invalid. The numbers and kinds
are data (reference.yaml, risk_flags.repeat). Registration sets the `repeat` flag by this
rule (a category corrected or a consultation converted decides it again), nobody sets it
by hand, and the repeat KPI (kpis.yaml repeat_rate) counts the complaints carrying it:
one meaning for the flag and the figure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from kesu.complaints import vocabulary as vocab

FLAG = "repeat"
_RULE = vocab.RISK_FLAGS[FLAG]
WITHIN_DAYS: int = int(_RULE["within_days"])
KINDS: frozenset[str] = frozenset(_RULE["kinds"])
NOT_COUNTED = frozenset({"merged", "invalid"})


@dataclass(frozen=True)
class Seen:
    """A complaint as the rule looks at it. `id` None: not registered yet (the one being
    decided, or an earlier row of the same import without its id)."""

    number: str | None
    category: str | None
    kind: str
    status: str
    received_at: datetime
    id: int | None = None


def window(received_at: datetime) -> tuple[datetime, datetime]:
    """[lo, hi]: the receipts an earlier complaint must fall in."""
    return received_at - timedelta(days=WITHIN_DAYS), received_at


def _before(other: Seen, this: Seen) -> bool:
    if other.received_at != this.received_at:
        return other.received_at < this.received_at
    # Received at the same instant: the one registered first is the earlier one.
    if this.id is None:
        return True
    return other.id is not None and other.id < this.id


def earlier(this: Seen, history: Iterable[Seen]) -> list[str]:
    """Numbers of the complaints that make `this` a repeat (newest first); [] when none.

    `history` holds the same customer's complaints (any category, kind and status)."""
    if this.kind not in KINDS or not this.category:
        return []
    lo, _ = window(this.received_at)
    found = [
        h
        for h in history
        if (this.id is None or h.id != this.id)
        and h.category == this.category
        and h.kind in KINDS
        and h.status not in NOT_COUNTED
        and h.received_at >= lo
        and _before(h, this)
    ]
    found.sort(key=lambda h: h.received_at, reverse=True)
    return [h.number or "" for h in found]


def with_flag(flags: Iterable[str], repeat: bool) -> list[str]:
    """The flags with `repeat` set or cleared as the rule decided."""
    out = set(flags) - {FLAG}
    if repeat:
        out.add(FLAG)
    return sorted(out)
