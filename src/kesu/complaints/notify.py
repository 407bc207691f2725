"""A complaint's change told to its customer: the facts of the message (number, the
statutory reply limit with its article, the portal link) gathered from the complaint and
its deadlines, and the message put in the outbox in the change's own transaction
(channels.notices holds the templates, the quiet hours and the opt-outs)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from kesu.channels import notices, staff_notices
from kesu.clock import BEIJING
from kesu.complaints import approval, delays, surveys
from kesu.complaints.views import state_of
from kesu.deadlines import service as deadlines

if TYPE_CHECKING:
    from kesu.runtime import Runtime


def day_words(due: datetime) -> str:
    """A due time as a customer reads it: a limit at the end of a day (23:59) is that
    day, one at midnight the day before; otherwise the hour is said."""
    local = due.astimezone(BEIJING)
    if (local.hour, local.minute) == (23, 59):
        return f"{local.year}年{local.month}月{local.day}日"
    if (local.hour, local.minute) == (0, 0):
        day = (local - timedelta(days=1)).date()
        return f"{day.year}年{day.month}月{day.day}日"
    clock = f"{local.hour}时" + (f"{local.minute}分" if local.minute else "")
    return f"{local.year}年{local.month}月{local.day}日{clock}"


def reply_limit(rt: Runtime, conn: Connection, complaint_id: int) -> tuple[str, str] | None:
    """The statutory reply deadline still running: its date in words and its basis."""
    running = [
        d
        for d in deadlines.for_complaints(conn, [complaint_id])[complaint_id]
        if d.statutory
        and d.met_at is None
        and (rule := rt.rules.get(d.rule)) is not None
        and "reply" in rule.met_by
    ]
    if not running:
        return None
    d = min(running, key=lambda r: r.due_at)
    when = day_words(d.due_at)
    cited = next((b for b in d.basis or [] if b.get("article")), None)
    basis = f"（时限依据《{cited['regulation']}》{cited['article']}）" if cited else ""
    return when, basis


def tell_customer(
    rt: Runtime,
    conn: Connection,
    row: Any,
    event: str,
    now: datetime,
    changes: Mapping,
    event_data: Mapping | None = None,
) -> str | None:
    """The customer's message for `event` on complaint `row` (after `changes`; what the
    event records in `event_data`), if any."""
    kind = changes.get("kind", row.kind)
    if not notices.wanted(event, kind):
        return None
    fields: dict[str, Any] = {
        "number": row.number,
        "portal": f"{rt.settings.public_url.rstrip('/')}/portal/complaints/{row.number}",
        "reply_due": "法定时限内",
        "basis": "",
    }
    if event == "accepted" and (limit := reply_limit(rt, conn, row.id)):
        fields["reply_due"], fields["basis"] = limit
    if event == "replied":  # the satisfaction survey's one-time portal link
        fields["survey"] = surveys.link_url(
            rt.settings.public_url, row.number, changes.get("reopen_count", row.reopen_count), now
        )
    if event == "delay_told" and event_data:
        fields["expected"] = delays.words(event_data["expected_on"])
        fields["reason"] = event_data["delay_reason"]
    quiet = notices.quiet_window(rt.settings.sms_quiet_hours)
    return notices.tell_customer(conn, now, event, kind, row.customer_phone, fields, quiet)


def tell_staff(
    rt: Runtime,
    conn: Connection,
    row: Any,
    changes: Mapping,
    status: str,
    actor: str,
    how: str,
    now: datetime,
) -> None:
    """Staff told of a change (channels.staff_notices): the person it was assigned to,
    the approvers when a proposal now waits for them."""
    after = SimpleNamespace(**{**row._mapping, **changes, "status": status})
    url = rt.settings.public_url
    if after.assignee and after.assignee != row.assignee:
        staff_notices.assigned(conn, now, url, after, after.assignee, actor, how)
    state = state_of(after)
    if row.status != "proposed" and approval.waiting(state, rt.policy):
        why = "；".join(r["text"] for r in approval.reasons(state, rt.policy))
        roles = [a["role"] for a in approval.approvers()]
        staff_notices.approval_waiting(conn, now, url, after, roles, why + "。")
