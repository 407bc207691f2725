"""Registering complaints: one at a time (idempotent, triaged) and in bulk.

Every channel (API, portal, hotline form, file imports) ends here. The text
work (classifier, signals) runs before the write transaction opens; inside it
run only the history queries (repeat, mass incident), the inserts and the
number, so the SQLite writer lock is held as briefly as possible.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.exc import IntegrityError

from kesu.accounts.audit import audit
from kesu.accounts.roles import Actor, Principal, as_principal, require, require_any
from kesu.channels import staff_notices, webhooks
from kesu.complaints import assignment, events, import_history
from kesu.complaints.bulk_rows import (
    Basis,
    Encoders,
    Prepared,
    check_received,
    plan_row,
    prepare,
    registered_event,
)
from kesu.complaints.numbering import next_number, next_numbers
from kesu.complaints.queries import check_visible
from kesu.complaints.views import full_view, present
from kesu.deadlines import service as deadlines
from kesu.incidents import arrival as incidents
from kesu.problems import Problem
from kesu.store import bulk
from kesu.store import tables as t
from kesu.store.db import read, write
from kesu.triage import arrival

if TYPE_CHECKING:
    from kesu.runtime import Runtime

C = t.complaints.c


def _by_key(conn: Connection, key: str):
    return conn.execute(select(t.complaints).where(C.idempotency_key == key)).first()


def _replay(rt: Runtime, conn: Connection, row, p: Principal, request_hash: str | None):
    if request_hash and row.request_hash and row.request_hash != request_hash:
        raise Problem(
            422,
            "idempotency_key_reused",
            "Idempotency key reused",
            "该 Idempotency-Key 已用于另一份不同内容的投诉登记，请换一个新的键。",
        )
    return present(full_view(rt, conn, row, p), p)


def _same_scope(existing, p: Principal) -> None:
    """An Idempotency-Key already used outside the caller's scope: refused, nothing revealed."""
    try:
        check_visible(existing, p, "")
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
    guard: Callable[[Connection, datetime], None] | None = None,
    then: Callable[[Connection, Any, datetime], None] | None = None,
    intake: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], bool]:
    """Register a complaint. Returns (the complaint, whether it was created now).

    `guard(conn, now)` runs first inside the write transaction (a limit checked and
    counted atomically with the insert); it refuses by raising a Problem.
    `then(conn, row, now)` runs in it after the insert (a split links the two complaints).

    Without a category, the triage classifier fills it in when it is confident
    enough; the registration event records that it was automatic, and how sure.
    A reseller's complaints are tied to its organisation. `intake`: where a channel's
    complaint came from ({"source": …, "ref": …}), kept in the registration event.
    """
    p = as_principal(actor)
    if p.kind != "customer":
        require(p, "complaint.register")
    idempotency_key = idempotency_key or None  # an empty Idempotency-Key is no key
    data = dict(data)
    if p.scope == "org":
        data["reseller"] = p.org
    now = rt.clock()
    if idempotency_key:
        with read(rt.engine) as conn:
            existing = _by_key(conn, idempotency_key)
            if existing is not None:
                _same_scope(existing, p)
                return _replay(rt, conn, existing, p, request_hash), False
    check_received(data, now)
    check_team(rt, data)
    reading = arrival.read_text(data)  # the CPU work, outside the write transaction
    calendar = rt.calendar()
    policies = rt.sla_policies()  # read now: a policy changed before this takes effect
    try:
        with write(rt.engine) as conn:
            if guard is not None:
                guard(conn, now)
            # Triage reads the complaint's history on the same connection.
            data, auto, incident = arrival.complete(rt, conn, reading)
            row, deadline_rows = _insert(
                rt,
                conn,
                data,
                p.name,
                now,
                idempotency_key,
                request_hash,
                auto,
                calendar,
                policies,
                intake,
            )
            if incident is not None:  # joins an open mass incident, or a spike opens one
                incidents.settle(rt, conn, row, incident, now, p.name)
            webhooks.emit(conn, now, "registered", row)
            if then is not None:
                then(conn, row, now)
            audit(
                conn,
                p,
                now,
                "complaint.register",
                "complaint",
                row.number,
                {"channel": row.channel, "kind": row.kind, "reseller": row.reseller},
            )
            return present(full_view(rt, conn, row, p, deadline_rows), p), True
    except IntegrityError:
        if not idempotency_key:
            raise
        with read(rt.engine) as conn:
            existing = _by_key(conn, idempotency_key)
            if existing is None:
                raise
            _same_scope(existing, p)
            return _replay(rt, conn, existing, p, request_hash), False


def _route(rt, conn, row: dict[str, Any]) -> str | None:
    """A complaint nobody was named for goes by its team's assignment policy (how, or
    None when nobody was assigned)."""
    if row["assignee"] is not None:
        return None
    who, how = assignment.route(rt, conn, row["team"], row["category"])
    if who is None:
        return None
    row["assignee"] = row["first_assignee"] = who
    return how


def check_team(rt: Runtime, data: Mapping[str, Any]) -> None:
    """The team a complaint is registered to must be one of the teams (the database's)."""
    team = data.get("team")
    if team and team not in rt.teams():
        raise Problem(
            422,
            "unknown_team",
            "Unknown team",
            f"未知的班组“{team}”，可选：{'、'.join(rt.teams())}",
        )


_COLUMNS = tuple(col.name for col in t.complaints.columns)
_INSERT_COMPLAINT = t.complaints.insert().returning(C.id)
_SET_NUMBER = update(t.complaints).where(C.id == bindparam("cid")).values(number=bindparam("n"))


def _insert(rt, conn, data, actor, now, key, request_hash, triage, calendar, policies, intake=None):
    row, planned = plan_row(rt.rules, data, actor, now, calendar, policies)
    row["idempotency_key"] = key
    row["request_hash"] = request_hash
    late = conn.dialect.name == "postgresql"
    # On PostgreSQL the day's counter row is locked from the moment a number is
    # taken until commit: take it last, so concurrent registrations overlap.
    row["number"] = f"~{uuid.uuid4().hex[:19]}" if late else next_number(conn, now)
    how = _route(rt, conn, row)
    cid = conn.execute(_INSERT_COMPLAINT, row).scalar_one()
    for d in planned:
        d["complaint_id"] = cid
    deadlines.store(conn, planned)
    event = registered_event(row, planned, actor, now, triage=triage, intake=intake)
    conn.execute(events.INSERT, {"complaint_id": cid, **event})
    if how is not None:
        assignment.assigned_event(conn, cid, now, actor, "registered", row["assignee"], None, how)
    if late:
        row["number"] = next_number(conn, now)
        conn.execute(_SET_NUMBER, {"cid": cid, "n": row["number"]})
    if how is not None:  # the team's policy gave it to someone: they are told
        who = SimpleNamespace(number=row["number"])
        staff_notices.assigned(conn, now, rt.settings.public_url, who, row["assignee"], actor, how)
    stored = SimpleNamespace(**{**dict.fromkeys(_COLUMNS), **row, "id": cid})
    by_due = sorted(planned, key=lambda d: d["due_at"])  # as get() orders them
    return stored, [SimpleNamespace(**d) for d in by_due]


def bulk_import(rt: Runtime, items: list[Mapping[str, Any]], actor: Actor) -> list[str]:
    """Register many validated complaints in one transaction; the numbers of those created.

    The numbers are reserved first in a short transaction of their own, so
    registrations at the counter are not held up by a long import; if the
    import fails, its numbers are skipped, never reused.

    An item may also carry `idempotency_key` (an item whose key is taken already is
    skipped, decided again inside the write transaction: a file imported twice creates
    nothing new), `closed` ({closed_at, resolution}: registered as a historical complaint
    closed then, import_history.close_historical) and `intake` (what the channel
    received, kept on the registration event).
    """
    return _bulk(rt, [Prepared(d, {}, []) for d in items], actor, None)


def import_prepared(
    rt: Runtime, prepared: list[Prepared], actor: Actor, basis: Basis | None
) -> list[str]:
    """bulk_import of items already built (complaints.bulk_rows.prepare with `basis`,
    e.g. in another process): the same checks, skips, numbers and rows. A row whose
    basis moved since (another calendar or SLA policy version, the repeat flag) is
    built again inside the write transaction."""
    return _bulk(rt, prepared, actor, basis)


def _bulk(rt: Runtime, prepared: list[Prepared], actor: Actor, basis: Basis | None) -> list[str]:
    p = as_principal(actor)
    require_any(p, ("complaint.register", "complaint.import"), "批量导入投诉")
    now = rt.clock() if basis is None else basis.now  # prepared rows carry their time
    for one in prepared:
        check_received(one.item, now)  # before numbers are reserved
        check_team(rt, one.item)
    keyed = any(one.item.get("idempotency_key") for one in prepared)
    if keyed:
        with read(rt.engine) as conn:
            bulk.custom_plans(conn)
            prepared = _unregistered(conn, prepared)
    if not prepared:
        return []
    with write(rt.engine) as conn:
        numbers = next_numbers(conn, now, len(prepared))
    for attempt in range(3):
        try:
            return _bulk_write(rt, p, prepared, numbers, now, keyed, basis)
        except Exception as err:  # COPY raises the driver's own UniqueViolation
            # On PostgreSQL another transaction may have registered one of the keys
            # between the check and the insert: the unique key refuses the batch, which
            # is written again without it (its reserved numbers are still ours).
            if not keyed or attempt == 2 or not _unique_violation(err):
                raise
    raise AssertionError("unreachable")


def _unregistered(conn: Connection, prepared: list[Prepared]) -> list[Prepared]:
    left = import_history.unregistered(conn, [one.item for one in prepared])
    out, j = [], 0
    for one in prepared:  # `left` is a subsequence of the items, in order
        if j < len(left) and one.item is left[j]:
            out.append(one)
            j += 1
    return out


def _unique_violation(err: Exception) -> bool:
    orig = getattr(err, "orig", err)
    return isinstance(err, IntegrityError) or getattr(orig, "sqlstate", None) == "23505"


def _bulk_write(rt, p: Principal, prepared, numbers, now, keyed: bool, basis) -> list[str]:
    actor = p.name
    with write(rt.engine) as conn:
        bulk.custom_plans(conn)
        if keyed:  # decided with the insert (SQLite: under the writer lock)
            prepared = _unregistered(conn, prepared)
            if not prepared:
                return []
        numbers = numbers[: len(prepared)]
        here = Basis(rt.rules, rt.calendar(conn), rt.sla_policies(conn), actor, now)
        ids = bulk.allocate_ids(conn, t.complaints, len(prepared))
        items = [one.item for one in prepared]
        hashes = [one.row.get("customer_phone_hash") for one in prepared]
        flags = import_history.repeat_flags(conn, items, ids, now, hashes)
        moved = basis is None or not _same_basis(basis, here)
        dialect = basis.dialect if basis is not None else None
        encode = Encoders(dialect) if dialect else None
        rows, all_deadlines, history = [], [], []
        for one, flagged, number, cid in zip(prepared, flags, numbers, ids, strict=True):
            if moved or sorted(set(flagged["risk_flags"])) != one.row["risk_flags"]:
                one = prepare(here, flagged, encode)  # encoded as the others of the batch
            row = one.row
            row["number"] = number
            row["id"] = cid
            how = None if one.item.get("closed") else _route(rt, conn, row)
            rows.append(row)
            for d in one.planned:
                d["complaint_id"] = cid
            all_deadlines.extend(one.planned)
            for event in one.history:
                event["complaint_id"] = cid
                history.append(event)
            if how is not None:
                data_ = assignment.assigned_data(row["assignee"], None, how)
                assigned = {
                    "complaint_id": cid,
                    "at": now,
                    "type": "assigned",
                    "actor": actor,
                    "from_status": "registered",
                    "to_status": "registered",
                    "note": None,
                    "data": dict(data_),
                }
                if encode is not None:
                    encode.event(assigned)
                history.append(assigned)
        complaint_cols, deadline_cols, event_cols = _NONE
        if encode is not None:
            complaint_cols = encode.complaint.columns
            deadline_cols, event_cols = encode.deadline.columns, encode.event.columns
        bulk.insert_many(conn, t.complaints, rows, complaint_cols)
        deadlines.store_many(conn, all_deadlines, deadline_cols)
        bulk.insert_many(conn, t.complaint_events, history, event_cols)
        opened = [r for r in rows if r["is_open"]]
        webhooks.emit_many(  # a subscriber is sent the complaint as the tables give it
            conn,
            now,
            "registered",
            lambda: [bulk.decoded(r, t.complaints, complaint_cols) for r in opened],
        )
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


_NONE: tuple[frozenset[str], ...] = (frozenset(), frozenset(), frozenset())


def _same_basis(a: Basis, b: Basis) -> bool:
    """Rows prepared with `a` are what `b` would build (the same rules, calendar and
    SLA policy versions, actor and time)."""
    return (
        a.rules is b.rules
        and a.calendar.version == b.calendar.version
        and a.policies.version == b.policies.version
        and a.actor == b.actor
        and a.now == b.now
    )
