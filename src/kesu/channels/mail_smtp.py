"""The SMTP listener for mail in (aiosmtpd): `kesu mail listen`, or inside `kesu worker`
with KESU_SMTP_INBOUND=host:port.

Each mail is handed to channels.mail_in.accept in a worker thread; the listener answers
250 only once the mail is stored (committed), 451 when it could not be (the sending
server keeps it and tries again: nothing acknowledged is lost), 554 for an empty
message and 552 (aiosmtpd's) for one over MAX_MAIL_BYTES. SMTP replies are ASCII (the
protocol's, read by mail servers); what the mail became is logged and kept in mail_inbox.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from aiosmtpd.controller import Controller

from kesu.channels import mail_in

if TYPE_CHECKING:
    from kesu.runtime import Runtime

log = logging.getLogger("kesu.mail")
# Operator policy: the largest mail taken (attachments included; each file is then held
# to the upload limits of complaints.attachments).
MAX_MAIL_BYTES = 30 * 1024 * 1024


def with_return_path(envelope_from: str | None, raw: bytes) -> bytes:
    """The envelope sender in front as Return-Path, as a final delivery agent writes it
    (an empty one, `<>`, marks a bounce)."""
    return f"Return-Path: <{envelope_from or ''}>\r\n".encode("ascii", "replace") + raw


class Handler:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        if not raw.strip():
            return "554 5.6.0 Empty message"
        raw = with_return_path(envelope.mail_from, raw)
        loop = asyncio.get_running_loop()
        try:
            out = await loop.run_in_executor(None, mail_in.accept, self.rt, raw, "smtp")
        except Exception:
            log.exception("mail from %s could not be stored", session.peer)
            return "451 4.3.0 Message not stored, please try again later"
        log.info("mail %s: %s %s", out.id, out.status, out.number or "")
        return f"250 2.0.0 Stored as {out.id}"


def listener(rt: Runtime, host: str, port: int) -> Controller:
    """A listener (not yet started): `.start()`, `.stop()`."""
    return Controller(
        Handler(rt),
        hostname=host,
        port=port,
        data_size_limit=MAX_MAIL_BYTES,
        ident="kesu mail-in",
    )


def parse_hostport(value: str) -> tuple[str, int]:
    """`host:port` (KESU_SMTP_INBOUND) → (host, port)."""
    host, _, port = value.strip().rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"KESU_SMTP_INBOUND 应为 主机:端口（如 0.0.0.0:2525）：{value}")
    return host.strip("[]"), int(port)
