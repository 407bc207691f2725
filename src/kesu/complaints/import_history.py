"""What a bulk import adds to the plain registration of many complaints
(complaints.registration.bulk_import uses it):

- `unregistered`: the items whose idempotency key is not yet taken (a file imported
  again creates nothing new); run before numbers are reserved, and again inside the
  write transaction, so the skip is decided with the insert;
- `repeat_flags`: the repeat flag decided by the one rule against the history and the
  import's own rows;
- `close_historical`: a work order that arrived finished (a historical row of a hotline
  export) registered closed, its deadlines met when it was accepted and answered, so the
  KPIs have history and the watcher never raises an alarm for the past.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from kesu.accounts import crypto
from kesu.clock import as_utc
from kesu.complaints import lookups, repeats
from kesu.complaints import vocabulary as vocab
from kesu.complaints.views import iso
from kesu.deadlines.rules import Rule
from kesu.store import tables as t

C = t.complaints.c
_CHUNK = 500


def unregistered(conn: Connection, items: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The items to register: those without a key, and the first of each key not yet used."""
    keys = [d.get("idempotency_key") for d in items]
    wanted = list(dict.fromkeys(k for k in keys if k))
    taken: set[str] = set()
    for i in range(0, len(wanted), _CHUNK):
        chunk = wanted[i : i + _CHUNK]
        taken.update(
            conn.execute(select(C.idempotency_key).where(C.idempotency_key.in_(chunk))).scalars()
        )
    out = []
    for data, key in zip(items, keys, strict=True):
        if key:
            if key in taken:
                continue
            taken.add(key)  # a key twice in one import: the first one
        out.append(data)
    return out


def repeat_flags(
    conn: Connection,
    items: Sequence[Mapping[str, Any]],
    ids: list[int],
    now: datetime,
    hashes: Sequence[str | None] | None = None,
) -> list[dict[str, Any]]:
    """The import's items with the repeat flag decided by the one rule (complaints.repeats),
    against the history and the import's own rows (an earlier id is registered first).
    `hashes`: the phones' lookup hashes where already computed (None: computed here)."""
    seen = [
        repeats.Seen(
            None,
            d.get("category"),
            d.get("kind") or "complaint",
            "registered",
            as_utc(d.get("received_at") or now),
            cid,
        )
        for d, cid in zip(items, ids, strict=True)
    ]
    known = hashes or [None] * len(items)
    phones = [
        h or crypto.phone_hash(d["customer"]["phone"]) for d, h in zip(items, known, strict=True)
    ]
    history: dict[str, list[repeats.Seen]] = {}
    if seen:
        lo = repeats.window(min(x.received_at for x in seen))[0]
        hi = max(x.received_at for x in seen)
        history = lookups.same_customer(conn, set(phones), lo, hi)
    for h, x in zip(phones, seen, strict=True):
        history[h].append(x)
    return [
        {
            **d,
            "risk_flags": repeats.with_flag(
                d.get("risk_flags") or (), bool(repeats.earlier(x, history[h]))
            ),
        }
        for d, x, h in zip(items, seen, phones, strict=True)
    ]


def close_historical(
    row: dict[str, Any],
    planned: list[dict[str, Any]],
    closed: Mapping[str, Any],
    rules: Mapping[str, Rule],
) -> None:
    """Make a just-built row a complaint that was closed at `closed["closed_at"]`.

    The work order was accepted when it was taken (受理时间, the receipt) and answered when
    it was finished (办结时间): a deadline met by acceptance is met at the receipt, every
    other at the closing. A deadline met after its due time stays met late (the KPIs
    count it so); none is left open for the watcher to mark breached.
    """
    closed_at = as_utc(closed["closed_at"])
    received = row["received_at"]
    row.update(
        status="closed",
        is_open=False,
        accepted_at=received,
        replied_at=closed_at,
        closed_at=closed_at,
        resolution=closed.get("resolution"),
        # A closed complaint has a cause; a historical one arrives without: 未记录.
        root_cause=_cause(closed.get("root_cause")),
        next_due_at=None,
        assignee=None,
        first_assignee=None,
    )
    for d in planned:
        met_by = tuple(getattr(rules.get(d["rule"]), "met_by", ()) or ())
        if "accept" in met_by:
            d["met_at"], d["met_by"] = received, "accept"
        else:
            d["met_at"], d["met_by"] = closed_at, "reply" if "reply" in met_by else "close"


def _cause(given: Any) -> str:
    """The cause an imported closed row carries: one a person may choose, else unknown."""
    if isinstance(given, str) and given in vocab.CLOSING_CAUSES:
        return given
    return vocab.UNKNOWN_CAUSE


def closed_event(cid: int, row: Mapping[str, Any], actor: str, now: datetime) -> dict[str, Any]:
    """The history's closing of an imported finished work order (after its registration)."""
    return {
        "complaint_id": cid,
        "at": now,
        "type": "closed",
        "actor": actor,
        "from_status": "registered",
        "to_status": "closed",
        "note": row.get("resolution"),
        "data": {
            "historical": True,
            "closed_at": iso(row["closed_at"]),
            "root_cause": row.get("root_cause"),
        },
    }
