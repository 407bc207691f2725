"""What leaves the centre about an appeal, in the transaction of the change that causes it:
the appellant's SMS at each step (texts in data/appeals/policy.yaml `notices`), and the
referral to an operator that runs kesu (its POST /api/v1/referrals, signed and retried by
the outbox; channels.senders.AppealReferralSender delivers it), and the hand-over of a
redirected appeal to that operator as its complaint (第十三条: the appellant is told to
complain to the operator first; handing it over for them is centre policy)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from kesu.appeals import conditions
from kesu.channels import outbox, sms_text
from kesu.clock import to_beijing
from kesu.data_files import load_yaml

if TYPE_CHECKING:
    from kesu.runtime import Runtime

# The outbox channel (notifications.channel holds 10 characters).
REFERRAL_CHANNEL = "appeal_ref"
HAND_OVER = "appeal.hand_over"


@cache
def policy() -> dict[str, Any]:
    return dict(load_yaml("appeals/policy.yaml"))


def centre_code() -> str:
    """The code operators configured for this centre as their referral source."""
    return os.environ.get("KESU_CENTRE_CODE") or str(policy()["policy"].get("centre_code"))


def _day(value: Any) -> str:
    if isinstance(value, datetime):
        value = to_beijing(value).date()
    return value.isoformat() if isinstance(value, date) else ""


def text(key: str, row: Mapping[str, Any], **extra: Any) -> str:
    missing = extra.get("missing") or ()
    reason = ""
    if row.get("decision_reason"):
        reason = conditions.rejection_text(str(row["decision_reason"]))
    fields = {
        "number": row.get("number"),
        "operator": row.get("operator_name") or "被申诉企业",
        "missing": "、".join(m["name"] for m in missing),
        "reason": reason,
        "note": extra.get("note") or "",
        "date": _day(row.get("perform_by") if key == "agreement" else row.get("reply_due_at")),
    }
    return str(policy()["notices"][key]).format(**fields)


def tell(
    rt: Runtime,
    conn: Connection,
    now: datetime,
    row: Mapping[str, Any],
    key: str,
    **extra: Any,
) -> str | None:
    """The appellant's SMS for this step (none without a phone number)."""
    phone = row.get("appellant_phone")
    if not phone:
        return None
    body = sms_text.signed(text(key, row, **extra), rt.settings.sms_signature)
    return outbox.enqueue(conn, now, "sms", str(phone), body, f"appeal.{key}")


def default_operator_due(row: Any, today: date) -> date:
    """Centre policy: `operator_answer_days` from today, not after the appeal's own limit."""
    days = int(policy()["policy"]["operator_answer_days"])
    due = today + timedelta(days=days)
    limit = to_beijing(row.reply_due_at).date() - timedelta(days=1)
    return max(min(due, limit), today + timedelta(days=1))


def referral_body(row: Mapping[str, Any], respondent: Mapping[str, Any]) -> dict[str, Any]:
    """The referral as the operator's kesu takes it (channels.referral_in.ReferralIn)."""
    appellant = {"phone": row.get("appellant_phone"), "name": row.get("appellant_name")}
    issue = "\n".join(
        part
        for part in (
            f"申诉要求：{row.get('request') or ''}",
            f"申诉理由：{row.get('reasons') or ''}" if row.get("reasons") else "",
            f"事实根据：{row.get('facts') or ''}",
        )
        if part
    )
    return {
        "ref": row["number"],
        "source": centre_code(),
        "appeal_received_on": _day(row["received_at"]),
        "reply_due_on": _day(row["operator_due_on"]),
        "appellant": {k: v for k, v in appellant.items() if v},
        "operator": respondent.get("name"),
        "issue": issue[:4000],
        "demands": (row.get("request") or None),
        "category": row.get("category"),
    }


def refer(
    rt: Runtime,
    conn: Connection,
    now: datetime,
    row: Mapping[str, Any],
    respondent: Mapping[str, Any] | None,
) -> str | None:
    """Queue the referral for an operator that runs kesu (None: a document referral)."""
    if not respondent or not respondent.get("referral_url"):
        return None
    body = json.dumps(referral_body(row, respondent), ensure_ascii=False, separators=(",", ":"))
    return outbox.enqueue(
        conn, now, REFERRAL_CHANNEL, str(respondent["code"]), body, "appeal.referral"
    )


def hand_over(
    rt: Runtime,
    conn: Connection,
    now: datetime,
    row: Mapping[str, Any],
    respondent: Mapping[str, Any] | None,
) -> dict[str, Any] | None:
    """A redirected appeal handed to a connected operator, registered there as a
    complaint (the same referral message; the operator answers by the policy's date).
    None when the operator does not run kesu (the officer hands it over by other means)."""
    if not respondent or not (respondent.get("referral_url") and respondent.get("secret")):
        return None
    today = to_beijing(now).date()
    due = today + timedelta(days=int(policy()["policy"]["operator_answer_days"]))
    limit = to_beijing(row["reply_due_at"]).date() - timedelta(days=1)
    due = max(min(due, limit), today + timedelta(days=1))
    body = referral_body({**row, "operator_due_on": due}, respondent)
    body["issue"] = (
        "申诉人未就此事项向贵企业投诉，本中心依《电信用户申诉处理办法》第十三条告知其先向"
        "贵企业投诉，并将其申诉转交贵企业作为投诉处理。\n" + body["issue"]
    )[:4000]
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    uid = outbox.enqueue(conn, now, REFERRAL_CHANNEL, str(respondent["code"]), text, HAND_OVER)
    return {"operator": respondent["code"], "reply_due_on": due.isoformat(), "outbox": uid}
