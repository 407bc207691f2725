"""Reading complaints: one by number within the caller's scope, lists with filters and
cursors, counts, the history, and the scope rule other slices call.

`scope_conditions(principal)` is the one definition of what a principal may see
(a reseller its organisation's complaints, a customer those of the number they
proved they hold); reports, teams and the pages use it instead of re-deriving it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, String, and_, cast, func, or_, select, tuple_

from kesu.accounts import crypto
from kesu.accounts.roles import Actor, Principal, as_principal, require
from kesu.clock import as_utc
from kesu.complaints import events as history
from kesu.complaints import lifecycle
from kesu.complaints.views import full_view, present, summary
from kesu.problems import Problem, not_found
from kesu.store import tables as t
from kesu.store.db import read

if TYPE_CHECKING:
    from kesu.runtime import Runtime

C = t.complaints.c


def scope_conditions(p: Principal) -> list:
    """SQL conditions on `complaints` limiting a principal to what it may see."""
    if p.scope == "org":
        return [C.reseller == p.org]
    if p.scope == "own":
        return [C.customer_phone_hash == p.phone_hash]
    return []


def visible(row, p: Principal) -> bool:
    """Whether the principal may see this complaint row."""
    if p.scope == "org":
        return row.reseller == p.org
    if p.scope == "own":
        return row.customer_phone_hash == p.phone_hash
    return True


def find(conn: Connection, number: str):
    """The complaint row by number, or None."""
    return conn.execute(select(t.complaints).where(C.number == number)).first()


def check_visible(row, p: Principal, number: str) -> None:
    """Out of a reseller's scope reads as not found, so numbers do not leak."""
    if p.scope == "org" and row.reseller != p.org:
        raise not_found("投诉单", number)
    if p.scope == "own" and row.customer_phone_hash != p.phone_hash:
        raise not_found("投诉单", number)


def load(conn: Connection, number: str, lock: bool = False):
    """The complaint row by number (404 when there is none); `lock` on PostgreSQL."""
    stmt = select(t.complaints).where(C.number == number)
    if lock and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).first()
    if row is None:
        raise not_found("投诉单", number)
    return row


def load_visible(conn: Connection, number: str, p: Principal, lock: bool = False):
    """A complaint row the principal may see (404 otherwise)."""
    row = load(conn, number, lock=lock)
    check_visible(row, p, number)
    return row


def try_lock(conn: Connection, complaint_id: int) -> bool:
    """On PostgreSQL, lock the complaint row unless another worker holds it (SKIP LOCKED);
    on SQLite the write transaction already excludes other writers."""
    if conn.dialect.name != "postgresql":
        return True
    stmt = select(C.id).where(C.id == complaint_id).with_for_update(skip_locked=True)
    return conn.execute(stmt).first() is not None


def load_by_id(conn: Connection, complaint_id: int):
    return conn.execute(select(t.complaints).where(C.id == complaint_id)).one()


def _reader(p: Principal) -> None:
    if p.kind != "customer":
        require(p, "complaint.read")


def get(rt: Runtime, number: str, actor: Actor = "system") -> dict[str, Any]:
    p = as_principal(actor)
    _reader(p)
    with read(rt.engine) as conn:
        return present(full_view(rt, conn, load_visible(conn, number, p), p), p)


def events(rt: Runtime, number: str, actor: Actor = "system") -> list[dict[str, Any]]:
    p = as_principal(actor)
    _reader(p)
    with read(rt.engine) as conn:
        return history.history(conn, load_visible(conn, number, p).id)


# ---- lists ------------------------------------------------------------------


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


def awaiting_approval(policy: lifecycle.Policy):
    """SQL: proposed and waiting for approval, as complaints.approval.waiting says
    (compensation above the threshold, or a risk flag that needs approval)."""
    # risk_flags is a JSON list; its text holds each code in quotes on both databases.
    flags_text = cast(C.risk_flags, String)
    return and_(
        C.status == "proposed",
        or_(
            C.compensation > policy.approval_threshold,
            *(flags_text.like(f'%"{flag}"%') for flag in sorted(policy.approval_flags)),
        ),
    )


ME = "me"


def filters(
    f: Mapping[str, Any],
    now: datetime,
    policy: lifecycle.Policy | None = None,
    p: Principal | None = None,
) -> list:
    """SQL conditions for the list filters (status, kind, …, due, received, phone, q,
    awaiting approval under `policy`); the assignee `me` is the principal listing."""
    if p is not None and f.get("assignee") and ME in f["assignee"]:
        f = {**f, "assignee": [p.name if a == ME else a for a in f["assignee"]]}
    conds = []
    if f.get("awaiting_approval"):
        conds.append(awaiting_approval(policy or lifecycle.Policy()))
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
    if f.get("numbers"):
        conds.append(C.number.in_(list(f["numbers"])))
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


def list_complaints(rt: Runtime, f: Mapping[str, Any], actor: Actor = "system") -> dict[str, Any]:
    """A page of complaints. sort: `received` (newest first) or `due` (next deadline first)."""
    p = as_principal(actor)
    _reader(p)
    now = rt.clock()
    limit = f.get("limit", 50)
    conds = filters(f, now, rt.policy, p) + scope_conditions(p)
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
            .where(*filters(f, rt.clock(), rt.policy, p), *scope_conditions(p))
        ).scalar_one()


def scan(
    rt: Runtime, f: Mapping[str, Any], actor: Actor = "system", batch: int = 1000
) -> Iterator[list[dict[str, Any]]]:
    """Every complaint matching the list filters, newest first,
    as masked list rows in batches: each batch is its own short read (keyset on received
    time and id), so neither the rows nor a transaction are held while the caller writes
    them out. Complaints registered after the scan started are left out."""
    p = as_principal(actor)
    _reader(p)
    now = rt.clock()
    conds = filters(f, now, rt.policy, p) + scope_conditions(p)
    with read(rt.engine) as conn:
        top = conn.execute(select(func.max(C.id))).scalar()
    if top is None:
        return
    conds.append(C.id <= top)
    after: tuple[datetime, int] | None = None
    while True:
        stmt = select(*_LIST_COLUMNS).where(*conds)
        if after is not None:
            stmt = stmt.where(tuple_(C.received_at, C.id) < tuple_(*after))
        with read(rt.engine) as conn:
            rows = conn.execute(stmt.order_by(C.received_at.desc(), C.id.desc()).limit(batch)).all()
            ids = [r.merged_into_id for r in rows if r.merged_into_id]
            merged = (
                dict(conn.execute(select(C.id, C.number).where(C.id.in_(ids))).all()) if ids else {}
            )
        if not rows:
            return
        yield [present(summary(r, now, merged.get(r.merged_into_id)), p) for r in rows]
        if len(rows) < batch:
            return
        after = (rows[-1].received_at, rows[-1].id)
