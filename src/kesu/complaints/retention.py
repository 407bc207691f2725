"""Keeping the original records: anonymise closed complaints after their period
(data/accounts/retention.yaml), and the legal hold that keeps a complaint whole while a
dispute lasts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, insert, or_, select, update

from kesu.accounts.audit import audit
from kesu.accounts.roles import Actor, as_principal, require
from kesu.channels import originals
from kesu.clock import BEIJING
from kesu.complaints import events, lifecycle, queries
from kesu.data_files import load_yaml
from kesu.law.cases import scrub
from kesu.problems import Problem
from kesu.store import tables as t
from kesu.store.db import read, write

if TYPE_CHECKING:
    from kesu.runtime import Runtime

C = t.complaints.c
BATCH = 200
STATE_KEY = "retention.last_run"


def policy() -> dict[str, Any]:
    data = load_yaml("accounts/retention.yaml")
    return {
        "default_years": int(data.get("default_years", 2)),
        "by_kind": data.get("by_kind") or {},
    }


def _cutoff(now: datetime, years: int) -> datetime:
    return now - timedelta(days=365 * years)


def due(rt: Runtime, now: datetime | None = None, limit: int | None = None):
    """Closed, not anonymised, past the period of their kind: (due rows, held rows)."""
    now = now or rt.clock()
    pol = policy()
    kinds = dict(pol["by_kind"])
    clauses = [
        and_(C.kind == kind, C.closed_at < _cutoff(now, int(years)))
        for kind, years in kinds.items()
    ]
    clauses.append(
        and_(C.kind.not_in(list(kinds)), C.closed_at < _cutoff(now, pol["default_years"]))
    )
    base = (
        select(C.id, C.number, C.kind, C.closed_at, C.legal_hold, C.legal_hold_reason)
        .where(C.status.in_(sorted(lifecycle.TERMINAL_STATUSES)), C.anonymised_at.is_(None))
        .where(C.closed_at.is_not(None), or_(*clauses))
        .order_by(C.closed_at, C.id)
    )
    with read(rt.engine) as conn:
        rows = conn.execute(base.limit(limit) if limit else base).all()
    return [r for r in rows if not r.legal_hold], [r for r in rows if r.legal_hold]


def run(rt: Runtime, actor: Actor, dry_run: bool = False) -> dict[str, Any]:
    p = as_principal(actor)
    require(p, "retention.run")
    now = rt.clock()
    todo, held = due(rt, now)
    report = {
        "dry_run": dry_run,
        "due": len(todo),
        "held": [{"number": r.number, "reason": r.legal_hold_reason} for r in held],
        "numbers": [r.number for r in todo[:50]],
        "anonymised": 0,
        "policy": policy(),
    }
    if dry_run:
        return report
    for i in range(0, len(todo), BATCH):
        with write(rt.engine) as conn:
            for r in todo[i : i + BATCH]:
                if _anonymise(conn, r.id, now, p.name):
                    report["anonymised"] += 1
    with write(rt.engine) as conn:
        audit(
            conn,
            p,
            now,
            "retention.run",
            None,
            None,
            {"anonymised": report["anonymised"], "held": len(held)},
        )
        _remember(conn, now)
    return report


def _anonymise(conn, cid: int, now: datetime, actor: str) -> bool:
    row = conn.execute(select(t.complaints).where(C.id == cid)).first()
    if row is None or row.legal_hold or row.anonymised_at is not None:
        return False  # a hold placed since the list was read wins
    names = [n for n in (row.customer_name,) if n]
    extra = [x for x in (row.customer_phone, row.customer_account) if x]

    def clean(text: str | None) -> str | None:
        return None if text is None else scrub(text, names=names, extra=extra)

    conn.execute(
        update(t.complaints)
        .where(C.id == cid)
        .values(
            customer_phone="",
            customer_phone_hash=None,
            customer_name=None,
            customer_account=None,
            title=clean(row.title),
            description=clean(row.description) or "",
            demands=clean(row.demands),
            resolution=clean(row.resolution),
            idempotency_key=None,
            anonymised_at=now,
        )
    )
    _delete_attachments(conn, cid, now, clean)
    originals.anonymise(conn, row.number, now, clean)  # the mail or referral it came from
    events.append(
        conn, cid, now, "anonymised", actor, None, None, None, {"policy": "retention.yaml"}
    )
    return True


def _delete_attachments(conn, cid: int, now: datetime, clean) -> None:
    """The complaint's evidence files: emptied, their names scrubbed; size and hash stay."""
    A = t.complaint_attachments.c
    rows = conn.execute(
        select(A.id, A.filename).where(A.complaint_id == cid, A.deleted_at.is_(None))
    ).all()
    for a in rows:
        conn.execute(
            update(t.complaint_attachments)
            .where(A.id == a.id)
            .values(data=b"", deleted_at=now, filename=(clean(a.filename) or "")[:200])
        )


def _remember(conn, now: datetime) -> None:
    day = now.astimezone(BEIJING).date().isoformat()
    values = {"value": {"day": day}, "updated_at": now}
    if (
        conn.execute(
            update(t.app_state).where(t.app_state.c.key == STATE_KEY).values(**values)
        ).rowcount
        == 0
    ):
        conn.execute(insert(t.app_state).values(key=STATE_KEY, **values))


def run_daily(rt: Runtime) -> dict[str, Any] | None:
    """For the worker: run once per Beijing day."""
    now = rt.clock()
    today = now.astimezone(BEIJING).date().isoformat()
    with read(rt.engine) as conn:
        last = conn.execute(
            select(t.app_state.c.value).where(t.app_state.c.key == STATE_KEY)
        ).scalar()
    if last and last.get("day") == today:
        return None
    return run(rt, "worker:retention")


# -- legal hold -------------------------------------------------------------------


def set_hold(rt: Runtime, number: str, actor: Actor, hold: bool, reason: str | None) -> dict:
    """Place or release a legal hold (the seeds' 保存相关原始资料 while a dispute lasts)."""
    p = as_principal(actor)
    require(p, "complaint.hold")
    if hold and not (reason or "").strip():
        raise Problem(
            422, "reason_required", "Reason required", "请填写保全理由（如：诉讼、仲裁、申诉中）。"
        )
    now = rt.clock()
    with write(rt.engine) as conn:
        row = queries.load_visible(conn, number, p, lock=True)
        if row.anonymised_at is not None and hold:
            raise Problem(
                409,
                "already_anonymised",
                "Already anonymised",
                f"投诉单 {number} 的个人信息已按保存期限匿名化，无法再保全原始资料。",
            )
        if bool(row.legal_hold) == hold:
            raise Problem(
                409,
                "hold_unchanged",
                "No change",
                f"投诉单 {number} {'已处于' if hold else '未处于'}法律保全状态。",
            )
        conn.execute(
            update(t.complaints)
            .where(C.id == row.id)
            .values(
                legal_hold=hold,
                legal_hold_reason=reason if hold else None,
                version=C.version + 1,
                updated_at=now,
            )
        )
        events.record_event(
            conn,
            row,
            now,
            "legal_hold" if hold else "legal_hold_released",
            p.name,
            {"reason": reason},
        )
        audit(
            conn,
            p,
            now,
            "complaint.legal_hold" if hold else "complaint.legal_hold_release",
            "complaint",
            number,
            {
                "before": {"legal_hold": bool(row.legal_hold)},
                "after": {"legal_hold": hold},
                "reason": reason,
            },
        )
    return queries.get(rt, number, p)
