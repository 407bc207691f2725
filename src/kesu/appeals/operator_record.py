"""The appellant's complaint record asked of a connected operator's kesu: evidence for
电信用户申诉处理办法 第十条（四） (did the user complain to the operator first; did it
answer, and when).

At receipt, an appeal against an operator that runs kesu (a referral URL and secret
configured) with the appellant's phone queues the question in the outbox (`ask`; the
worker's channels.senders.AppealRecordSender posts it signed and keeps the answer); the
officer can ask again at any time and wait for the answer (`fetch`,
`POST /api/v1/appeals/{number}/operator-record`). The answer is kept on the appeal
(`operator_record`, with an event naming the complaints) and weighed into the condition
by appeals.operator_evidence. The operator answers with numbers, kinds, categories,
statuses and days only; no text crosses.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from kesu.accounts.audit import audit
from kesu.accounts.roles import Actor, as_principal, require
from kesu.appeals import notify, records
from kesu.channels import outbox, senders
from kesu.clock import to_beijing
from kesu.problems import Problem
from kesu.store.db import read, write

if TYPE_CHECKING:
    from kesu.runtime import Runtime

CHANNEL = "appeal_rec"  # the outbox's channel (channels.senders.AppealRecordSender)
PURPOSE = "appeal.record_query"
LOOK_BACK = timedelta(days=2 * 366)  # 第十一条（一）: the longest period an appeal can reach


def connected(respondent: Mapping[str, Any] | None) -> bool:
    return bool(respondent and respondent.get("referral_url") and respondent.get("secret"))


def query(row: Mapping[str, Any]) -> dict[str, Any]:
    """The question as the operator's kesu takes it (channels.record_query.RecordQuery)."""
    received = row["received_at"]
    since = to_beijing(received).date() - LOOK_BACK
    return {
        "source": notify.centre_code(),
        "phone": row["appellant_phone"],
        "appeal": row["number"],
        "since": since.isoformat(),
    }


def ask(
    conn: Connection, now: datetime, row: Mapping[str, Any], respondent: Mapping[str, Any] | None
) -> str | None:
    """Queue the question for a connected operator (None: not connected, or no phone)."""
    if not connected(respondent) or not row.get("appellant_phone"):
        return None
    assert respondent is not None
    body = json.dumps(query(row), ensure_ascii=False, separators=(",", ":"))
    return outbox.enqueue(conn, now, CHANNEL, str(respondent["code"]), body, PURPOSE)


def fetch(rt: Runtime, number: str, actor: Actor) -> dict[str, Any]:
    """Ask now and keep the answer; the record kept. 409 when the operator is not
    connected or the appeal has no phone; 502 when its kesu does not answer usably."""
    p = as_principal(actor)
    require(p, "appeal.handle")
    now = rt.clock()
    with read(rt.engine) as conn:
        row = records.load(conn, number)
        respondent = records.operator(conn, row.operator) if row.operator else None
    if not connected(respondent):
        raise Problem(
            409,
            "operator_not_connected",
            "The operator does not run kesu",
            "被申诉企业未接入本中心（未配置转办地址和密钥），无法查询其投诉记录：请以函件核实。",
        )
    if not row.appellant_phone:
        raise Problem(
            409,
            "appellant_phone_missing",
            "No phone to ask about",
            "申诉没有申诉人电话，无法向被申诉企业查询其投诉记录：请先补正电话。",
        )
    body = json.dumps(query(row._mapping), ensure_ascii=False, separators=(",", ":"))
    m = senders.Outgoing(secrets.token_hex(16), CHANNEL, row.operator, None, body, PURPOSE, now)
    try:
        record = senders.AppealRecordSender(rt, rt.settings.gateway_timeout).fetch(m)
    except senders.SendFailed as err:
        raise Problem(
            502,
            "operator_record_unavailable",
            "The operator's record could not be fetched",
            f"未能查询被申诉企业的投诉记录：{err}。请稍后再试，或以函件核实。",
        ) from None
    with write(rt.engine) as conn:
        records.keep_operator_record(conn, number, record, now, p.name)
        found = {"operator": row.operator, "complaints": len(record["complaints"])}
        audit(conn, p, now, "appeal.operator_record", "appeal", number, found)
    return record
