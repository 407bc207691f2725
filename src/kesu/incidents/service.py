"""Mass incidents as people work them: the list, one incident (its explanation and
history), the one message to every linked customer (drafted by an agent, approved by a
supervisor and then sent through the outbox, an event on each complaint), closing
with a summary. Opening and joining happen at registration (incidents.arrival).

The message goes to the customers of the linked complaints not sent it yet: one SMS
per phone number (a customer with two linked complaints is sent one, naming both
numbers); a complaint linked later is answered by the next approved message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from kesu.accounts.audit import audit
from kesu.accounts.roles import Actor, as_principal, require
from kesu.channels import notices, outbox
from kesu.complaints import events, lookups
from kesu.complaints import vocabulary as vocab
from kesu.complaints.views import iso
from kesu.incidents import records
from kesu.incidents.arrival import MANAGE, label
from kesu.problems import Problem
from kesu.store.db import read, write

if TYPE_CHECKING:
    from kesu.runtime import Runtime

READ, MESSAGE = "incident.read", "incident.message"
STATES = {"open": "处理中", "closed": "已关闭"}
MESSAGE_STATES = {"none": "未拟", "draft": "待审核", "sent": "已发送"}
HISTORY = {
    "opened": "开启",
    "joined": "新投诉并入",
    "swept": "补充关联",
    "message_drafted": "拟定统一答复",
    "message_approved": "审核通过并发送",
    "closed": "关闭",
}
MAX_TEXT, MAX_SUMMARY = 300, 2000


def _not_found(iid: int) -> Problem:
    return Problem(404, "incident_not_found", "No such incident", f"没有第{iid}号群体性事件。")


def _closed(iid: int) -> Problem:
    return Problem(
        409, "incident_closed", "Incident closed", f"第{iid}号群体性事件已关闭，不能再操作。"
    )


def _view(row: Any, links: list, history: list | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": row.id,
        "category": row.category,
        "category_name": vocab.CATEGORIES.get(row.category, {}).get("name", row.category),
        "area": row.area,
        "area_kind": row.area_kind,
        "label": label(row.category, row.area),
        "opened_at": iso(row.opened_at),
        "state": row.state,
        "state_name": STATES.get(row.state, row.state),
        "complaints": [x.number for x in links],
    }
    if history is None:
        return out
    out.update(
        window_start=iso(row.window_start),
        opened_by=row.opened_by,
        explanation=row.explanation,
        decision=row.decision,
        linked=[
            {
                "number": x.number,
                "linked_at": iso(x.linked_at),
                "how": x.how,
                "told_at": iso(x.told_at),
            }
            for x in links
        ],
        message={
            "state": row.message_state,
            "state_name": MESSAGE_STATES.get(row.message_state, row.message_state),
            "text": row.message_text,
            "drafted_by": row.message_drafted_by,
            "drafted_at": iso(row.message_drafted_at),
            "approved_by": row.message_approved_by,
            "approved_at": iso(row.message_approved_at),
            "untold": sum(1 for x in links if x.told_at is None),
        },
        closed_at=iso(row.closed_at),
        closed_by=row.closed_by,
        summary=row.summary,
        history=[
            {
                "at": iso(h.at),
                "type": h.type,
                "name": HISTORY.get(h.type, h.type),
                "actor": h.actor,
                "note": h.note,
                "data": h.data,
            }
            for h in history
        ],
    )
    return out


def listing(rt: Runtime, actor: Actor, state: str | None = None) -> list[dict[str, Any]]:
    """Incidents, newest first (`state`: open or closed)."""
    require(as_principal(actor), READ)
    with read(rt.engine) as conn:
        rows = records.listing(conn, state)
        links = records.linked(conn, [r.id for r in rows])
        return [_view(r, links[r.id]) for r in rows]


def _one(conn: Connection, iid: int) -> dict[str, Any]:
    row = records.get(conn, iid)
    if row is None:
        raise _not_found(iid)
    return _view(row, records.linked(conn, [iid])[iid], records.history(conn, iid))


def one(rt: Runtime, actor: Actor, iid: int) -> dict[str, Any]:
    """One incident: the decision that opened it, its complaints, message and history."""
    require(as_principal(actor), READ)
    with read(rt.engine) as conn:
        return _one(conn, iid)


def _open_row(conn: Connection, iid: int):
    row = records.get(conn, iid, lock=True)
    if row is None:
        raise _not_found(iid)
    if row.state != "open":
        raise _closed(iid)
    return row


def _text(value: str, most: int, what: str) -> str:
    value = (value or "").strip()
    if not value or len(value) > most:
        raise Problem(
            422,
            "incident_text_invalid",
            "Text empty or too long",
            f"{what}不能为空，且不超过{most}个字。",
        )
    return value


def draft(rt: Runtime, actor: Actor, iid: int, text: str) -> dict[str, Any]:
    """The message to the linked customers, drafted (a new draft replaces the last one)."""
    p = as_principal(actor)
    require(p, MESSAGE)
    text = _text(text, MAX_TEXT, "统一答复")
    now = rt.clock()
    with write(rt.engine) as conn:
        _open_row(conn, iid)
        records.set_state(
            conn,
            iid,
            {},
            message_state="draft",
            message_text=text,
            message_drafted_by=p.name,
            message_drafted_at=now,
            message_approved_by=None,
            message_approved_at=None,
        )
        records.record(conn, iid, now, "message_drafted", p.name, text)
        audit(conn, p, now, "incident.message_draft", "incident", str(iid), {"length": len(text)})
        return _one(conn, iid)


def _sweep(conn: Connection, row: Any, now, actor: str) -> list[str]:
    """Complaints of the cell received since the window began and not linked (e.g. one
    registered while the incident was being opened): linked now."""
    city = row.area if row.area_kind == "city" else None
    province = row.area if row.area_kind == "province" else None
    found = lookups.in_place_since(conn, row.category, city, province, row.window_start)
    new = records.link(conn, row.id, [(c.id, c.number) for c in found], now, "swept")
    if new:
        for c in found:
            if c.number in new:
                events.append(
                    conn,
                    c.id,
                    now,
                    "incident_linked",
                    actor,
                    None,
                    None,
                    None,
                    {"incident": row.id},
                )
        records.record(conn, row.id, now, "swept", actor, None, {"complaints": new})
    return new


def approve(rt: Runtime, actor: Actor, iid: int) -> dict[str, Any]:
    """The draft approved by a supervisor (not its author) and sent at once: one SMS per
    customer phone of the linked complaints not sent it yet, an event on each complaint."""
    p = as_principal(actor)
    require(p, MANAGE)
    now = rt.clock()
    quiet = notices.quiet_window(rt.settings.sms_quiet_hours)
    wait = notices.after_quiet_hours(now, *quiet) if quiet else None
    with write(rt.engine) as conn:
        row = _open_row(conn, iid)
        if row.message_state != "draft":
            raise Problem(
                409, "incident_no_draft", "No draft", "没有待审核的统一答复，请先拟定答复内容。"
            )
        if row.message_drafted_by == p.name:
            raise Problem(
                409,
                "incident_own_draft",
                "Own draft",
                "统一答复须由拟稿人以外的主管审核，不能审核自己拟定的答复。",
            )
        _sweep(conn, row, now, p.name)
        records.set_state(
            conn,
            iid,
            {"message_state": "draft"},
            message_state="sent",
            message_approved_by=p.name,
            message_approved_at=now,
        )
        sent = _send(conn, iid, row.message_text, now, p.name, wait)
        records.record(conn, iid, now, "message_approved", p.name, row.message_text, sent)
        audit(conn, p, now, "incident.message_approve", "incident", str(iid), sent)
        return _one(conn, iid)


def _send(conn: Connection, iid: int, text: str, now, actor: str, wait) -> dict[str, Any]:
    people: dict[str, list] = {}
    for c in lookups.contacts(conn, records.untold(conn, iid, now)):
        people.setdefault(c.phone_hash or c.number, []).append(c)
    sms = 0
    for group in people.values():
        phone = group[0].phone
        numbers = "、".join(c.number for c in group)
        uid = None
        if phone:
            body = f"您反映的问题（投诉单号：{numbers}）：{text}"
            uid = outbox.enqueue(
                conn, now, "sms", phone, body, "customer.incident", not_before=wait
            )
            sms += 1
        for c in group:
            events.append(
                conn,
                c.id,
                now,
                "incident_message_sent",
                actor,
                None,
                None,
                text,
                {"incident": iid, "message": uid},
            )
    told = [c.number for group in people.values() for c in group]
    return {"complaints": told, "sms": sms}


def close(rt: Runtime, actor: Actor, iid: int, summary: str) -> dict[str, Any]:
    """Closed with a summary: new complaints of the cell no longer join it."""
    p = as_principal(actor)
    require(p, MANAGE)
    summary = _text(summary, MAX_SUMMARY, "关闭总结")
    now = rt.clock()
    with write(rt.engine) as conn:
        _open_row(conn, iid)
        if not records.set_state(
            conn,
            iid,
            {"state": "open"},
            state="closed",
            closed_at=now,
            closed_by=p.name,
            summary=summary,
        ):
            raise _closed(iid)
        records.record(conn, iid, now, "closed", p.name, summary)
        audit(conn, p, now, "incident.close", "incident", str(iid), None)
        return _one(conn, iid)
