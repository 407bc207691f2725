"""Figures of the regulator's referrals (管局转办) over a period, for the operator's
statistics to the regulator (reports.regulator): how many arrived, how many became a new
complaint and how many joined one already open, how many were answered by the date the
regulator asked for, answered late, and still open (past that date or not). Counts only:
no personal data, no text.

A referral belongs to the Beijing day the operator received it (`created_at`); "answered
on time" compares the Beijing day of the answer with the regulator's `reply_due_on`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, select

from kesu.clock import to_beijing
from kesu.store import tables as t

R = t.referrals.c


def figures(conn: Connection, lo: datetime, hi: datetime, today: date) -> dict[str, Any]:
    """Referrals received in [lo, hi): {received, new, linked, answered, on_time, late,
    open, overdue, by_source: [{source, received}]}."""
    rows = conn.execute(
        select(R.source, R.linked, R.reply_due_on, R.replied_at).where(
            R.created_at >= lo, R.created_at < hi
        )
    ).all()
    out: dict[str, Any] = dict.fromkeys(
        ("received", "new", "linked", "answered", "on_time", "late", "open", "overdue"), 0
    )
    sources: dict[str, int] = {}
    for r in rows:
        out["received"] += 1
        out["linked" if r.linked else "new"] += 1
        sources[r.source or ""] = sources.get(r.source or "", 0) + 1
        if r.replied_at is not None:
            out["answered"] += 1
            late = to_beijing(r.replied_at).date() > r.reply_due_on
            out["late" if late else "on_time"] += 1
        else:
            out["open"] += 1
            if today > r.reply_due_on:
                out["overdue"] += 1
    out["by_source"] = [
        {"source": code or None, "received": n}
        for code, n in sorted(sources.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    return out
