"""Mail held for an agent (channels.mail_in holds a mail without a phone number, or one
that failed too often): listed with the sender masked, registered once an agent gives
the number, or discarded with a reason (kept, marked `discarded`, audited). The CLI
(`kesu mail held`, `kesu mail register ID --phone …`) acts as the system; the API and the
page (/api/v1/mail/held, /mail/held) as the signed-in user: reading and registering need
`complaint.register`, discarding `complaint.handle`, and only staff who see every
complaint (scope `all`) see the operator's inbox."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from kesu.accounts.audit import audit
from kesu.accounts.masking import text as masked_text
from kesu.accounts.roles import Actor, Principal, as_principal, forbidden, require
from kesu.channels import mail_parse, phones
from kesu.channels.mail_in import Outcome, process, who
from kesu.problems import Problem
from kesu.store import tables as t
from kesu.store.db import read, write

if TYPE_CHECKING:
    from kesu.runtime import Runtime

M = t.mail_inbox.c
MAX_REASON = 500
EXCERPT = 300  # characters of the mail's text shown (masked) to help the agent decide
STATUS_NAMES = {
    "pending": "处理中",
    "registered": "已登记为投诉",
    "supplement": "已作为补充信息记入投诉",
    "ignored": "已忽略",
    "held": "待人工处理",
    "discarded": "已作废",
}


def held(rt: Runtime, limit: int = 100) -> list[dict[str, Any]]:
    """The mails waiting for an agent, oldest first (sender and numbers masked)."""
    with read(rt.engine) as conn:
        rows = conn.execute(
            select(M.id, M.received_at, M.source, M.note, M.raw)
            .where(M.status == "held")
            .order_by(M.id)
            .limit(limit)
        ).all()
    out = []
    for r in rows:
        mail = mail_parse.parse(bytes(r.raw or b""))
        excerpt = " ".join((mail.text or "").split())
        out.append(
            {
                "id": r.id,
                "received_at": r.received_at,
                "source": r.source,
                "from": who(mail),
                "subject": mail.subject,
                "excerpt": masked_text(excerpt[:EXCERPT]) or "",
                "attachments": len(mail.attachments),
                "note": r.note,
            }
        )
    return out


def _not_held(conn, mail_id: int) -> Problem:
    status = conn.execute(select(M.status).where(M.id == mail_id)).scalar()
    if status is None:
        return Problem(404, "mail_not_found", "Mail not found", f"没有编号为 {mail_id} 的邮件。")
    return Problem(
        409,
        "mail_not_held",
        "Mail no longer held",
        f"编号为 {mail_id} 的邮件已不在待处理中（{STATUS_NAMES.get(status, status)}），"
        "可能已被他人处理，请刷新后再看。",
    )


def register_held(rt: Runtime, mail_id: int, phone: str) -> Outcome:
    """An agent gives the phone number of a held mail: it is registered (or threaded)."""
    number = phones.digits(phone)
    if not phones.is_phone(number):
        raise Problem(
            422, "invalid_phone", "Invalid phone", f"电话号码“{phone}”格式不对，应为5到20位数字。"
        )
    with write(rt.engine) as conn:
        # One conditional UPDATE: of two agents registering the same mail, one wins.
        reopened = conn.execute(
            update(t.mail_inbox)
            .where(M.id == mail_id, M.status == "held", M.raw.is_not(None))
            .values(status="pending", attempts=0)
        ).rowcount
        if reopened != 1:
            raise _not_held(conn, mail_id)
    return process(rt, mail_id, phone=number)


def _staff(actor: Actor, permission: str) -> Principal:
    p = as_principal(actor)
    require(p, permission)
    if p.scope != "all":  # a reseller's users: the operator's inbox is not theirs
        raise forbidden(p, "查看和处理客服邮箱中待人工处理的邮件")
    return p


def listing(rt: Runtime, actor: Actor, limit: int = 100) -> list[dict[str, Any]]:
    _staff(actor, "complaint.register")
    return held(rt, limit)


def register(rt: Runtime, mail_id: int, phone: str, actor: Actor) -> dict[str, Any]:
    """`register_held` for a user, audited: what became of the mail."""
    p = _staff(actor, "complaint.register")
    out = register_held(rt, mail_id, phone)
    result = {"id": mail_id, "status": out.status, "complaint_number": out.number, "note": out.note}
    with write(rt.engine) as conn:
        detail = {"status": out.status, "complaint": out.number}
        audit(conn, p, rt.clock(), "mail.register", "mail", str(mail_id), detail)
    return result


def discard(rt: Runtime, mail_id: int, reason: str, actor: Actor) -> dict[str, Any]:
    """A held mail that is no complaint (spam, a wrong address …): kept as it arrived,
    marked `discarded` with the reason and who decided, audited."""
    p = _staff(actor, "complaint.handle")
    reason = " ".join((reason or "").split())
    if not reason:
        raise Problem(422, "reason_required", "Reason required", "请填写作废原因。")
    if len(reason) > MAX_REASON:
        raise Problem(
            422, "reason_too_long", "Reason too long", f"作废原因最多 {MAX_REASON} 个字。"
        )
    now = rt.clock()
    note = f"{p.name} 作废：{reason}"
    with write(rt.engine) as conn:
        done = conn.execute(
            update(t.mail_inbox)
            .where(M.id == mail_id, M.status == "held")
            .values(status="discarded", note=note, processed_at=now)
        ).rowcount
        if done != 1:
            raise _not_held(conn, mail_id)
        audit(conn, p, now, "mail.discard", "mail", str(mail_id), {"reason": reason})
    return {"id": mail_id, "status": "discarded", "note": note}
