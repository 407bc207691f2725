"""What channels kept of a complaint as it arrived, anonymised with the complaint.

complaints.retention calls `anonymise(conn, number, now, clean)` in the transaction that
anonymises complaint `number`: the mail it came from (mail_inbox: its raw mail emptied,
its note scrubbed) and the regulator's referral (referrals: `original`, the referral as
it arrived, replaced by a marker; its issue, handling and result scrubbed). `clean`
scrubs a text as the complaint's own texts are scrubbed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Connection, select, update

from kesu.store import tables as t

M = t.mail_inbox.c
R = t.referrals.c


def anonymise(
    conn: Connection, number: str, now: datetime, clean: Callable[[str | None], str | None]
) -> None:
    for mail in conn.execute(select(M.id, M.note).where(M.complaint_number == number)).all():
        conn.execute(
            update(t.mail_inbox).where(M.id == mail.id).values(raw=None, note=clean(mail.note))
        )
    marker = json.dumps({"anonymised_at": now.isoformat()})
    for ref in conn.execute(
        select(R.id, R.issue, R.handling, R.result).where(R.complaint_number == number)
    ).all():
        conn.execute(
            update(t.referrals)
            .where(R.id == ref.id)
            .values(
                original=marker,
                issue=clean(ref.issue) or "",
                handling=clean(ref.handling),
                result=clean(ref.result),
            )
        )
