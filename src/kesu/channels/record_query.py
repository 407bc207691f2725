"""An appeal centre asks the operator for a customer's complaint record
(`POST /api/v1/complaint-records`): signed by a configured referral source exactly as its
referrals are (channels.referral_signed.verify: X-Kesu-Source, X-Kesu-Timestamp,
X-Kesu-Signature; each signature taken once), or by a signed-in user with complaint.read.

The centre checks 电信用户申诉处理办法 第十条（四） with it: whether the appellant complained
to the operator first, and whether and when the operator answered. The answer holds the
number's complaints received since `since` (at most two years back, at most 50), each
with its number, kind, category, status and the days it was received, answered and
closed — no text, no other personal data. Each query is in the audit log (who asked, for
which appeal, the masked number, how many were found).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from kesu.accounts import masking
from kesu.accounts.audit import audit
from kesu.accounts.roles import Principal, require
from kesu.channels import phones, sources
from kesu.clock import BEIJING, to_beijing
from kesu.complaints import lookups
from kesu.complaints.schemas import PHONE_PATTERN
from kesu.problems import Problem
from kesu.store.db import write

if TYPE_CHECKING:
    from kesu.runtime import Runtime

LOOK_BACK = timedelta(days=2 * 366)  # 第十一条（一）: nothing older can still be appealed
LIMIT = 50


class RecordQuery(BaseModel):
    """What the centre asks: whose record, for which appeal, from when."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    source: Annotated[str, Field(min_length=1, max_length=40)]
    phone: Annotated[str, Field(max_length=30, pattern=PHONE_PATTERN, description="申诉人电话")]
    appeal: Annotated[str | None, Field(max_length=60, description="申诉编号")] = None
    since: date | None = Field(None, description="自此日起受理的投诉（默认两年内）")

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        number = phones.digits(value)
        if not phones.is_phone(number):
            raise PydanticCustomError(
                "invalid_phone", "电话号码“{value}”格式不对，应为5到20位数字。", {"value": value}
            )
        return number


def _day(value: datetime | None) -> str | None:
    return None if value is None else to_beijing(value).date().isoformat()


def answer(rt: Runtime, q: RecordQuery, p: Principal) -> dict[str, Any]:
    """The number's complaints as the centre sees them (see the module doc)."""
    code = p.extra.get("referral_source")
    if code is None:
        require(p, "complaint.read")
    elif q.source != code:
        raise Problem(
            422,
            "referral_source_mismatch",
            "Source differs from the signer",
            f"查询的来源（source：“{q.source}”）与签名的来源（{sources.SOURCE_HEADER}："
            f"“{code}”）不一致。",
            field="source",
        )
    now = rt.clock()
    earliest = to_beijing(now).date() - LOOK_BACK
    since = max(q.since or earliest, earliest)
    start = datetime.combine(since, time(0), BEIJING)
    with write(rt.engine) as conn:
        if code is not None:
            sources.seen(conn, f"record:{code}"[:40], str(p.extra["signature"]), now)
        rows = lookups.record_of_customer(conn, p, q.phone, start, LIMIT)
        detail = {"source": q.source, "appeal": q.appeal, "found": len(rows)}
        audit(conn, p, now, "complaint.record_query", "customer", masking.phone(q.phone), detail)
    return {
        "phone": masking.phone(q.phone),
        "since": since.isoformat(),
        "as_of": now.isoformat(),
        "complaints": [
            {
                "number": r.number,
                "kind": r.kind,
                "category": r.category,
                "status": r.status,
                "received_on": _day(r.received_at),
                "answered_on": _day(r.replied_at),
                "closed_on": _day(r.closed_at),
            }
            for r in rows
        ],
        "limited": len(rows) >= LIMIT,
    }
