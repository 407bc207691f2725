"""Quality reviews (质检): a closed complaint scored on the scorecard by a quality
reviewer; the handler (the complaint's assignee at closure) sees it and may contest it
once, with a reason; a supervisor decides the contest (upheld: the score the supervisor
sets stands; rejected: the reviewer's stands). Every step is a row of the append-only
history (quality_review_events) and an audit entry, written in the same transaction.

Who sees what: quality.read sees every review; quality.own only the reviews of the
complaints one handled. The complaints are read through complaints.lookups.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, insert, select, update

from kesu.accounts.audit import audit
from kesu.accounts.roles import Actor, Principal, as_principal, forbidden, require, require_any
from kesu.complaints import lookups
from kesu.complaints import vocabulary as vocab
from kesu.complaints.views import iso
from kesu.problems import Problem
from kesu.quality import sampling, scorecard
from kesu.store import tables as t
from kesu.store.db import read, write

if TYPE_CHECKING:
    from kesu.runtime import Runtime

R = t.quality_reviews.c
E = t.quality_review_events.c
READ_ALL = "quality.read"
OWN = "quality.own"
STATES = ("reviewed", "contested", "upheld", "rejected")


def state_names() -> dict[str, str]:
    return dict(sampling.config()["review"]["states"])


def _not_found(review_id: int) -> Problem:
    return Problem(404, "review_not_found", "Review not found", f"质检记录 {review_id} 不存在。")


def _event(conn: Connection, review_id: int, now: datetime, type_: str, actor: str, data) -> None:
    conn.execute(
        insert(t.quality_review_events).values(
            review_id=review_id, at=now, type=type_, actor=actor[:64], data=dict(data)
        )
    )


def _mark_error(err: scorecard.MarkError) -> Problem:
    return Problem(422, err.code, "Marks do not fit the scorecard", err.detail)


# -- a review made ---------------------------------------------------------------------


def create(rt: Runtime, actor: Actor, body: Mapping[str, Any]) -> dict[str, Any]:
    """Score a closed complaint on the current card: {complaint, marks, findings}."""
    p = as_principal(actor)
    require(p, "quality.review")
    number = str(body.get("complaint") or "").strip()
    card = scorecard.current()
    marks = dict(body.get("marks") or {})
    try:
        result = scorecard.score(card, marks)
    except scorecard.MarkError as err:
        raise _mark_error(err) from None
    findings = (body.get("findings") or "").strip() or None
    now = rt.clock()
    with write(rt.engine) as conn:
        c = lookups.closure_of(conn, p, number)
        if c is None:
            raise Problem(
                404, "complaint_not_found", "Complaint not found", f"投诉单 {number} 不存在。"
            )
        if c.status != "closed" or c.closed_at is None:
            raise Problem(
                409,
                "review_needs_closed_complaint",
                "Not closed",
                f"投诉单 {number} 尚未归档，只有已归档的投诉可以质检。",
            )
        if not c.handler:
            raise Problem(
                409,
                "review_no_handler",
                "No handler",
                f"投诉单 {number} 没有处理人，无法确定质检对象。",
            )
        if conn.execute(select(R.id).where(R.complaint_number == number)).first():
            raise Problem(409, "review_exists", "Already reviewed", f"投诉单 {number} 已质检过。")
        review_id = conn.execute(
            insert(t.quality_reviews)
            .values(
                complaint_number=number,
                category=c.category,
                handler=c.handler,
                closed_at=c.closed_at,
                reviewer=p.name,
                card_version=card.version,
                marks={k: marks[k] for k in result.earned},
                score=result.score,
                critical_failed=list(result.critical_failed),
                final_score=result.score,
                findings=findings,
                state="reviewed",
                created_at=now,
                updated_at=now,
            )
            .returning(R.id)
        ).scalar_one()
        data = {"score": result.score, "card_version": card.version}
        _event(conn, review_id, now, "reviewed", p.name, data)
        audit(conn, p, now, "quality.review", "quality_review", str(review_id), {
            "complaint": number, **data})  # fmt: skip
        return _view(conn, p, _load(conn, review_id))


# -- reading ---------------------------------------------------------------------------


def _load(conn: Connection, review_id: int, lock: bool = False):
    q = select(t.quality_reviews).where(R.id == review_id)
    if lock:
        q = q.with_for_update()
    row = conn.execute(q).first()
    if row is None:
        raise _not_found(review_id)
    return row


def _visible(p: Principal, row) -> None:
    if p.can(READ_ALL) or (p.can(OWN) and row.handler == p.name):
        return
    raise forbidden(p, "查看他人的质检结果")


def _view(conn: Connection, p: Principal, row) -> dict[str, Any]:
    card = scorecard.card(row.card_version)
    history = conn.execute(
        select(t.quality_review_events).where(E.review_id == row.id).order_by(E.id)
    ).all()
    return {
        **_summary(row),
        "card": {"version": card.version, "name": card.name},
        "items": scorecard.describe(card, row.marks),
        "critical_failed": list(row.critical_failed),
        "findings": row.findings,
        "contest": None
        if row.contested_at is None
        else {"reason": row.contest_reason, "at": iso(row.contested_at)},
        "decision": None
        if row.decided_at is None
        else {
            "outcome": row.state,
            "by": row.decided_by,
            "at": iso(row.decided_at),
            "note": row.decision_note,
            "score": row.final_score,
        },
        "history": [
            {"at": iso(h.at), "type": h.type, "actor": h.actor, "data": h.data} for h in history
        ],
        "can_contest": row.state == "reviewed"
        and row.contested_at is None
        and p.can(OWN)
        and row.handler == p.name,
        "can_decide": row.state == "contested" and p.can("quality.decide"),
    }


def _summary(row) -> dict[str, Any]:
    return {
        "id": row.id,
        "complaint": row.complaint_number,
        "category": row.category,
        "category_name": vocab.CATEGORIES.get(row.category or "", {}).get("name"),
        "handler": row.handler,
        "reviewer": row.reviewer,
        "closed_at": iso(row.closed_at),
        "score": row.score,
        "final_score": row.final_score,
        "state": row.state,
        "state_name": state_names().get(row.state, row.state),
        "created_at": iso(row.created_at),
    }


def get(rt: Runtime, actor: Actor, review_id: int) -> dict[str, Any]:
    p = as_principal(actor)
    require_any(p, (READ_ALL, OWN), "查看质检结果")
    with read(rt.engine) as conn:
        row = _load(conn, review_id)
        _visible(p, row)
        return _view(conn, p, row)


def listing(
    rt: Runtime,
    actor: Actor,
    handler: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    state: str | None = None,
    limit: int = 200,
) -> dict[str, Any]:
    """Reviews, newest first: every one (quality.read) or one's own (quality.own), by
    handler, by the complaints' closure in [start, end), by state."""
    p = as_principal(actor)
    require_any(p, (READ_ALL, OWN), "查看质检结果")
    if not p.can(READ_ALL):
        if handler not in (None, p.name):
            raise forbidden(p, "查看他人的质检结果")
        handler = p.name
    if state is not None and state not in STATES:
        raise Problem(
            422,
            "unknown_review_state",
            "Unknown state",
            f"未知的质检状态“{state}”，可选：{'、'.join(STATES)}",
        )
    q = select(t.quality_reviews)
    if handler:
        q = q.where(R.handler == handler)
    if start is not None:
        q = q.where(R.closed_at >= start)
    if end is not None:
        q = q.where(R.closed_at < end)
    if state:
        q = q.where(R.state == state)
    with read(rt.engine) as conn:
        rows = conn.execute(q.order_by(R.id.desc()).limit(limit)).all()
    return {"items": [_summary(r) for r in rows], "count": len(rows)}


def reviewed_numbers(conn: Connection, numbers: list[str]) -> dict[str, int]:
    """complaint number → review id, of these numbers already reviewed."""
    if not numbers:
        return {}
    rows = conn.execute(select(R.complaint_number, R.id).where(R.complaint_number.in_(numbers)))
    return {r.complaint_number: r.id for r in rows}


# -- contest and decision --------------------------------------------------------------


def contest(rt: Runtime, actor: Actor, review_id: int, reason: str) -> dict[str, Any]:
    """The handler contests the review, once, with a reason."""
    p = as_principal(actor)
    require(p, OWN)
    reason = (reason or "").strip()
    if not reason:
        raise Problem(422, "contest_reason_required", "Reason required", "请填写申诉理由。")
    now = rt.clock()
    with write(rt.engine) as conn:
        row = _load(conn, review_id, lock=True)
        if row.handler != p.name:
            raise forbidden(p, "只有被质检的处理人本人可以申诉")
        done = conn.execute(
            update(t.quality_reviews)
            .where(R.id == review_id, R.state == "reviewed", R.contested_at.is_(None))
            .values(state="contested", contest_reason=reason, contested_at=now, updated_at=now)
        ).rowcount
        if not done:
            raise Problem(
                409,
                "contest_used",
                "Already contested",
                "每条质检结果只能申诉一次，本条已申诉过。",
            )
        _event(conn, review_id, now, "contested", p.name, {"reason": reason})
        audit(conn, p, now, "quality.contest", "quality_review", str(review_id))
        return _view(conn, p, _load(conn, review_id))


def decide(
    rt: Runtime,
    actor: Actor,
    review_id: int,
    outcome: str,
    score: float | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """A supervisor decides a contest: upheld (the score becomes `score`) or rejected."""
    p = as_principal(actor)
    require(p, "quality.decide")
    if outcome not in ("upheld", "rejected"):
        raise Problem(422, "unknown_decision", "Unknown decision", "裁定只能是申诉成立或驳回。")
    if outcome == "upheld" and score is None:
        raise Problem(
            422,
            "decision_score_required",
            "Score required",
            "申诉成立时请给出改定后的分数（0–100）。",
        )
    note = (note or "").strip() or None
    now = rt.clock()
    with write(rt.engine) as conn:
        row = _load(conn, review_id, lock=True)
        if row.handler == p.name and p.kind != "system":
            raise forbidden(p, "裁定本人的质检申诉")
        final = scorecard.round_half_up_float(score) if outcome == "upheld" else row.final_score
        done = conn.execute(
            update(t.quality_reviews)
            .where(R.id == review_id, R.state == "contested")
            .values(
                state=outcome,
                final_score=final,
                decided_by=p.name,
                decided_at=now,
                decision_note=note,
                updated_at=now,
            )
        ).rowcount
        if not done:
            raise Problem(
                409,
                "review_not_contested",
                "Not contested",
                "该质检结果不在申诉中，无需裁定。",
            )
        data = {"outcome": outcome, "before": row.final_score, "score": final, "note": note}
        _event(conn, review_id, now, outcome, p.name, data)
        audit(conn, p, now, "quality.decide", "quality_review", str(review_id), data)
        return _view(conn, p, _load(conn, review_id))
