"""Questions other slices ask of the complaints' history, answered here so that no
other slice reads the complaint tables: the earlier complaints that make one a repeat,
how many of a category came from one place lately, which were re-categorised.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from kesu.accounts import crypto
from kesu.accounts.roles import Principal
from kesu.clock import as_utc
from kesu.complaints import events, repeats
from kesu.complaints.queries import scope_conditions
from kesu.store import tables as t

C = t.complaints.c


def same_customer(
    conn: Connection, phone_hashes: Collection[str], lo: datetime, hi: datetime
) -> dict[str, list[repeats.Seen]]:
    """The complaints of these numbers (by lookup hash) received in [lo, hi], as the
    repeat rule looks at them, by hash."""
    out: dict[str, list[repeats.Seen]] = {h: [] for h in phone_hashes}
    if not out:
        return out
    rows = conn.execute(
        select(C.id, C.number, C.category, C.kind, C.status, C.received_at, C.customer_phone_hash)
        .where(C.customer_phone_hash.in_(sorted(out)), C.received_at >= lo, C.received_at <= hi)
        .order_by(C.received_at.desc(), C.id.desc())
    )
    for r in rows:
        out[r.customer_phone_hash].append(
            repeats.Seen(r.number, r.category, r.kind, r.status, as_utc(r.received_at), r.id)
        )
    return out


def repeat_of(conn: Connection, this: repeats.Seen, phone_hash: str, limit: int = 5) -> list[str]:
    """The earlier complaints that make `this` a repeat (complaints.repeats), newest first."""
    lo, hi = repeats.window(this.received_at)
    return repeats.earlier(this, same_customer(conn, [phone_hash], lo, hi)[phone_hash])[:limit]


def count_in_place(
    conn: Connection, category: str, city: str | None, province: str | None, since: datetime
) -> int:
    """Complaints of this category from this city (or, without one, province) since then."""
    place = C.customer_city == city if city else C.customer_province == province
    return conn.execute(
        select(func.count())
        .select_from(t.complaints)
        .where(C.category == category, place, C.received_at >= since)
    ).scalar_one()


def recategorized(conn: Connection, p: Principal) -> list:
    """Complaints whose category a person corrected (number, title, description, category,
    kind), within the principal's scope, in id order."""
    return conn.execute(
        select(C.number, C.title, C.description, C.category, C.kind)
        .where(C.id.in_(events.complaints_with("recategorized")))
        .where(*scope_conditions(p))
        .order_by(C.id)
    ).all()


def by_idempotency_key(conn: Connection, key: str):
    """The complaint id registered under this idempotency key, or None."""
    return conn.execute(select(C.id).where(C.idempotency_key == key)).scalar()


def received_since(
    conn: Connection, phone: str | None, channel: str, since: datetime, *, hashed: bool = False
) -> tuple[int, datetime | None]:
    """(how many, the oldest receipt) of a number's complaints by a channel since then.

    `phone` is the number, or its lookup hash when `hashed`."""
    digest = phone if hashed else crypto.phone_hash(phone or "")
    n, oldest = conn.execute(
        select(func.count(), func.min(C.received_at)).where(
            C.customer_phone_hash == digest, C.channel == channel, C.received_at > since
        )
    ).one()
    return int(n), oldest


def texts_after(conn: Connection, after_id: int, limit: int) -> list:
    """(id, number, title, description) of complaints after an id, in id order (for the
    similar-complaints index, which grows by id)."""
    return conn.execute(
        select(C.id, C.number, C.title, C.description)
        .where(C.id > after_id)
        .order_by(C.id)
        .limit(limit)
    ).all()


def outcomes(conn: Connection, ids: list[int]) -> dict[int, Any]:
    """id → (number, category, status, resolution) of these complaints."""
    rows = conn.execute(
        select(C.id, C.number, C.category, C.status, C.resolution).where(C.id.in_(ids))
    )
    return {r.id: r for r in rows}


def tally(conn: Connection, now: datetime) -> dict[str, int]:
    """How many complaints there are: in all, open, overdue, ever reopened, merged."""

    def n(*conds) -> int:
        return conn.execute(
            select(func.count()).select_from(t.complaints).where(*conds)
        ).scalar_one()

    return {
        "complaints": n(),
        "open": n(C.is_open),
        "overdue": n(C.is_open, C.next_due_at < now),
        "reopened": n(C.reopen_count > 0),
        "merged": n(C.status == "merged"),
    }


def remedy_kind(conn: Connection, complaint_id: int) -> str | None:
    """What the last proposed or replied remedy is (refund, reduction, damages, goodwill)."""
    return events.remedy_kind(conn, complaint_id)


def open_of_customer(conn: Connection, phone: str, limit: int = 50) -> list:
    """The open complaints of a number, newest first: (id, number, category, title,
    description, risk_flags) — a channel looks for the one a new message is about."""
    return conn.execute(
        select(C.id, C.number, C.category, C.title, C.description, C.risk_flags)
        .where(C.customer_phone_hash == crypto.phone_hash(phone), C.is_open)
        .order_by(C.received_at.desc(), C.id.desc())
        .limit(limit)
    ).all()
