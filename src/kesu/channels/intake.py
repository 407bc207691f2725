"""Intake: the one door every channel uses to hand kesu a complaint.

The API (`POST /api/v1/complaints`), the portal, the hotline form and bulk
imports validate their input as a `ComplaintIn` and call `receive` (or
`receive_many`), which calls the one registration (complaints.registration):
numbering, triage, deadlines, history and audit are the same whatever the channel.
New channels (email, files, webhooks, referrals, TMF621) are added beside it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from kesu.accounts.roles import Actor
from kesu.complaints import lookups, registration
from kesu.complaints.bulk_rows import Basis, Prepared
from kesu.complaints.schemas import ComplaintIn
from kesu.problems import Problem, field_error

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from kesu.runtime import Runtime


def request_hash(body: Mapping[str, Any]) -> str:
    """A fingerprint of what was sent, so a reused Idempotency-Key with other content is
    refused rather than answered with the first complaint."""
    return hashlib.sha256(
        json.dumps(body, sort_keys=True, ensure_ascii=False, default=str).encode()
    ).hexdigest()


def validate(body: Mapping[str, Any]) -> ComplaintIn:
    """The body as a complaint, or a 422 problem naming every field that is wrong."""
    try:
        return ComplaintIn.model_validate(body)
    except ValidationError as err:
        errors = [field_error(e) for e in err.errors()]  # type: ignore[arg-type]
        first = errors[0]
        raise Problem(422, first["code"], "Invalid input", first["detail"], errors=errors) from None


def receive(
    rt: Runtime,
    complaint: ComplaintIn,
    actor: Actor,
    idempotency_key: str | None = None,
    fingerprint: str | None = None,
    guard: Callable[[Connection, datetime], None] | None = None,
    then: Callable[[Connection, Any, datetime], None] | None = None,
    intake: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], bool]:
    """Register one complaint; (the complaint, whether it was created now).

    `guard(conn, now)`: run first in the write transaction, `then(conn, row, now)` after
    the insert (see registration.register); `intake`: the channel's source and reference
    ({"source": …, "ref": …}), kept in the registration event."""
    return registration.register(
        rt, complaint.model_dump(), actor, idempotency_key, fingerprint, guard, then, intake
    )


def receive_many(
    rt: Runtime,
    complaints: Sequence[ComplaintIn],
    actor: Actor,
    extras: Sequence[Mapping[str, Any]] | None = None,
) -> list[str]:
    """Register validated complaints in one transaction (imports); the numbers created.

    `extras[i]` goes with complaint i: its `idempotency_key` (one already registered is
    skipped), `closed` ({closed_at, resolution}: a historical complaint, closed then),
    `intake` (the channel's source and reference, kept on the registration event)."""
    items = [c.model_dump() for c in complaints]
    if extras is not None:
        items = [{**item, **extra} for item, extra in zip(items, extras, strict=True)]
    return registration.bulk_import(rt, items, actor)


def receive_prepared(
    rt: Runtime, prepared: Sequence[Prepared], actor: Actor, basis: Basis
) -> list[str]:
    """receive_many of complaints already built by complaints.bulk_rows.prepare with
    `basis` (a file import builds them in a second process): the numbers created."""
    return registration.import_prepared(rt, list(prepared), actor, basis)


def key_used(conn, key: str) -> bool:
    """Whether a complaint was already registered under this idempotency key."""
    return lookups.by_idempotency_key(conn, key) is not None
