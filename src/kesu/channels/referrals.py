"""Regulator referrals in (管局/工信部转办): a referral registers a complaint on the
`regulator` channel (group level, flagged `regulator`), or joins the open complaint of
the same customer and matter; either way the complaint gets a deadline on the date the
regulator wants the answer by, its basis the regulator's requirement (no article: the
texts we hold set no limit for an operator's answer to a referral). Idempotent by the
regulator's reference (`referral:<ref>`). Answering it records the operator's reply
(channels.referral_reply renders the document) and, where the regulator side runs kesu
too, carries it back through the outbox, signed (channels.senders.ReferralSender).
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from sqlalchemy import Connection, select, update
from sqlalchemy.exc import IntegrityError

from kesu.accounts.audit import audit
from kesu.accounts.roles import Actor, Principal, as_principal, require
from kesu.channels import intake, outbox, referral_reply, referral_sources
from kesu.channels.referral_in import ReferralIn
from kesu.clock import to_beijing
from kesu.complaints import events, lifecycle, lookups, queries
from kesu.complaints.schemas import ComplaintIn
from kesu.complaints.transitions import apply, set_next_due
from kesu.complaints.views import iso, state_of
from kesu.deadlines import service as deadlines
from kesu.problems import Problem
from kesu.store import tables as t
from kesu.store.db import read, write
from kesu.triage import arrival
from kesu.triage.features import normalize

if TYPE_CHECKING:
    from kesu.runtime import Runtime

R = t.referrals.c
RULE = "regulator_referral"
CHANNEL = "regulator"
FLAG = "regulator"
MET_BY = "referral_reply"
PURPOSE = "referral.reply"
BASIS = [
    {
        "regulation": "管局转办要求",
        "article": None,
        "citation": "管局转办要求的回复期限（监管要求，非法定条款）",
        "policy": False,
        "requirement": "regulator",
        "verified": False,
        "quote": None,
        "note": "期限为通信管理局（申诉受理机构）转办单载明的要求回复日期。本项目所持法规文本"
        "未规定运营商答复转办申诉的期限，故不引用条款。",
    }
]
# Two texts about the same matter: share this much of their character pairs (Dice).
SIMILAR = 0.4


def deadline_name(ref: str) -> str:
    return f"管局转办回复期限（{ref}）"


# ---- the same matter --------------------------------------------------------------------


def _pairs(text: str) -> set[str]:
    compact = re.sub(r"[\W_]+", "", normalize(text))
    return {compact[i : i + 2] for i in range(len(compact) - 1)}


def similarity(a: str, b: str) -> float:
    """Dice coefficient of the character pairs of two texts (punctuation and spaces aside)."""
    x, y = _pairs(a), _pairs(b)
    return 2 * len(x & y) / (len(x) + len(y)) if x and y else 0.0


def _same_matter(rt: Runtime, ref: ReferralIn, p: Principal) -> str | None:
    """The open complaint of the same customer and matter (same number; same category, or
    a text this similar), newest first; None when there is none."""
    category = ref.category or arrival.read_text({"description": ref.issue}).data.get("category")
    with read(rt.engine) as conn:
        for row in lookups.open_of_customer(conn, ref.appellant.phone):
            text = "\n".join(x for x in (row.title, row.description) if x)
            if (category and row.category == category) or similarity(ref.issue, text) >= SIMILAR:
                full = queries.find(conn, row.number)
                if full is not None and queries.visible(full, p):
                    return str(row.number)
    return None


# ---- receiving ----------------------------------------------------------------------------


def _by_ref(conn: Connection, ref: str):
    return conn.execute(select(t.referrals).where(R.ref == ref)).first()


def _check(rt: Runtime, ref: ReferralIn, now: datetime) -> None:
    if ref.appeal_received_on > to_beijing(now).date():
        raise Problem(
            422,
            "received_in_future",
            "Receipt date in the future",
            f"申诉受理日期（{ref.appeal_received_on.isoformat()}）晚于今天，请核对转办单。",
        )
    if ref.source:
        with read(rt.engine) as conn:
            if referral_sources.get(conn, ref.source) is None:
                raise Problem(
                    422,
                    "unknown_referral_source",
                    "Unknown referral source",
                    f"未配置的转办来源“{ref.source}”：请先由管理员用 "
                    "`kesu referrals source` 添加。",
                )


def _record(
    rt: Runtime,
    conn: Connection,
    ref: ReferralIn,
    cid: int,
    number: str,
    linked: bool,
    actor: str,
    now: datetime,
) -> None:
    """The referral's row, its deadline and the complaint's event (in one transaction)."""
    conn.execute(
        t.referrals.insert().values(
            ref=ref.ref,
            source=ref.source,
            complaint_number=number,
            linked=linked,
            operator=ref.operator,
            appeal_received_on=ref.appeal_received_on,
            reply_due_on=ref.reply_due_on,
            issue=ref.issue,
            original=json.dumps(ref.model_dump(mode="json"), ensure_ascii=False),
            created_by=actor,
            created_at=now,
        )
    )
    version = rt.calendar(conn).version
    deadlines.add_given(
        conn, cid, RULE, deadline_name(ref.ref), now, ref.reply_due_on, BASIS, version
    )
    set_next_due(conn, [cid])
    intake_data = {"channel": CHANNEL, "source": ref.source, "ref": ref.ref}
    data = {
        "intake": intake_data,
        "linked": linked,
        "appeal_received_on": ref.appeal_received_on.isoformat(),
        "reply_due_on": ref.reply_due_on.isoformat(),
        "operator": ref.operator,
    }
    note = f"管局转办（编号 {ref.ref}），要求 {ref.reply_due_on.isoformat()} 前回复。"
    events.append(conn, cid, now, "referral_received", actor, None, None, note, data)


def _complaint_in(ref: ReferralIn) -> ComplaintIn:
    return ComplaintIn(
        channel=CHANNEL,
        customer=ref.appellant,
        kind="complaint",
        category=ref.category,
        title=f"管局转办 {ref.ref}",
        description=ref.issue,
        demands=ref.demands,
        risk_flags=[FLAG],
    )


def _link(rt: Runtime, ref: ReferralIn, number: str, p: Principal, now: datetime) -> bool:
    """Join the referral to an open complaint: flagged, its deadline, the event. False when
    another request recorded the same reference first."""
    try:
        with write(rt.engine) as conn:
            row = queries.load(conn, number, lock=True)
            if not row.is_open:  # closed meanwhile: register anew
                raise _Closed
            _record(rt, conn, ref, row.id, number, True, p.name, now)
            if FLAG not in (row.risk_flags or ()):
                outcome = lifecycle.decide(
                    state_of(row), "flag", {"add_flags": [FLAG]}, rt.policy, now
                )
                apply(rt, conn, queries.load(conn, number), outcome, p.name, "管局转办", now)
            audit(conn, p, now, "referral.receive", "complaint", number, {"ref": ref.ref})
    except IntegrityError:
        return False
    return True


class _Closed(Exception):
    pass


def receive(rt: Runtime, ref: ReferralIn, actor: Actor) -> tuple[dict[str, Any], bool]:
    """Register (or join) the referral's complaint; (the referral, whether it is new)."""
    p = as_principal(actor)
    require(p, "complaint.register")
    with read(rt.engine) as conn:
        if _by_ref(conn, ref.ref) is not None:
            return view(rt, ref.ref, p), False
    now = rt.clock()
    _check(rt, ref, now)
    number = _same_matter(rt, ref, p)
    if number is not None:
        try:
            if not _link(rt, ref, number, p, now):
                return view(rt, ref.ref, p), False
            return view(rt, ref.ref, p), True
        except _Closed:
            pass

    def then(conn: Connection, row: Any, at: datetime) -> None:
        _record(rt, conn, ref, row.id, str(row.number), False, p.name, at)

    _, created = intake.receive(
        rt, _complaint_in(ref), p, idempotency_key=f"referral:{ref.ref}", then=then
    )
    return view(rt, ref.ref, p), created


# ---- reading ---------------------------------------------------------------------------


def _referral_view(r: Any) -> dict[str, Any]:
    return {
        "ref": r.ref,
        "source": r.source,
        "complaint_number": r.complaint_number,
        "linked": r.linked,
        "operator": r.operator,
        "appeal_received_on": r.appeal_received_on.isoformat(),
        "reply_due_on": r.reply_due_on.isoformat(),
        "issue": r.issue,
        "received_at": iso(r.created_at),
        "reply": None
        if r.replied_at is None
        else {
            "replied_at": iso(r.replied_at),
            "replied_by": r.replied_by,
            "handling": r.handling,
            "result": r.result,
            "callback": r.callback_uid,
        },
        "reply_document": f"/api/v1/referrals/{quote(r.ref, safe='')}/reply",
    }


def load(rt: Runtime, ref: str, p: Principal) -> tuple[Any, dict[str, Any]]:
    """The referral row and its complaint as `p` sees it (404 for either unseen)."""
    require(p, "complaint.read")
    with read(rt.engine) as conn:
        r = _by_ref(conn, ref)
    if r is None:
        raise Problem(404, "not_found", "Not found", f"转办编号“{ref}”不存在。")
    try:
        complaint = queries.get(rt, r.complaint_number, p)
    except Problem:
        raise Problem(404, "not_found", "Not found", f"转办编号“{ref}”不存在。") from None
    return r, complaint


def view(rt: Runtime, ref: str, actor: Actor) -> dict[str, Any]:
    r, complaint = load(rt, ref, as_principal(actor))
    return {**_referral_view(r), "complaint": complaint}


def listing(rt: Runtime, actor: Actor, limit: int = 100) -> list[dict[str, Any]]:
    """The latest referrals (the page's list), newest first."""
    require(as_principal(actor), "complaint.read")
    with read(rt.engine) as conn:
        rows = conn.execute(select(t.referrals).order_by(R.id.desc()).limit(limit)).all()
    return [_referral_view(r) for r in rows]


# ---- answering ---------------------------------------------------------------------------


def reply(rt: Runtime, ref: str, handling: str, result: str, actor: Actor) -> dict[str, Any]:
    """Record the operator's answer to the regulator (once): the referral's deadline met,
    an event on the complaint, and the answer sent back where the source takes it."""
    p = as_principal(actor)
    require(p, "complaint.handle")
    load(rt, ref, p)  # 404 unless the caller sees it
    now = rt.clock()
    with write(rt.engine) as conn:
        done = conn.execute(
            update(t.referrals)
            .where(R.ref == ref, R.replied_at.is_(None))
            .values(replied_at=now, replied_by=p.name, handling=handling, result=result)
            .returning(R.complaint_number, R.source)
        ).first()
        if done is None:
            raise Problem(
                409,
                "referral_already_replied",
                "Already answered",
                f"转办编号“{ref}”已答复过管局，不能重复答复。",
            )
        row = queries.load(conn, done.complaint_number, lock=True)
        deadlines.meet_given(conn, row.id, RULE, deadline_name(ref), MET_BY, now)
        set_next_due(conn, [row.id])
        events.append(
            conn,
            row.id,
            now,
            "referral_replied",
            p.name,
            None,
            None,
            f"已答复管局（转办编号 {ref}）。",
            {"ref": ref, "handling": handling, "result": result},
        )
        uid = _call_back(conn, now, ref, done.source, row, handling, result)
        if uid:
            conn.execute(update(t.referrals).where(R.ref == ref).values(callback_uid=uid))
        audit(
            conn, p, now, "referral.reply", "complaint", row.number, {"ref": ref, "callback": uid}
        )
    return view(rt, ref, p)


def callback_body(ref: str, row: Any, handling: str, result: str, now: datetime) -> str:
    """What goes back to the regulator's kesu: the answer, no more of the customer than
    the regulator sent."""
    body = {
        "id": uuid.uuid4().hex,
        "event": "referral.replied",
        "ref": ref,
        "replied_at": iso(now),
        "operator_complaint": {
            "number": row.number,
            "status": row.status,
            "category": row.category,
            "received_at": iso(row.received_at),
        },
        "handling": handling,
        "result": result,
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def _call_back(conn, now, ref, source, row, handling, result) -> str | None:
    if not source:
        return None
    src = referral_sources.get(conn, source)
    if src is None or not src["callback_url"]:
        return None
    body = callback_body(ref, row, handling, result, now)
    return outbox.enqueue(conn, now, "referral", source, body, PURPOSE)


def reply_document(rt: Runtime, ref: str, actor: Actor) -> str:
    """The reply to the regulator as a printable page (a draft until answered)."""
    p = as_principal(actor)
    r, complaint = load(rt, ref, p)
    name = None
    if r.source:
        with read(rt.engine) as conn:
            src = referral_sources.get(conn, r.source)
        name = src["name"] if src else None
    return referral_reply.document(_referral_view(r), complaint, name)
