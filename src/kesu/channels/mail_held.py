"""Mail held for an agent (channels.mail_in holds a mail without a phone number, or one
that failed too often): listed with the sender masked, and registered once an agent
gives the number (`kesu mail held`, `kesu mail register ID --phone …`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from kesu.channels import mail_parse, phones
from kesu.channels.mail_in import Outcome, process, who
from kesu.problems import Problem
from kesu.store import tables as t
from kesu.store.db import read, write

if TYPE_CHECKING:
    from kesu.runtime import Runtime

M = t.mail_inbox.c


def held(rt: Runtime, limit: int = 100) -> list[dict[str, Any]]:
    """The mails waiting for an agent, oldest first (sender masked)."""
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
        out.append(
            {
                "id": r.id,
                "received_at": r.received_at,
                "source": r.source,
                "from": who(mail),
                "subject": mail.subject,
                "note": r.note,
            }
        )
    return out


def register_held(rt: Runtime, mail_id: int, phone: str) -> Outcome:
    """An agent gives the phone number of a held mail: it is registered (or threaded)."""
    number = phones.digits(phone)
    if not phones.is_phone(number):
        raise Problem(
            422, "invalid_phone", "Invalid phone", f"电话号码“{phone}”格式不对，应为5到20位数字。"
        )
    with write(rt.engine) as conn:
        reopened = conn.execute(
            update(t.mail_inbox)
            .where(M.id == mail_id, M.status == "held", M.raw.is_not(None))
            .values(status="pending", attempts=0)
        ).rowcount
    if reopened != 1:
        raise Problem(404, "mail_not_held", "Mail not held", f"没有编号为 {mail_id} 的待处理邮件。")
    return process(rt, mail_id, phone=number)
