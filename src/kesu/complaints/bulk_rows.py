"""A complaint's rows built before its write transaction (no database, no runtime).

`build_row` is the complaint row of validated input (customer data encrypted here, so
every insert path stores ciphertext); `prepare` adds its deadlines (planned with the
calendar and SLA policies given) and, for a bulk import, its registration history (a
historical closing included). complaints.registration uses both inside its write
transaction; a file import (channels.import_pipeline) prepares rows in a second process
while the first writes the batch before, and registration re-plans a prepared row
whose basis moved (another calendar or policy version, the repeat flag).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from kesu.accounts import crypto
from kesu.clock import as_utc
from kesu.complaints import import_history
from kesu.complaints import vocabulary as vocab
from kesu.complaints.views import facts_of, iso
from kesu.deadlines import service as deadlines
from kesu.problems import Problem
from kesu.store import bulk
from kesu.store import tables as t

# A clock slightly ahead on the caller's side is tolerated, a receipt in the future is not.
FUTURE_TOLERANCE = timedelta(minutes=5)


def check_received(data: Mapping[str, Any], now: datetime) -> None:
    received = data.get("received_at")
    if received is not None and as_utc(received) - now > FUTURE_TOLERANCE:
        raise Problem(
            422,
            "received_in_future",
            "Receipt time in the future",
            "受理时间（received_at）不能晚于当前时间。",
        )


def _enc(value: str | None) -> str | None:
    return value if not value else crypto.keyring().encrypt(value)


def build_row(data: Mapping[str, Any], actor: str, now: datetime) -> dict[str, Any]:
    """The complaint row for validated input (without number, id and deadlines)."""
    check_received(data, now)
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
        "first_assignee": data.get("assignee"),
        "reopen_count": 0,
        "callback_attempts": 0,
        "escalation_level": 0,
        "version": 1,
        "reseller": data.get("reseller"),
        "legal_hold": False,
    }


def plan_row(rules, data, actor, now, calendar, policies) -> tuple[dict[str, Any], list[dict]]:
    """The row and its planned deadlines (next_due_at set from them)."""
    row = build_row(data, actor, now)
    received = row["received_at"]
    planned = deadlines.plan(rules, facts_of(row), "received", received, calendar, policies)
    row["next_due_at"] = min((d["due_at"] for d in planned), default=None)
    return row, planned


def registered_event(
    row, planned, actor, now, note=None, triage=None, intake=None
) -> dict[str, Any]:
    data = {
        "channel": row["channel"],
        "kind": row["kind"],
        "category": row["category"],
        "received_at": iso(row["received_at"]),
        "deadlines": [d["rule"] for d in planned],
    }
    if triage:
        data["triage"] = triage
    if intake:
        data["intake"] = dict(intake)
    return {
        "at": now,
        "type": "registered",
        "actor": actor,
        "from_status": None,
        "to_status": "registered",
        "note": note,
        "data": data,
    }


@dataclass
class Prepared:
    """One item of a bulk import, built: its row, deadlines and history (ids, number,
    complaint ids and routing are added in the write transaction)."""

    item: Mapping[str, Any]
    row: dict[str, Any]
    planned: list[dict[str, Any]]
    history: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Basis:
    """What preparing needs: the rules, the calendar and SLA policies, who, and when."""

    rules: Mapping[str, Any]
    calendar: Any
    policies: Any
    actor: str
    now: datetime
    dialect: str | None = None  # rows encoded for this database's insert (store.bulk)


def prepare(basis: Basis, data: Mapping[str, Any], encode: Encoders | None = None) -> Prepared:
    """An item of a bulk import as rows (the registration's and, for a work order that
    arrived finished, the closing's history)."""
    actor, now = basis.actor, basis.now
    row, planned = plan_row(basis.rules, data, actor, now, basis.calendar, basis.policies)
    row["idempotency_key"] = data.get("idempotency_key")
    row.update(accepted_at=None, replied_at=None, closed_at=None, resolution=None, root_cause=None)
    closed = data.get("closed")
    if closed:
        import_history.close_historical(row, planned, closed, basis.rules)
    event = registered_event(row, planned, actor, now, "批量导入")
    if data.get("intake"):
        event["data"]["intake"] = data["intake"]
    history = [event]
    if closed:
        history.append(import_history.closed_event(0, row, actor, now))
    if encode is not None:
        encode(row, planned, history)
    return Prepared(data, row, planned, history)


# Kept as they are: the writer compares the risk flags with the repeat rule's.
KEEP = frozenset({"risk_flags"})


class Encoders:
    """A batch's rows in the form the insert sends them (store.bulk.Encoder), for
    `dialect`: the complaint, its deadlines and its history."""

    def __init__(self, dialect: str) -> None:
        self.complaint = bulk.Encoder(dialect, t.complaints, KEEP)
        self.deadline = deadlines.encoder(dialect)
        self.event = bulk.Encoder(dialect, t.complaint_events)

    def __call__(self, row: dict, planned: list[dict], history: list[dict]) -> None:
        self.complaint(row)
        for d in planned:
            self.deadline(d)
        for event in history:
            self.event(event)


def prepare_many(basis: Basis, items: Sequence[Mapping[str, Any]]) -> list[Prepared]:
    """The items prepared; encoded for `basis.dialect` when it is set."""
    encode = Encoders(basis.dialect) if basis.dialect else None
    return [prepare(basis, d, encode) for d in items]
