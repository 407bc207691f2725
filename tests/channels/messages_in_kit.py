"""Shared by the messages-in tests (a helper, not a test module): the signing code of
docs/channels.md (run from the document itself, so the example stays right), a source
made through the API, counts of what a request may write."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from kesu.store import tables as t

DOC = Path(__file__).resolve().parents[2] / "docs" / "channels.md"
URL = "/api/v1/channels/{}/messages"


def _doc_signed():
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Messages in (SMS, WeChat, app)", 1)[1]
    code = re.search(r"```python\n(import hashlib.*?)```", section, re.S)
    assert code, "docs/channels.md shows how to sign a message in Python"
    scope: dict[str, Any] = {}
    exec(code.group(1), scope)  # noqa: S102 - the document's own example
    return scope["signed"]


signed = _doc_signed()


def add_source(client, admin: dict, name: str = "sms-gw", kind: str = "sms") -> str:
    r = client.post("/api/v1/channel-sources", json={"name": name, "kind": kind}, headers=admin)
    assert r.status_code == 201, r.text
    return r.json()["secret"]


def send(client, secret: str, message: dict, now: float, source: str = "sms-gw", **headers):
    """Post one message signed as the document says (headers given replace those)."""
    body, signed_headers = signed(secret, message, now)
    signed_headers.update(headers)
    return client.post(URL.format(source), content=body, headers=signed_headers)


def counts(rt) -> dict[str, int]:
    """What a refused request must leave as it was."""
    tables = (
        t.complaints,
        t.complaint_events,
        t.channel_messages,
        t.channel_replays,
        t.audit_log,
        t.deadlines,
    )
    with rt.engine.connect() as conn:
        return {
            table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in tables
        }
