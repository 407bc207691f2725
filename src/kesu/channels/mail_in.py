"""Mail in: one received mail stored, then read and acted on (the use case behind the SMTP
listener, channels.mail_smtp, and the IMAP poller, channels.mail_imap).

`accept` first stores the raw mail in `mail_inbox` (one row per Message-ID: a mail
received twice is one mail), committed before the listener answers 250; then `process`
decides what it is:

- kesu's own mail coming back, an auto-reply or a bounce: ignored (no complaint, no
  answer: no mail loop);
- a mail naming a complaint (its number in the subject or text, or In-Reply-To /
  References pointing at a mail of that complaint or at a mail kesu sent about it): the
  customer's supplement, an event on that complaint (`customer_info_added`; on a closed
  complaint `reopen_requested`, for staff to decide whether to reopen it);
- otherwise a new complaint on channel `email`, registered through channels.intake with
  the phone number found in the text. A mail without a phone number is held for an agent
  (channels.mail_held; `kesu mail held`, `kesu mail register ID --phone …`): a complaint
  needs a number to call the customer back on, and kesu does not invent one.

The raw mail becomes evidence on the complaint (`original.eml`, under the complaint's
retention) and its attachments go through the upload checks (complaints.attachments);
a refused attachment is named in the event, never a reason to lose the mail. A mail
that fails while being processed stays `pending` and is tried again (`retry_pending`).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from kesu.accounts import masking, team_store
from kesu.channels import intake, mail_parse, phones, staff_notices
from kesu.complaints import attachments, events, queries
from kesu.problems import Problem
from kesu.store import tables as t
from kesu.store.db import read, write

if TYPE_CHECKING:
    from kesu.runtime import Runtime

log = logging.getLogger("kesu.mail")
M = t.mail_inbox.c
ACTOR = "mail-in"  # the system principal mail intake acts as
ORIGINAL_NAME = "original.eml"
MAX_SUPPLEMENT = 5000  # characters of a supplement kept in the event's note
MAX_ATTEMPTS = 5  # a mail failing this often is held for an agent
RETRY_AFTER = timedelta(minutes=2)  # a pending mail older than this was left by a crash


@dataclass(frozen=True)
class Outcome:
    id: int
    status: str  # pending | registered | supplement | ignored | held
    number: str | None = None
    note: str | None = None
    new: bool = True  # False: this Message-ID was received before


def own_domain(rt: Runtime) -> str:
    """The domain of kesu's own Message-IDs (channels.mail): KESU_MAIL_FROM's."""
    return parseaddr(rt.settings.mail_from)[1].rpartition("@")[2].lower()


def idempotency_key(message_id: str) -> str:
    key = f"mail:{message_id}"
    return key if len(key) <= 200 else "mail:sha256:" + hashlib.sha256(key.encode()).hexdigest()


def _key_of(raw: bytes, parsed: mail_parse.Parsed) -> str:
    mid = parsed.message_id
    if mid and len(mid) <= 255:
        return mid
    return "sha256:" + mail_parse.body_digest(raw)  # no Message-ID: its body


def store(
    rt: Runtime, raw: bytes, source: str, arrived: datetime | None = None
) -> tuple[int, bool]:
    """The raw mail kept (committed) as pending; (its row id, whether it is new).
    `arrived`: when the mail server received it (IMAP's INTERNALDATE), never later than
    now; else now. It is the complaint's receipt time (the statutory clock starts then)."""
    parsed = mail_parse.parse(raw, own_domain(rt))
    key = _key_of(raw, parsed)
    digest = mail_parse.body_digest(raw)
    now = rt.clock()
    with write(rt.engine) as conn:
        insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        values = {
            "message_id": key,
            "source": source[:100],
            "received_at": min(arrived, now) if arrived else now,
            "status": "pending",
            "size": len(raw),
            "body_sha256": digest,
            "raw": raw,
        }
        # The same mail again is found under its Message-ID; another mail reusing that
        # Message-ID (another body) is kept under the Message-ID and its body's digest.
        for attempt in (key, f"{key[:200]}#{digest[:16]}", "sha256:" + digest):
            values["message_id"] = attempt
            new_id = conn.execute(
                insert(t.mail_inbox).values(values).on_conflict_do_nothing().returning(M.id)
            ).scalar()
            if new_id is not None:
                return int(new_id), True
            found = conn.execute(select(M.id, M.body_sha256).where(M.message_id == attempt)).one()
            if found.body_sha256 in (digest, None):
                return int(found.id), False
        raise RuntimeError(f"mail {key}: no key left to store it under")


def accept(rt: Runtime, raw: bytes, source: str, arrived: datetime | None = None) -> Outcome:
    """Store the mail (raises if it cannot be stored: then nothing was acknowledged), then
    act on it. A processing failure leaves it pending (stored, tried again later)."""
    mail_id, new = store(rt, raw, source, arrived)
    with read(rt.engine) as conn:
        query = select(M.status, M.complaint_number, M.note).where(M.id == mail_id)
        row = conn.execute(query).one()
    if row.status != "pending":
        return Outcome(mail_id, row.status, row.complaint_number, row.note, new=False)
    try:
        out = process(rt, mail_id)
    except Exception as e:  # stored: never lost; the next retry_pending tries again
        log.exception("mail %s: processing failed", mail_id)
        _failed(rt, mail_id, f"{type(e).__name__}: {e}")
        return Outcome(mail_id, "pending", note=str(e), new=new)
    return Outcome(out.id, out.status, out.number, out.note, new=new)


def _failed(rt: Runtime, mail_id: int, error: str) -> None:
    with write(rt.engine) as conn:
        attempts = conn.execute(
            update(t.mail_inbox)
            .where(M.id == mail_id, M.status == "pending")
            .values(attempts=M.attempts + 1, note=error[:2000])
            .returning(M.attempts)
        ).scalar()
        if attempts is not None and attempts >= MAX_ATTEMPTS:
            conn.execute(
                update(t.mail_inbox)
                .where(M.id == mail_id, M.status == "pending")
                .values(status="held", note=f"处理 {attempts} 次均失败，转人工：{error}"[:2000])
            )


def retry_pending(rt: Runtime, limit: int = 20) -> int:
    """Process the mails left pending (a failure, or a crash after storing: not the ones
    being processed right now, which are younger than RETRY_AFTER); how many."""
    old = rt.clock() - RETRY_AFTER
    with read(rt.engine) as conn:
        ids = conn.execute(
            select(M.id)
            .where(M.status == "pending", or_(M.attempts > 0, M.received_at < old))
            .order_by(M.id)
            .limit(limit)
        ).scalars()
        ids = list(ids)
    for mail_id in ids:
        try:
            process(rt, mail_id)
        except Exception as e:
            log.exception("mail %s: processing failed again", mail_id)
            _failed(rt, mail_id, f"{type(e).__name__}: {e}")
    return len(ids)


def retry_loop(rt: Runtime, stop: threading.Event, interval: float = 60.0) -> None:
    """The worker's thread when only the SMTP listener runs (the IMAP poller retries too)."""
    while not stop.wait(interval):
        try:
            retry_pending(rt)
        except Exception:
            log.exception("retrying pending mail failed")


class _Gone(Exception):
    """Another worker processed the mail meanwhile (its row is no longer pending)."""


def _finish(conn: Connection, mail_id: int, now: datetime, **values: Any) -> None:
    """Mark the mail done (raw emptied unless held); refuses if another worker was first."""
    if values.get("status") != "held":
        values["raw"] = None
    done = conn.execute(
        update(t.mail_inbox)
        .where(M.id == mail_id, M.status == "pending")
        .values(processed_at=now, **values)
    ).rowcount
    if done != 1:
        raise _Gone


def process(rt: Runtime, mail_id: int, phone: str | None = None) -> Outcome:
    """Act on one stored mail (see the module's text). `phone`: the number an agent gave
    for a held mail."""
    with read(rt.engine) as conn:
        row = conn.execute(select(t.mail_inbox).where(M.id == mail_id)).one()
    if row.status != "pending" or row.raw is None:
        return Outcome(mail_id, row.status, row.complaint_number, row.note, new=False)
    raw = bytes(row.raw)
    mail = mail_parse.parse(raw, own_domain(rt))
    now = rt.clock()
    try:
        if mail.kind == "customer" and _from_staff(rt, mail.sender):
            mail.kind, mail.why = "staff", "sender is a user"
        if mail.kind != "customer":
            text = f"{IGNORED[mail.kind]}（{mail.why}），不登记。"
            with write(rt.engine) as conn:
                _finish(conn, mail_id, now, status="ignored", kind=mail.kind, note=text)
            return Outcome(mail_id, "ignored", note=text)
        number = thread(rt, mail)
        if number is not None:
            return _supplement(rt, mail_id, row.source, raw, mail, number)
        return _register(rt, mail_id, row, raw, mail, phone)
    except _Gone:
        return Outcome(mail_id, "done elsewhere", new=False)


IGNORED = {
    "own": "kesu 自己发出的邮件",
    "bounce": "退信",
    "auto_reply": "自动回复",
    "staff": "员工的邮件（如对 kesu 通知邮件的回复），请在系统中处理",
}


def _from_staff(rt: Runtime, sender: str) -> bool:
    """A user's own address: staff answering a notice kesu mailed them are not a
    customer writing (their reply would otherwise read as the customer's supplement)."""
    with read(rt.engine) as conn:
        return team_store.by_email(conn, sender) is not None


# -- threading --------------------------------------------------------------------------


def thread(rt: Runtime, mail: mail_parse.Parsed) -> str | None:
    """The existing complaint a mail belongs to, or None: the number in its subject or
    text, else a mail it answers (one received for a complaint, or one kesu sent)."""
    with read(rt.engine) as conn:
        number = mail_parse.complaint_number(mail.subject, mail.text)
        if number and _usable(conn, number):
            return number
        for ref in mail.refs:
            found = conn.execute(
                select(M.complaint_number).where(
                    M.message_id == ref, M.complaint_number.is_not(None)
                )
            ).scalar()
            found = found or _sent_about(conn, ref)
            if found and _usable(conn, found):
                return found
    return None


def _usable(conn: Connection, number: str) -> bool:
    row = queries.find(conn, number)
    return row is not None and row.anonymised_at is None


def _sent_about(conn: Connection, ref: str) -> str | None:
    """The complaint a mail kesu sent was about: its Message-ID is `<uid@domain>`
    (channels.mail), its subject names the complaint."""
    uid = ref.strip("<>").partition("@")[0]
    if not uid:
        return None
    n = t.notifications.c
    subject = conn.execute(select(n.subject).where(n.uid == uid, n.channel == "email")).scalar()
    return mail_parse.complaint_number(subject or "")


# -- acting -----------------------------------------------------------------------------


def who(mail: mail_parse.Parsed) -> str:
    return masking.email(mail.sender) or "（无发件人）"


def _evidence(conn, row, now, raw: bytes, mail: mail_parse.Parsed) -> dict[str, Any]:
    """The raw mail and its attachments on the complaint; what was kept and refused."""
    attachments.keep_original(conn, row, now, ACTOR, ORIGINAL_NAME, raw, "message/rfc822")
    kept, refused = [], []
    for a in mail.attachments:
        try:
            attachments.keep(conn, row, now, ACTOR, a.filename, a.data)
            kept.append(masking.text(a.filename))
        except Problem as p:
            refused.append({"filename": masking.text(a.filename), "code": p.code, "why": p.detail})
    return {"attachments": kept, "refused": refused}


def _supplement(
    rt: Runtime, mail_id: int, source: str, raw: bytes, mail: mail_parse.Parsed, number: str
) -> Outcome:
    now = rt.clock()
    text = mail.text or mail.subject or "（邮件无正文）"
    with write(rt.engine) as conn:
        row = queries.load(conn, number, lock=True)
        closed = not row.is_open
        files = _evidence(conn, row, now, raw, mail)
        data = {
            "source": "email",
            "intake": {"source": source, "ref": mail.message_id, "from": who(mail)},
            "subject": mail.subject[:200],
            "chars": len(text),
            **files,
        }
        if closed:
            data["status_then"] = row.status
        kind = "reopen_requested" if closed else "customer_info_added"
        events.append(conn, row.id, now, kind, ACTOR, None, None, text[:MAX_SUPPLEMENT], data)
        staff_notices.customer_wrote(conn, now, rt.settings.public_url, row, closed)
        note = "投诉已结束，客户来信待定是否重开" if closed else None
        _finish(
            conn,
            mail_id,
            now,
            status="supplement",
            kind=mail.kind,
            complaint_number=number,
            note=note,
        )
    return Outcome(mail_id, "supplement", number, note)


def _hold(rt: Runtime, mail_id: int, why: str) -> Outcome:
    with write(rt.engine) as conn:
        _finish(conn, mail_id, rt.clock(), status="held", kind="customer", note=why)
    return Outcome(mail_id, "held", note=why)


def complaint_of(mail: mail_parse.Parsed, phone: str, received: datetime) -> dict[str, Any]:
    """The body of the complaint a mail registers (validated by channels.intake)."""
    description = mail.text or mail.subject or "（邮件无正文，见附件 original.eml）"
    customer: dict[str, Any] = {"phone": phone}
    if mail.sender_name.strip():
        customer["name"] = mail.sender_name.strip()[:50]
    body: dict[str, Any] = {
        "channel": "email",
        "received_at": received,
        "customer": customer,
        "description": description[:5000],
    }
    if mail.subject:
        body["title"] = mail.subject[:200]
    return body


def _register(
    rt: Runtime, mail_id: int, row, raw: bytes, mail: mail_parse.Parsed, phone: str | None
) -> Outcome:
    phone = phones.digits(phone) if phone else mail_parse.phone(mail.text + "\n" + mail.subject)
    if not phone:
        return _hold(rt, mail_id, "邮件中没有找到联系电话，待人工补充号码后登记。")
    try:
        valid = intake.validate(complaint_of(mail, phone, row.received_at))
    except Problem as p:
        return _hold(rt, mail_id, f"不能登记：{p.detail}")
    key = idempotency_key(row.message_id)
    files: dict[str, Any] = {}

    def then(conn: Connection, complaint, now: datetime) -> None:
        files.update(_evidence(conn, complaint, now, raw, mail))
        if files["refused"]:
            events.record_event(conn, complaint, now, "attachment_refused", ACTOR, files)
        _finish(
            conn,
            mail_id,
            now,
            status="registered",
            kind=mail.kind,
            complaint_number=complaint.number,
        )

    origin = {"source": row.source, "ref": mail.message_id or row.message_id, "from": who(mail)}
    view, created = intake.receive(rt, valid, ACTOR, key, then=then, intake=origin)
    if not created:  # registered before (a crash after commit): the mail is done
        with write(rt.engine) as conn:
            _finish(
                conn,
                mail_id,
                rt.clock(),
                status="registered",
                kind=mail.kind,
                complaint_number=view["number"],
            )
    return Outcome(mail_id, "registered", view["number"])
