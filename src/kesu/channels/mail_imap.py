"""IMAP polling for mail in: KESU_IMAP_URL=imaps://user:pass@host[:port]/INBOX (or
imap://… for plain IMAP, `?starttls=true` to upgrade it, `?since=2026-12-01` to leave
older mail of an existing mailbox alone), polled by `kesu worker` every
KESU_IMAP_INTERVAL seconds, or once by `kesu mail poll`; at most BATCH messages a pass.

Each message not yet marked is fetched without touching its \\Seen flag, handed to
channels.mail_in.accept (stored, then acted on), and only then marked with the keyword
`$KesuDone` and \\Seen. A message that could not be stored stays unmarked and is fetched
again next time; one fetched twice is one mail (mail_inbox is keyed by Message-ID).
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlsplit

from kesu.channels import mail_in

if TYPE_CHECKING:
    from kesu.runtime import Runtime

log = logging.getLogger("kesu.mail")
DONE = "$KesuDone"
BATCH = 200
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Mailbox:
    tls: bool
    starttls: bool
    host: str
    port: int
    user: str
    password: str
    folder: str
    since: date | None = None

    @property
    def source(self) -> str:
        return f"imap:{self.host}/{self.folder}"


def mailbox(url: str) -> Mailbox:
    parts = urlsplit(url)
    if parts.scheme not in ("imap", "imaps") or not parts.hostname or not parts.username:
        raise ValueError(f"KESU_IMAP_URL 应为 imaps://用户:密码@主机/INBOX：{url}")
    tls = parts.scheme == "imaps"
    query = parse_qs(parts.query)
    since = query.get("since", [""])[0]
    try:
        since_day = date.fromisoformat(since) if since else None
    except ValueError:
        raise ValueError(f"KESU_IMAP_URL 的 since 应为日期（如 2026-12-01）：{since}") from None
    return Mailbox(
        tls=tls,
        starttls=query.get("starttls", ["false"])[0].lower() in ("1", "true", "yes"),
        host=parts.hostname,
        port=parts.port or (993 if tls else 143),
        user=unquote(parts.username),
        password=unquote(parts.password or ""),
        folder=unquote(parts.path.lstrip("/")) or "INBOX",
        since=since_day,
    )


def _connect(box: Mailbox, timeout: float) -> imaplib.IMAP4:
    if box.tls:
        context = ssl.create_default_context()
        return imaplib.IMAP4_SSL(box.host, box.port, ssl_context=context, timeout=timeout)
    client = imaplib.IMAP4(box.host, box.port, timeout=timeout)
    if box.starttls:
        client.starttls(ssl.create_default_context())
    return client


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def arrived(response: bytes) -> datetime | None:
    """The INTERNALDATE in a FETCH response (when the server received the mail)."""
    stamp = imaplib.Internaldate2tuple(response)
    return datetime.fromtimestamp(time.mktime(stamp), UTC) if stamp else None


def poll_once(rt: Runtime, url: str, timeout: float = 30.0) -> dict[str, int]:
    """One pass over the mailbox: {"fetched", "stored", "failed"}."""
    box = mailbox(url)
    counts = {"fetched": 0, "stored": 0, "failed": 0}
    client = _connect(box, timeout)
    try:
        client.login(box.user, box.password)
        typ, _ = client.select(_quoted(box.folder))
        if typ != "OK":
            raise RuntimeError(f"邮箱文件夹“{box.folder}”打不开")
        criteria = ["UNKEYWORD", DONE]
        if box.since is not None:  # IMAP dates: 1-Dec-2026 (English month names)
            month = [
                "Jan",
                "Feb",
                "Mar",
                "Apr",
                "May",
                "Jun",
                "Jul",
                "Aug",
                "Sep",
                "Oct",
                "Nov",
                "Dec",
            ][box.since.month - 1]
            criteria += ["SINCE", f"{box.since.day}-{month}-{box.since.year}"]
        typ, data = client.uid("SEARCH", *criteria)
        uids = data[0].split() if typ == "OK" and data and data[0] else []
        for uid in uids[:BATCH]:
            counts["fetched"] += 1
            typ, fetched = client.uid("FETCH", uid, "(INTERNALDATE BODY.PEEK[])")
            part = next((p for p in fetched or () if isinstance(p, tuple)), None)
            if typ != "OK" or part is None or not isinstance(part[1], bytes):
                counts["failed"] += 1
                continue
            try:
                out = mail_in.accept(rt, part[1], box.source, arrived(part[0]))
            except Exception:  # not stored: left unmarked, fetched again next time
                log.exception("IMAP message %s could not be stored", uid)
                counts["failed"] += 1
                continue
            client.uid("STORE", uid, "+FLAGS", f"({DONE} \\Seen)")
            counts["stored"] += 1
            log.info("IMAP message %s → mail %s: %s", uid.decode(), out.id, out.status)
    finally:
        with contextlib.suppress(Exception):
            client.logout()
    return counts


def run(rt: Runtime, url: str, stop: threading.Event, interval: float) -> None:
    """The poller thread: a pass, the mails left pending retried, then wait; never dies
    of a bad mailbox or a network error (logged, tried again next time)."""
    while not stop.is_set():
        try:
            poll_once(rt, url)
        except Exception:
            log.exception("IMAP poll of %s failed", mailbox(url).source)
        try:
            mail_in.retry_pending(rt)
        except Exception:
            log.exception("retrying pending mail failed")
        stop.wait(interval)
