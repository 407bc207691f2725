"""Complaint use cases: register, read, list, transition, and what a breach sets off.

Every change writes the complaint row and its event in one transaction.
Whether an action is allowed is asked of `lifecycle`; due times come from
`deadlines`.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Connection,
    String,
    and_,
    bindparam,
    cast,
    func,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from kesu.accounts import crypto, masking
from kesu.accounts.audit import audit
from kesu.accounts.roles import (
    Actor,
    Principal,
    action_permissions,
    as_principal,
    require,
    require_any,
)
from kesu.clock import as_utc, to_beijing
from kesu.complaints import lifecycle
from kesu.complaints import vocabulary as vocab
from kesu.deadlines import service as deadlines
from kesu.problems import Problem, not_found
from kesu.store import bulk
from kesu.store import tables as t
from kesu.store.db import read, write

if TYPE_CHECKING:
    from kesu.runtime import Runtime

C = t.complaints.c


def _iso(value: datetime | None) -> str | None:
    return to_beijing(value).isoformat() if value is not None else None


# ---- numbers ------------------------------------------------------------


def _counter_stmt(dialect: str):
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(t.number_counters).values(day=bindparam("day"), last=bindparam("n"))
    return stmt.on_conflict_do_update(
        index_elements=["day"],
        set_={"last": t.number_counters.c.last + stmt.excluded.last},
    ).returning(t.number_counters.c.last)


_COUNTER = {d: _counter_stmt(d) for d in ("postgresql", "sqlite")}


def next_numbers(conn: Connection, now: datetime, n: int = 1) -> list[str]:
    """n fresh numbers: TS + Beijing date + a per-day sequence. Numbers are never reused.

    The counter row stays locked until the transaction ends, so callers take
    their numbers as late in the transaction as they can.
    """
    day = to_beijing(now).strftime("%Y%m%d")
    last = conn.execute(_COUNTER[conn.dialect.name], {"day": day, "n": n}).scalar_one()
    return [f"TS{day}{i:06d}" for i in range(last - n + 1, last + 1)]


def next_number(conn: Connection, now: datetime) -> str:
    return next_numbers(conn, now, 1)[0]


# ---- state and views ------------------------------------------------------


def _state(row) -> lifecycle.State:
    return lifecycle.State(
        status=row.status,
        kind=row.kind,
        resolution=row.resolution,
        compensation=row.compensation,
        risk_flags=frozenset(row.risk_flags or ()),
        priority=row.priority,
        team=row.team,
        callback_result=row.callback_result,
        callback_attempts=row.callback_attempts,
        replied_at=row.replied_at,
        closed_at=row.closed_at,
        reopen_count=row.reopen_count,
        escalation_level=row.escalation_level,
        number=row.number,
        category=row.category,
    )


def _facts(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "kind": row["kind"],
        "area": row["customer_area"],
        "province": row["customer_province"],
        "priority": row["priority"],
        "channel": row["channel"],
        "category": row["category"],
    }


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{Decimal(value):.2f}"


def summary(row, now: datetime, merged_into: str | None = None) -> dict[str, Any]:
    next_due = row.next_due_at
    return {
        "number": row.number,
        "status": row.status,
        "status_name": vocab.STATUSES[row.status]["name"],
        "kind": row.kind,
        "category": row.category,
        "channel": row.channel,
        "channel_level": row.channel_level,
        "validity": row.validity,
        "invalid_reason": row.invalid_reason,
        "priority": row.priority,
        "risk_flags": list(row.risk_flags or []),
        "title": row.title,
        "received_at": _iso(row.received_at),
        "customer": {
            "phone": _dec(row.customer_phone),
            "name": _dec(row.customer_name),
            "account": _dec(row.customer_account),
            "province": row.customer_province,
            "city": row.customer_city,
            "area": row.customer_area,
        },
        "team": row.team,
        "assignee": row.assignee,
        "next_due_at": _iso(next_due),
        "overdue": bool(row.is_open and next_due is not None and next_due < now),
        "reopen_count": row.reopen_count,
        "merged_into": merged_into,
        "reseller": row.reseller,
        "legal_hold": bool(row.legal_hold),
        "version": row.version,
    }


def full_view(rt: Runtime, conn: Connection, row, deadline_rows=None) -> dict[str, Any]:
    now = rt.clock()
    merged_into = None
    if row.merged_into_id is not None:
        merged_into = conn.execute(select(C.number).where(C.id == row.merged_into_id)).scalar()
    out = summary(row, now, merged_into)
    out.update(
        {
            "description": row.description,
            "demands": row.demands,
            "created_at": _iso(row.created_at),
            "updated_at": _iso(row.updated_at),
            "accepted_at": _iso(row.accepted_at),
            "replied_at": _iso(row.replied_at),
            "closed_at": _iso(row.closed_at),
            "converted_at": _iso(row.converted_at),
            "compensation": _money(row.compensation),
            "resolution": row.resolution,
            "root_cause": row.root_cause,
            "first_receiver": row.first_receiver,
            "callback_result": row.callback_result,
            "callback_attempts": row.callback_attempts,
            "escalation_level": row.escalation_level,
            "legal_hold_reason": row.legal_hold_reason,
            "anonymised_at": _iso(row.anonymised_at),
        }
    )
    if deadline_rows is None:
        deadline_rows = deadlines.for_complaints(conn, [row.id])[row.id]
    out["deadlines"] = [deadlines.view(d, rt.rules) for d in deadline_rows]
    out["allowed_actions"] = lifecycle.allowed_actions(_state(row), rt.policy, now)
    return out


_INSERT_EVENT = t.complaint_events.insert()


def _event(
    conn: Connection,
    complaint_id: int,
    now: datetime,
    type_: str,
    actor: str,
    from_status: str | None,
    to_status: str | None,
    note: str | None,
    data: Mapping[str, Any],
) -> None:
    conn.execute(
        _INSERT_EVENT,
        {
            "complaint_id": complaint_id,
            "at": now,
            "type": type_,
            "actor": actor,
            "from_status": from_status,
            "to_status": to_status,
            "note": note,
            "data": dict(data),
        },
    )


def record_event(
    conn: Connection, row, now: datetime, type_: str, actor: str, data: Mapping[str, Any]
) -> None:
    """An event that changes nothing of the complaint (e.g. a reply drafted)."""
    if type_ not in vocab.EVENTS:
        raise ValueError(f"unknown event type {type_}")
    _event(conn, row.id, now, type_, actor, None, None, None, data)


# ---- register -------------------------------------------------------------


def _by_key(conn: Connection, key: str):
    return conn.execute(select(t.complaints).where(C.idempotency_key == key)).first()


def _replay(rt: Runtime, conn: Connection, row, request_hash: str | None) -> dict[str, Any]:
    if request_hash and row.request_hash and row.request_hash != request_hash:
        raise Problem(
            422,
            "idempotency_key_reused",
            "Idempotency key reused",
            "该 Idempotency-Key 已用于另一份不同内容的投诉登记，请换一个新的键。",
        )
    return full_view(rt, conn, row)


def present(view: dict[str, Any], p: Principal) -> dict[str, Any]:
    """A complaint as a principal sees it: personal data masked (see accounts.masking)."""
    return masking.complaint_view(view)


def _visible(row, p: Principal, number: str) -> None:
    """Out of a reseller's scope reads as not found, so numbers do not leak."""
    if p.scope == "org" and row.reseller != p.org:
        raise not_found("投诉单", number)
    if p.scope == "own" and row.customer_phone_hash != p.phone_hash:
        raise not_found("投诉单", number)


def _same_scope(existing, p: Principal) -> None:
    """An Idempotency-Key already used outside the caller's scope: refused, nothing revealed."""
    try:
        _visible(existing, p, "")
    except Problem:
        raise Problem(
            422,
            "idempotency_key_reused",
            "Idempotency key reused",
            "该 Idempotency-Key 已被使用，请换一个新的键。",
        ) from None


def register(
    rt: Runtime,
    data: Mapping[str, Any],
    actor: Actor,
    idempotency_key: str | None = None,
    request_hash: str | None = None,
) -> tuple[dict[str, Any], bool]:
    """Register a complaint. Returns (the complaint, whether it was created now).

    Without a category, the triage classifier fills it in when it is confident
    enough; the registration event records that it was automatic, and how sure.
    A reseller's complaints are tied to its organisation.
    """
    p = as_principal(actor)
    if p.kind != "customer":
        require(p, "complaint.register")
    data = dict(data)
    if p.scope == "org":
        data["reseller"] = p.org
    now = rt.clock()
    if idempotency_key:
        with read(rt.engine) as conn:
            existing = _by_key(conn, idempotency_key)
            if existing is not None:
                _same_scope(existing, p)
                return present(_replay(rt, conn, existing, request_hash), p), False
    from kesu.triage.service import on_arrival

    try:
        with write(rt.engine) as conn:
            # Triage reads the complaint's history on the same connection.
            data, auto = on_arrival(rt, data, conn)
            row, deadline_rows = _insert(
                rt, conn, data, p.name, now, idempotency_key, request_hash, auto
            )
            audit(
                conn,
                p,
                now,
                "complaint.register",
                "complaint",
                row.number,
                {"channel": row.channel, "kind": row.kind, "reseller": row.reseller},
            )
            return present(full_view(rt, conn, row, deadline_rows), p), True
    except IntegrityError:
        if not idempotency_key:
            raise
        with read(rt.engine) as conn:
            existing = _by_key(conn, idempotency_key)
            if existing is None:
                raise
            _same_scope(existing, p)
            return present(_replay(rt, conn, existing, request_hash), p), False


# A clock slightly ahead on the caller's side is tolerated, a receipt in the future is not.
_FUTURE_TOLERANCE = timedelta(minutes=5)


def _check_received(data: Mapping[str, Any], now: datetime) -> None:
    received = data.get("received_at")
    if received is not None and as_utc(received) - now > _FUTURE_TOLERANCE:
        raise Problem(
            422,
            "received_in_future",
            "Receipt time in the future",
            "受理时间（received_at）不能晚于当前时间。",
        )


def build_row(data: Mapping[str, Any], actor: str, now: datetime) -> dict[str, Any]:
    """The complaint row for validated input (without number, id and deadlines)."""
    _check_received(data, now)
    customer = data["customer"]
    kind = data.get("kind") or "complaint"
    flags = sorted(set(data.get("risk_flags") or ()))
    channel = data["channel"]
    received_at = as_utc(data.get("received_at") or now)
    return {
        "status": "registered",
        "is_open": True,
        "kind": kind,
        "category": data.get("category"),
        "channel": channel,
        "channel_level": vocab.channel_level(channel),
        "validity": "valid",
        "priority": data.get("priority") or vocab.default_priority(kind, channel, set(flags)),
        "risk_flags": flags,
        "title": data.get("title"),
        "description": data["description"],
        "demands": data.get("demands"),
        "received_at": received_at,
        "created_at": now,
        "updated_at": now,
        # Encrypted here, so that every insert path (COPY included) stores ciphertext.
        "customer_phone": _enc(customer["phone"]),
        "customer_phone_hash": crypto.phone_hash(customer["phone"]),
        "customer_name": _enc(customer.get("name")),
        "customer_account": _enc(customer.get("account")),
        "customer_province": customer.get("province"),
        "customer_city": customer.get("city"),
        "customer_area": customer.get("area") or "urban",
        "compensation": None,
        "team": data.get("team") or "frontline",
        "first_receiver": data.get("first_receiver") or actor,
        "assignee": data.get("assignee"),
        "reopen_count": 0,
        "callback_attempts": 0,
        "escalation_level": 0,
        "version": 1,
        "reseller": data.get("reseller"),
        "legal_hold": False,
    }


def _dec(value: str | None) -> str | None:
    """A personal field of a row just built (still ciphertext) or read (already plain)."""
    return value if not value else crypto.keyring().decrypt(value)


def _enc(value: str | None) -> str | None:
    return value if not value else crypto.keyring().encrypt(value)


_COLUMNS = tuple(col.name for col in t.complaints.columns)
_INSERT_COMPLAINT = t.complaints.insert().returning(C.id)
_INSERT_DEADLINES = t.deadlines.insert()
_SET_NUMBER = update(t.complaints).where(C.id == bindparam("cid")).values(number=bindparam("n"))


def _prepare(rt, data, actor, now, calendar) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    row = build_row(data, actor, now)
    planned = deadlines.plan(rt.rules, _facts(row), "received", row["received_at"], calendar)
    row["next_due_at"] = min((d["due_at"] for d in planned), default=None)
    return row, planned


def _registered_event(row, planned, actor, now, note=None, triage=None) -> dict[str, Any]:
    data = {
        "channel": row["channel"],
        "kind": row["kind"],
        "category": row["category"],
        "received_at": _iso(row["received_at"]),
        "deadlines": [d["rule"] for d in planned],
    }
    if triage:
        data["triage"] = triage
    return {
        "at": now,
        "type": "registered",
        "actor": actor,
        "from_status": None,
        "to_status": "registered",
        "note": note,
        "data": data,
    }


def _insert(rt, conn, data, actor, now, idempotency_key, request_hash, triage=None):
    row, planned = _prepare(rt, data, actor, now, rt.calendar(conn))
    row["idempotency_key"] = idempotency_key
    row["request_hash"] = request_hash
    late = conn.dialect.name == "postgresql"
    # On PostgreSQL the day's counter row is locked from the moment a number is
    # taken until commit: take it last, so concurrent registrations overlap.
    row["number"] = f"~{uuid.uuid4().hex[:19]}" if late else next_number(conn, now)
    cid = conn.execute(_INSERT_COMPLAINT, row).scalar_one()
    for d in planned:
        d["complaint_id"] = cid
    if planned:
        conn.execute(_INSERT_DEADLINES, planned)
    event = _registered_event(row, planned, actor, now, triage=triage)
    conn.execute(_INSERT_EVENT, {"complaint_id": cid, **event})
    if late:
        row["number"] = next_number(conn, now)
        conn.execute(_SET_NUMBER, {"cid": cid, "n": row["number"]})
    stored = SimpleNamespace(**{**dict.fromkeys(_COLUMNS), **row, "id": cid})
    by_due = sorted(planned, key=lambda d: d["due_at"])  # as get() orders them
    return stored, [SimpleNamespace(**d) for d in by_due]


def bulk_import(rt: Runtime, items: list[Mapping[str, Any]], actor: Actor) -> list[str]:
    """Register many validated complaints in one transaction; returns their numbers.

    The numbers are reserved first in a short transaction of their own, so
    registrations at the counter are not held up by a long import; if the
    import fails, its numbers are skipped, never reused.
    """
    p = as_principal(actor)
    require(p, "complaint.register")
    actor = p.name
    now = rt.clock()
    if not items:
        return []
    for data in items:
        _check_received(data, now)  # before numbers are reserved
    with write(rt.engine) as conn:
        numbers = next_numbers(conn, now, len(items))
    with write(rt.engine) as conn:
        calendar = rt.calendar(conn)
        ids = bulk.allocate_ids(conn, t.complaints, len(items))
        rows, all_deadlines, events = [], [], []
        for data, number, cid in zip(items, numbers, ids, strict=True):
            row, planned = _prepare(rt, data, actor, now, calendar)
            row["number"] = number
            row["id"] = cid
            rows.append(row)
            for d in planned:
                d["complaint_id"] = cid
            all_deadlines.extend(planned)
            events.append(
                {"complaint_id": cid, **_registered_event(row, planned, actor, now, "批量导入")}
            )
        bulk.insert_many(conn, t.complaints, rows)
        bulk.insert_many(conn, t.deadlines, all_deadlines)
        bulk.insert_many(conn, t.complaint_events, events)
        audit(
            conn,
            p,
            now,
            "complaint.import",
            None,
            None,
            {"count": len(rows), "first": numbers[0], "last": numbers[-1]},
        )
    return numbers


# ---- read -----------------------------------------------------------------


def _load(conn: Connection, number: str, lock: bool = False):
    stmt = select(t.complaints).where(C.number == number)
    if lock and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).first()
    if row is None:
        raise not_found("投诉单", number)
    return row


def load_visible(conn: Connection, number: str, p: Principal, lock: bool = False):
    """A complaint row the principal may see (404 otherwise)."""
    row = _load(conn, number, lock=lock)
    _visible(row, p, number)
    return row


def get(rt: Runtime, number: str, actor: Actor = "system") -> dict[str, Any]:
    p = as_principal(actor)
    if p.kind != "customer":
        require(p, "complaint.read")
    with read(rt.engine) as conn:
        return present(full_view(rt, conn, load_visible(conn, number, p)), p)


def personal_data(rt: Runtime, number: str, actor: Actor, reason: str) -> dict[str, Any]:
    """The unmasked customer data of a complaint: the explicit, audited "show" action."""
    p = as_principal(actor)
    require(p, "pii.show")
    now = rt.clock()
    with write(rt.engine) as conn:
        row = load_visible(conn, number, p)
        audit(conn, p, now, "pii.show", "complaint", number, {"reason": reason})
        return {
            "number": number,
            "customer": {
                "phone": row.customer_phone,
                "name": row.customer_name,
                "account": row.customer_account,
                "province": row.customer_province,
                "city": row.customer_city,
                "area": row.customer_area,
            },
            "description": row.description,
            "demands": row.demands,
            "shown_to": p.name,
            "shown_at": _iso(now),
        }


def events(rt: Runtime, number: str, actor: Actor = "system") -> list[dict[str, Any]]:
    p = as_principal(actor)
    if p.kind != "customer":
        require(p, "complaint.read")
    with read(rt.engine) as conn:
        row = load_visible(conn, number, p)
        rows = conn.execute(
            select(t.complaint_events)
            .where(t.complaint_events.c.complaint_id == row.id)
            .order_by(t.complaint_events.c.id)
        ).all()
    return [
        {
            "id": e.id,
            "at": _iso(e.at),
            "type": e.type,
            "type_name": vocab.EVENTS.get(e.type, {}).get("name", e.type),
            "actor": e.actor,
            "from_status": e.from_status,
            "to_status": e.to_status,
            "note": masking.text(e.note),
            "data": masking.deep_text(e.data),
        }
        for e in rows
    ]


def _bad_cursor() -> Problem:
    return Problem(
        400, "invalid_cursor", "Invalid cursor", "分页游标（cursor）无效，请从第一页重新查询。"
    )


def _cursor_encode(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def _cursor_decode(cursor: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list):
            raise ValueError
        return values
    except (ValueError, TypeError, UnicodeDecodeError):
        raise _bad_cursor() from None


def _filters(f: Mapping[str, Any], now: datetime) -> list:
    conds = []
    if f.get("status"):
        conds.append(C.status.in_(f["status"]))
    if f.get("open") is not None:
        conds.append(C.is_open if f["open"] else ~C.is_open)
    for key in ("kind", "category", "channel", "team", "priority", "assignee"):
        if f.get(key):
            conds.append(getattr(C, key).in_(f[key]))
    if f.get("flag"):
        # risk_flags is a JSON list; its text holds each code in quotes on both databases.
        conds.append(or_(*(cast(C.risk_flags, String).like(f'%"{code}"%') for code in f["flag"])))
    if f.get("due_within") is not None:
        conds += [C.is_open, C.next_due_at >= now, C.next_due_at < now + f["due_within"]]
    if f.get("overdue"):
        conds += [C.is_open, C.next_due_at < now]
    if f.get("due_before") is not None:
        conds += [C.is_open, C.next_due_at < f["due_before"]]
    if f.get("received_from") is not None:
        conds.append(C.received_at >= f["received_from"])
    if f.get("received_to") is not None:
        conds.append(C.received_at < f["received_to"])
    if f.get("customer_phone"):
        conds.append(C.customer_phone_hash == crypto.phone_hash(f["customer_phone"]))
    if q := f.get("q"):
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conds.append(
            or_(
                C.number == q,
                C.title.like(like, escape="\\"),
                C.description.like(like, escape="\\"),
            )
        )
    return conds


def _scope(p: Principal) -> list:
    if p.scope == "org":
        return [C.reseller == p.org]
    if p.scope == "own":
        return [C.customer_phone_hash == p.phone_hash]
    return []


def list_complaints(rt: Runtime, f: Mapping[str, Any], actor: Actor = "system") -> dict[str, Any]:
    """A page of complaints. sort: `received` (newest first) or `due` (next deadline first)."""
    p = as_principal(actor)
    if p.kind != "customer":
        require(p, "complaint.read")
    now = rt.clock()
    limit = f.get("limit", 50)
    conds = _filters(f, now) + _scope(p)
    sort = f.get("sort", "received")
    cursor = _cursor_decode(f["cursor"]) if f.get("cursor") else None
    with read(rt.engine) as conn:
        if sort == "due":
            rows, next_cursor = _page_by_due(conn, conds, cursor, limit)
        else:
            rows, next_cursor = _page_by_received(conn, conds, cursor, limit)
        merged = {}
        ids = [r.merged_into_id for r in rows if r.merged_into_id]
        if ids:
            merged = dict(conn.execute(select(C.id, C.number).where(C.id.in_(ids))).all())
    return {
        "items": [present(summary(r, now, merged.get(r.merged_into_id)), p) for r in rows],
        "next_cursor": next_cursor,
    }


# What a list row shows (summary()); the long texts stay out of list queries.
_LIST_COLUMNS = [
    C[name]
    for name in (
        "id",
        "number",
        "status",
        "is_open",
        "kind",
        "category",
        "channel",
        "channel_level",
        "validity",
        "invalid_reason",
        "priority",
        "risk_flags",
        "title",
        "received_at",
        "customer_phone",
        "customer_name",
        "customer_account",
        "customer_province",
        "customer_city",
        "customer_area",
        "team",
        "assignee",
        "next_due_at",
        "reopen_count",
        "merged_into_id",
        "version",
        "reseller",
        "legal_hold",
    )
]


def _page_by_received(conn, conds, cursor, limit):
    stmt = select(*_LIST_COLUMNS).where(*conds)
    if cursor:
        try:
            at, cid = datetime.fromisoformat(cursor[0]), int(cursor[1])
        except (ValueError, TypeError, IndexError):
            raise _bad_cursor() from None
        stmt = stmt.where(tuple_(C.received_at, C.id) < tuple_(at, cid))
    rows = conn.execute(stmt.order_by(C.received_at.desc(), C.id.desc()).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = _cursor_encode([as_utc(rows[-1].received_at).isoformat(), rows[-1].id]) if more else None
    return rows, nxt


def _page_by_due(conn, conds, cursor, limit):
    """Deadline order: rows with a next deadline first (by due time), then the rest by id."""
    rows: list = []
    phase, at, cid = "due", None, None
    if cursor:
        try:
            phase = cursor[0]
            at = datetime.fromisoformat(cursor[1]) if cursor[1] else None
            cid = int(cursor[2])
            if phase not in ("due", "none"):
                raise ValueError
        except (ValueError, TypeError, IndexError):
            raise _bad_cursor() from None
    if phase == "due":
        stmt = select(*_LIST_COLUMNS).where(*conds, C.next_due_at.is_not(None))
        if at is not None:
            stmt = stmt.where(or_(C.next_due_at > at, and_(C.next_due_at == at, C.id > cid)))
        rows = conn.execute(stmt.order_by(C.next_due_at, C.id).limit(limit + 1)).all()
        if len(rows) > limit:
            last = rows[limit - 1]
            return rows[:limit], _cursor_encode(
                ["due", as_utc(last.next_due_at).isoformat(), last.id]
            )
        cid = None
    need = limit - len(rows)
    stmt = select(*_LIST_COLUMNS).where(*conds, C.next_due_at.is_(None))
    if cid is not None:
        stmt = stmt.where(C.id > cid)
    more = conn.execute(stmt.order_by(C.id).limit(need + 1)).all()
    rows = rows + more[:need]
    if len(more) > need:
        return rows, _cursor_encode(["none", None, rows[-1].id])
    return rows, None


def count(rt: Runtime, f: Mapping[str, Any], actor: Actor = "system") -> int:
    p = as_principal(actor)
    require(p, "complaint.read")
    with read(rt.engine) as conn:
        return conn.execute(
            select(func.count())
            .select_from(t.complaints)
            .where(*_filters(f, rt.clock()), *_scope(p))
        ).scalar_one()


# ---- transitions ------------------------------------------------------------


def _problem(err: lifecycle.LifecycleError, allowed: list[str]) -> Problem:
    if isinstance(err, lifecycle.NotAllowed):
        return Problem(409, err.code, "Action not allowed", err.detail, allowed_actions=allowed)
    return Problem(422, err.code, "Invalid action input", err.detail, allowed_actions=allowed)


def _apply(
    rt: Runtime,
    conn: Connection,
    row,
    outcome: lifecycle.Outcome,
    actor: str,
    note: str | None,
    now: datetime,
    extra_data: Mapping[str, Any] | None = None,
) -> None:
    changes: dict[str, Any] = dict(outcome.changes)
    event_data: dict[str, Any] = {"action": outcome.action}
    if "category" in changes:
        event_data["previous_category"] = row.category
    if "merged_into" in changes:
        target_number = changes.pop("merged_into")
        target = _merge_target(conn, row, target_number)
        changes["merged_into_id"] = target.id
        event_data["merged_into"] = target_number
        _event(
            conn,
            target.id,
            now,
            "duplicate_merged",
            actor,
            target.status,
            target.status,
            note,
            {"duplicate": row.number},
        )
    if outcome.converted:
        changes["converted_at"] = now
    status = outcome.status
    is_open = status in lifecycle.OPEN_STATUSES
    if outcome.meets:
        met = deadlines.meet(conn, rt, row.id, outcome.meets, now)
        if met:
            event_data["deadlines_met"] = met
    facts_row = {**row._mapping, **changes}
    started: list[str] = []
    if outcome.starts:
        started += [
            d["rule"]
            for d in deadlines.start(conn, rt, row.id, _facts(facts_row), outcome.starts, now)
        ]
    if outcome.converted:
        started += [
            d["rule"] for d in deadlines.start(conn, rt, row.id, _facts(facts_row), "received", now)
        ]
    if started:
        event_data["deadlines_started"] = started
    changes["next_due_at"] = deadlines.next_due(conn, row.id) if is_open else None
    conn.execute(
        update(t.complaints)
        .where(C.id == row.id)
        .values(**changes, status=status, is_open=is_open, updated_at=now, version=C.version + 1)
    )
    for key, value in changes.items():
        if key in (
            "next_due_at",
            "merged_into_id",
            "converted_at",
            "replied_at",
            "closed_at",
            "accepted_at",
        ):
            continue
        event_data.setdefault("changes", {})[key] = (
            _money(value)
            if isinstance(value, Decimal)
            else _iso(value)
            if isinstance(value, datetime)
            else value
        )
    event_data.update(extra_data or {})
    _event(conn, row.id, now, outcome.event, actor, row.status, status, note, event_data)


def _merge_target(conn: Connection, row, number: str):
    target = conn.execute(select(t.complaints).where(C.number == number)).first()
    if target is None:
        raise Problem(
            422,
            "merge_target_not_found",
            "Merge target not found",
            f"要合并到的投诉单“{number}”不存在。",
        )
    if not target.is_open:
        raise Problem(
            409,
            "merge_target_closed",
            "Merge target closed",
            f"投诉单“{number}”已结束（{vocab.STATUSES[target.status]['name']}），"
            "不能作为合并目标。",
        )
    return target


def transition(
    rt: Runtime,
    number: str,
    action: str,
    params: Mapping[str, Any],
    actor: Actor,
    expected_version: int | None = None,
) -> dict[str, Any]:
    p = as_principal(actor)
    now = rt.clock()
    with write(rt.engine) as conn:
        if action == "merge" and params.get("into") and conn.dialect.name == "postgresql":
            # Lock both complaints in id order, so that A→B and B→A cannot both win.
            conn.execute(
                select(C.id)
                .where(C.number.in_([number, str(params["into"])]))
                .order_by(C.id)
                .with_for_update()
            ).all()
        row = load_visible(conn, number, p, lock=True)
        require_any(p, action_permissions(action), f"投诉单操作“{action}”")
        if action == "merge" and params.get("into"):
            target = conn.execute(
                select(t.complaints).where(C.number == str(params["into"]))
            ).first()
            if target is not None:
                _visible(target, p, str(params["into"]))
        state = _state(row)
        allowed = lifecycle.allowed_actions(state, rt.policy, now)
        if expected_version is not None and expected_version != row.version:
            raise Problem(
                409,
                "version_conflict",
                "Edit conflict",
                f"投诉单已被他人修改（当前版本 {row.version}，您看到的是 {expected_version}），"
                "请刷新后再操作。",
                current_version=row.version,
                allowed_actions=allowed,
            )
        try:
            outcome = lifecycle.decide(state, action, params, rt.policy, now)
        except lifecycle.LifecycleError as err:
            raise _problem(err, allowed) from None
        _apply(rt, conn, row, outcome, p.name, params.get("note"), now)
        after = _load(conn, number)
        audit(
            conn,
            p,
            now,
            f"complaint.{action}",
            "complaint",
            number,
            {"before": _audit_fields(row), "after": _audit_fields(after)},
        )
        return present(full_view(rt, conn, after), p)


_AUDITED = (
    "status",
    "category",
    "priority",
    "team",
    "assignee",
    "compensation",
    "resolution",
    "risk_flags",
    "escalation_level",
    "callback_result",
    "version",
)


def _audit_fields(row) -> dict[str, Any]:
    out = {}
    for name in _AUDITED:
        value = getattr(row, name)
        if isinstance(value, Decimal):
            value = f"{value:.2f}"
        out[name] = masking.text(value) if isinstance(value, str) else value
    return out


def _handle_breach(rt: Runtime, conn: Connection, deadline, now: datetime) -> None:
    """Record a breach; then what the rule sets off (conversion, escalation)."""
    row = conn.execute(select(t.complaints).where(C.id == deadline.complaint_id)).one()
    rule = rt.rules.get(deadline.rule)
    data: dict[str, Any] = {"rule": deadline.rule, "due_at": _iso(deadline.due_at)}
    if rule is not None and rule.remedy:
        data["remedy"] = rule.remedy
    _event(
        conn,
        row.id,
        now,
        "deadline_breached",
        "system",
        row.status,
        row.status,
        f"“{rule.name if rule else deadline.rule}”已超期。",
        data,
    )
    if rule is None or not row.is_open:
        return
    state = _state(row)
    if rule.on_breach == "convert_to_complaint":
        outcome = lifecycle.convert_on_breach(state)
        if outcome is not None:
            _apply(rt, conn, row, outcome, "system", "咨询超过处理时限，转为投诉。", now)
    elif rule.on_breach == "escalate" and "escalate" in lifecycle.allowed_actions(
        state, rt.policy, now
    ):
        outcome = lifecycle.decide(state, "escalate", {}, rt.policy, now)
        _apply(rt, conn, row, outcome, "system", "内部时限超期，自动升级。", now)


def watch_once(rt: Runtime, now: datetime | None = None, batch: int = 200) -> int:
    """One pass of the deadline watcher: mark every passed, unmet deadline breached, once.

    Safe with several workers: on PostgreSQL each complaint row is locked
    (SKIP LOCKED) before its deadline is marked, and the mark is a conditional
    update, so a breach is recorded by exactly one worker.
    """
    now = now or rt.clock()
    total = 0
    pg = rt.engine.dialect.name == "postgresql"
    while True:
        with write(rt.engine) as conn:
            due = deadlines.due_unbreached(conn, now, batch)
            done = 0
            for d in due:
                if pg:
                    locked = conn.execute(
                        select(C.id).where(C.id == d.complaint_id).with_for_update(skip_locked=True)
                    ).first()
                    if locked is None:
                        continue
                if deadlines.mark_breached(conn, d.id, now):
                    _handle_breach(rt, conn, d, now)
                    done += 1
        total += done
        if len(due) < batch or done == 0:
            return total


def warn_once(rt: Runtime, now: datetime | None = None, batch: int = 200) -> int:
    """One pass of the early warning: an event on each complaint whose deadline is near.

    Each rule says how long before its due time to warn (deadline_rules.yaml);
    a deadline is warned about once, whatever the number of workers.
    """
    now = now or rt.clock()
    horizon = max((r.warn_before for r in rt.rules.values()), default=None)
    if not horizon:
        return 0
    pg = rt.engine.dialect.name == "postgresql"
    total = 0
    after = None
    while True:
        with write(rt.engine) as conn:
            stmt = deadlines.warning_candidates_stmt(now, horizon, batch)
            if after is not None:
                d_ = t.deadlines.c
                stmt = stmt.where(tuple_(d_.due_at, d_.id) > tuple_(*after))
            candidates = conn.execute(stmt).all()
            for d in candidates:
                rule = rt.rules.get(d.rule)
                if rule is None or not rule.warn_before or d.due_at - rule.warn_before > now:
                    continue
                if (
                    pg
                    and conn.execute(
                        select(C.id).where(C.id == d.complaint_id).with_for_update(skip_locked=True)
                    ).first()
                    is None
                ):
                    continue
                if deadlines.mark_warned(conn, d.id, now):
                    left = d.due_at - now
                    hours = round(left.total_seconds() / 3600, 1)
                    _event(
                        conn,
                        d.complaint_id,
                        now,
                        "deadline_warning",
                        "system",
                        None,
                        None,
                        f"“{rule.name}”将于 {hours} 小时后到期。",
                        {"rule": d.rule, "due_at": _iso(d.due_at), "hours_left": hours},
                    )
                    total += 1
        if len(candidates) < batch:
            return total
        after = (candidates[-1].due_at, candidates[-1].id)


def corrections(rt: Runtime, actor: Actor = "system") -> list[dict[str, Any]]:
    """Complaints whose category a person corrected: future training data (text, category, kind).

    An export: the texts are masked (personal numbers struck) and the export is audited.
    """
    p = as_principal(actor)
    require(p, "complaint.read")
    e = t.complaint_events.c
    with write(rt.engine) as conn:
        rows = conn.execute(
            select(C.number, C.title, C.description, C.category, C.kind)
            .where(C.id.in_(select(e.complaint_id).where(e.type == "recategorized")))
            .where(*_scope(p))
            .order_by(C.id)
        ).all()
        audit(
            conn,
            p,
            rt.clock(),
            "export",
            None,
            None,
            {"what": "triage corrections", "rows": len(rows)},
        )
    return [
        {
            "number": r.number,
            "text": masking.text("\n".join(x for x in (r.title, r.description) if x)),
            "category": r.category,
            "kind": r.kind if r.kind != "appeal" else "complaint",
        }
        for r in rows
    ]


def load_calendar_year(rt: Runtime, override, actor: Actor) -> dict[str, Any]:
    """Store a year's calendar and recompute the unmet deadlines it changes."""
    p = as_principal(actor)
    require(p, "calendar.manage")
    actor = p.name
    now = rt.clock()
    with write(rt.engine) as conn:
        existing = conn.execute(
            select(t.calendar_years).where(t.calendar_years.c.year == override.year)
        ).first()
        values = {
            "official": override.official,
            "source": override.source,
            "data": {k: v for k, v in override.as_json().items() if k in ("holidays", "workdays")},
            "loaded_at": now,
            "loaded_by": actor,
        }
        if existing is None:
            conn.execute(t.calendar_years.insert().values(year=override.year, **values))
        else:
            conn.execute(
                update(t.calendar_years)
                .where(t.calendar_years.c.year == override.year)
                .values(**values)
            )
        audit(
            conn,
            p,
            now,
            "calendar.load",
            "calendar",
            str(override.year),
            {
                "official": override.official,
                "source": override.source,
                "before": None if existing is None else dict(existing.data),
            },
        )
        calendar = deadlines.build_calendar(rt.engine, conn)
        touched = deadlines.recompute(conn, rt, calendar)
        for cid in touched:
            conn.execute(
                update(t.complaints)
                .where(C.id == cid, C.is_open)
                .values(next_due_at=deadlines.next_due(conn, cid))
            )
    rt.invalidate_calendar()
    return {
        "year": override.year,
        "official": override.official,
        "calendar_version": calendar.version,
        "complaints_recomputed": len(touched),
    }
