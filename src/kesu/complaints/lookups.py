"""Questions other slices ask of the complaints' history, answered here so that no
other slice reads the complaint tables: the earlier complaints that make one a repeat,
how many of a category came from one place lately (mass incidents), which were re-categorised, a
customer's open complaints (a message in is added to the one it refers to), the likely
duplicates of a complaint across channels, the complaints of a group and the top causes
(corrective actions).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, select

from kesu.accounts import crypto
from kesu.accounts.roles import Principal
from kesu.clock import as_utc
from kesu.complaints import events, repeats
from kesu.complaints.queries import scope_conditions
from kesu.complaints.views import actions_for, iso, state_of
from kesu.store import tables as t
from kesu.triage import likeness, model

if TYPE_CHECKING:
    from kesu.runtime import Runtime

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


def _place(city: str | None, province: str | None):
    """A mass-incident cell's place: the city, or (without one) the whole province."""
    return C.customer_city == city if city else C.customer_province == province


def place_counts(
    conn: Connection,
    category: str,
    city: str | None,
    province: str | None,
    window_start: datetime,
    baseline_start: datetime,
    until: datetime,
) -> tuple[int, int, datetime | None]:
    """One statement: complaints of this category from this city (or, without one,
    province) received in [window_start, until] and in [baseline_start, window_start),
    and the earliest complaint received at all (how much history there is)."""
    recent = C.received_at >= window_start
    earliest = select(func.min(C.received_at)).scalar_subquery()
    row = conn.execute(
        select(
            func.count().filter(recent),
            func.count().filter(~recent),
            earliest,
        ).where(
            C.category == category,
            _place(city, province),
            C.received_at >= baseline_start,
            C.received_at <= until,
        )
    ).one()
    first = as_utc(row[2]) if row[2] is not None else None
    return int(row[0]), int(row[1]), first


def in_place_since(
    conn: Connection, category: str, city: str | None, province: str | None, since: datetime
) -> list:
    """(id, number) of the complaints of this category from this place received since
    then, oldest first."""
    return list(
        conn.execute(
            select(C.id, C.number)
            .where(C.category == category, _place(city, province), C.received_at >= since)
            .order_by(C.received_at, C.id)
        ).all()
    )


def contacts(conn: Connection, ids: Collection[int]) -> list:
    """(id, number, status, kind, phone, phone_hash) of these complaints, the phone
    decrypted (None once anonymised), in id order: for a message to their customers."""
    if not ids:
        return []
    return list(
        conn.execute(
            select(
                C.id,
                C.number,
                C.status,
                C.kind,
                C.customer_phone.label("phone"),
                C.customer_phone_hash.label("phone_hash"),
            )
            .where(C.id.in_(sorted(ids)))
            .order_by(C.id)
        ).all()
    )


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


def open_numbers_of_customer(conn: Connection, phone_hash: str, number: str | None = None) -> list:
    """The customer's open complaints (number, category), newest first; with `number`,
    that complaint if it is open and the customer's."""
    q = select(C.number, C.category).where(C.customer_phone_hash == phone_hash, C.is_open)
    if number is not None:
        q = q.where(C.number == number)
    return conn.execute(q.order_by(C.received_at.desc(), C.id.desc())).all()


def record_of_customer(
    conn: Connection, p: Principal, phone: str, since: datetime, limit: int = 50
) -> list:
    """A number's complaints received since then that `p` may see, oldest first: (number,
    kind, category, status, received_at, replied_at, closed_at) — what an appeal centre may
    learn of a customer's complaints to the operator (channels.record_query), no text."""
    return conn.execute(
        select(C.number, C.kind, C.category, C.status, C.received_at, C.replied_at, C.closed_at)
        .where(C.customer_phone_hash == crypto.phone_hash(phone), C.received_at >= since)
        .where(*scope_conditions(p))
        .order_by(C.received_at, C.id)
        .limit(limit)
    ).all()


# -- across channels -------------------------------------------------------------------


def _text(row) -> str:
    return "\n".join(x for x in (row.title, row.description) if x)


def _alike(row, other, threshold: float) -> tuple[str, float | None] | None:
    """Why `other` looks like the same matter as `row` (same category, or texts at least
    `threshold` alike), with the texts' similarity; None when it does not."""
    try:
        score: float | None = likeness.similarity(model.shipped(), _text(row), _text(other))
    except model.ModelMissing:
        score = None
    if row.category is not None and row.category == other.category:
        return "same_category", score
    if score is not None and score >= threshold:
        return "similar_text", score
    return None


def likely_duplicates(rt: Runtime, conn: Connection, row, p: Principal) -> list[dict[str, Any]]:
    """The same customer's open complaints that came by another channel within the
    window (settings.duplicate_window_days, operator policy) and look like the same matter
    (same category, or texts at least settings.duplicate_similarity alike), within the
    principal's scope, oldest first. Each says which one a merge keeps (the earlier
    received) and which it merges, and whether `p` may merge them now. Nothing is merged
    here: a person decides (complaints.duplicates.merge)."""
    if not row.is_open or not row.customer_phone_hash:
        return []
    within = timedelta(days=rt.settings.duplicate_window_days)
    received = as_utc(row.received_at)
    others = conn.execute(
        select(t.complaints)
        .where(
            C.customer_phone_hash == row.customer_phone_hash,
            C.is_open,
            C.id != row.id,
            C.channel != row.channel,
            C.received_at >= received - within,
            C.received_at <= received + within,
            *scope_conditions(p),
        )
        .order_by(C.received_at, C.id)
    ).all()
    now = rt.clock()
    out = []
    for other in others:
        why = _alike(row, other, rt.settings.duplicate_similarity)
        if why is None:
            continue
        earlier = (as_utc(other.received_at), other.id) < (received, row.id)
        keep, merged = (other, row) if earlier else (row, other)
        out.append(
            {
                "number": other.number,
                "channel": other.channel,
                "category": other.category,
                "status": other.status,
                "received_at": iso(other.received_at),
                "reason": why[0],
                "similarity": why[1],
                "keep": keep.number,
                "merge": merged.number,
                "can_merge": "merge" in actions_for(state_of(merged), rt, now, p),
            }
        )
    return out


# -- quality inspection ----------------------------------------------------------------


def _closed_select():
    breached = C.id.in_(events.complaints_with("deadline_breached"))
    return select(
        C.number,
        C.category,
        C.status,
        func.coalesce(C.assignee, C.first_assignee).label("handler"),
        C.closed_at,
        C.reopen_count,
        C.escalation_level,
        C.callback_result,
        breached.label("breached"),
    )


def closed_between(conn: Connection, p: Principal, start: datetime, end: datetime) -> list:
    """The complaints closed (status closed) in [start, end) that `p` may see, oldest
    first, as quality sampling looks at them: number, category, status, handler (the
    assignee at closure, else the first assignee), closed_at, reopen_count,
    escalation_level, callback_result, breached (a deadline_breached event)."""
    return conn.execute(
        _closed_select()
        .where(C.status == "closed", C.closed_at >= start, C.closed_at < end)
        .where(*scope_conditions(p))
        .order_by(C.closed_at, C.id)
    ).all()


def closure_of(conn: Connection, p: Principal, number: str):
    """One complaint as closed_between gives it (whatever its status), or None when it
    does not exist or `p` may not see it."""
    return conn.execute(
        _closed_select().where(C.number == number).where(*scope_conditions(p))
    ).first()


# A group of complaints as corrective actions name it (corrective/): a saved filter of
# these keys, each optional; merged and invalid complaints are never in a group.
GROUP_KEYS = {
    "root_cause": C.root_cause,
    "category": C.category,
    "province": C.customer_province,
    "city": C.customer_city,
}


def _in_group(match: Mapping[str, Any]) -> list:
    conds = [GROUP_KEYS[k] == v for k, v in match.items() if k in GROUP_KEYS and v]
    return [*conds, C.status.not_in(("merged", "invalid"))]


def group_numbers(
    conn: Connection, match: Mapping[str, Any], lo: datetime, hi: datetime, limit: int
) -> list[str]:
    """The numbers of the group's complaints received in [lo, hi], newest first."""
    return list(
        conn.execute(
            select(C.number)
            .where(*_in_group(match), C.received_at >= lo, C.received_at <= hi)
            .order_by(C.received_at.desc(), C.id.desc())
            .limit(limit)
        ).scalars()
    )


def group_counts(
    conn: Connection, match: Mapping[str, Any], spans: Sequence[tuple[datetime, datetime]]
) -> list[int]:
    """How many of the group's complaints were received in each [lo, hi) of `spans`."""
    return [
        int(
            conn.execute(
                select(func.count())
                .select_from(t.complaints)
                .where(*_in_group(match), C.received_at >= lo, C.received_at < hi)
            ).scalar_one()
        )
        for lo, hi in spans
    ]


def group_of(conn: Connection, number: str) -> dict[str, Any] | None:
    """A complaint's group keys (cause, category, province, city) and status, or None."""
    row = conn.execute(
        select(C.root_cause, C.category, C.customer_province, C.customer_city, C.status).where(
            C.number == number
        )
    ).first()
    if row is None:
        return None
    return {
        "root_cause": row.root_cause,
        "category": row.category,
        "province": row.customer_province,
        "city": row.customer_city,
        "status": row.status,
    }


def top_causes(conn: Connection, lo: datetime, hi: datetime, limit: int) -> list[tuple[str, int]]:
    """(cause, how many) of the complaints closed in [lo, hi), the most frequent first."""
    n = func.count().label("n")
    rows = conn.execute(
        select(C.root_cause, n)
        .where(
            C.status == "closed",
            C.closed_at >= lo,
            C.closed_at < hi,
            C.root_cause.is_not(None),
        )
        .group_by(C.root_cause)
        .order_by(n.desc(), C.root_cause)
        .limit(limit)
    ).all()
    return [(r.root_cause, int(r.n)) for r in rows]
