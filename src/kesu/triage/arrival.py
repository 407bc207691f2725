"""What triage adds to a complaint being registered, in two steps.

`read_text` is the CPU work (classifier, risk signals from the text): it runs
before the registration opens its write transaction, so the SQLite writer lock
is never held while a model predicts. `complete` adds what needs the history
(repeat, mass incident), on the registration's own connection, and gives the
completed input, the record for the registration event and the mass-incident verdict
(kesu.incidents.arrival: the open incident the complaint joins, or the spike decision
that may open one once the complaint is inserted).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from kesu.accounts import crypto, masking
from kesu.clock import as_utc
from kesu.complaints import lookups, repeats
from kesu.complaints import vocabulary as vocab
from kesu.incidents import arrival as incidents
from kesu.store.db import read
from kesu.triage import model
from kesu.triage.signals import detect

if TYPE_CHECKING:
    from kesu.runtime import Runtime


@dataclass
class Reading:
    """A complaint's text as triage read it, before the history is consulted."""

    data: dict[str, Any]
    record: dict[str, Any] = field(default_factory=dict)
    raised: dict[str, list[str]] = field(default_factory=dict)


def read_text(data: Mapping[str, Any]) -> Reading:
    """Classify (when no category is given) and detect risk signals. No database."""
    out = dict(data)
    record: dict[str, Any] = {}
    text = "\n".join(x for x in (data.get("title"), data["description"]) if x)
    if not data.get("category"):
        try:
            clf = model.shipped()
        except model.ModelMissing:
            clf = None
        if clf is not None:
            [p] = clf.predict([text])
            out["category"] = None if p.needs_review else p.category
            record.update(
                category=out["category"],
                suggested=p.category,
                confidence=p.confidence,
                automatic=True,
                needs_review=p.needs_review,
                model=clf.meta["version"],
            )
    raised = {s.code: list(s.evidence) for s in detect(text)}
    return Reading(out, record, raised)


def complete(
    rt: Runtime, conn, reading: Reading
) -> tuple[dict[str, Any], dict | None, incidents.Verdict | None]:
    """Add the history flags (read on `conn`); returns (input, event record or None, the
    mass-incident verdict or None).

    Flags raised from the text and from the history are added to those given.
    """
    out, record, raised = dict(reading.data), dict(reading.record), dict(reading.raised)
    customer = out.get("customer") or {}
    verdicts: list[incidents.Verdict] = []
    if out.get("category"):
        raised.update(
            history_flags(
                rt,
                conn,
                out["category"],
                customer.get("phone"),
                customer.get("city"),
                customer.get("province"),
                kind=out.get("kind") or "complaint",
                received_at=out.get("received_at"),
                incident=verdicts,
            )
        )
    # A derived flag (repeat) is the rule's alone: one given is not kept (the API refuses it).
    given = set(out.get("risk_flags") or ()) - vocab.DERIVED_FLAGS
    out["risk_flags"] = sorted(given)
    added = {code: ev for code, ev in raised.items() if code not in given}
    if added:
        out["risk_flags"] = sorted(given | set(added))
        # Evidence is quoted text: the event keeps it masked (it is never anonymised later).
        record["flags"] = [
            {"code": c, "evidence": masking.deep_text(ev)} for c, ev in sorted(added.items())
        ]
    return out, record or None, (verdicts[0] if verdicts else None)


def history_flags(
    rt: Runtime,
    conn,
    category: str,
    phone: str | None,
    city: str | None,
    province: str | None,
    *,
    kind: str = "complaint",
    received_at: datetime | None = None,
    incident: list | None = None,
) -> dict[str, list[str]]:
    """repeat and mass_incident, read on `conn` (or in a read transaction of their own).

    repeat is the one rule (complaints.repeats) for a complaint of `kind` received at
    `received_at` (now when not given), not yet registered. mass_incident: the complaint
    would join the cell's open incident, or its arrival makes a spike
    (kesu.incidents: data/incidents/spikes.yaml). `incident`, when given (by a
    registration), receives the verdict, and the open incident found is held until
    commit."""
    if not (phone or city or province):
        return {}
    if conn is None:
        with read(rt.engine) as own:
            return history_flags(
                rt, own, category, phone, city, province, kind=kind, received_at=received_at
            )
    now = rt.clock()
    out = {}
    if phone:
        at = as_utc(received_at) if received_at is not None else now
        this = repeats.Seen(None, category, kind, "registered", at)
        repeat = lookups.repeat_of(conn, this, crypto.phone_hash(phone))
        if repeat:
            out[repeats.FLAG] = repeat
    verdict = incidents.check(conn, now, category, city, province, lock=incident is not None)
    if verdict is not None:
        if incident is not None:
            incident.append(verdict)
        if mass := verdict.evidence():
            out["mass_incident"] = mass
    return out
