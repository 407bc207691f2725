"""The centre supervisor's dashboard (a use case over the appeal rows): how many appeals
stand in each status, which acceptance decisions (第十四条, 5 working days) and answers to
the appellant (电信条例 第三十九条, 30 days) are overdue or fall due soon, and the open
appeals by officer and by operator. "Soon" is centre policy: acceptance decisions due
within the next 2 working days, answers due within the next 3 days."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func

from kesu.accounts.roles import Actor, as_principal, require
from kesu.appeals import lifecycle, records, views
from kesu.clock import BEIJING, as_utc, to_beijing
from kesu.store.db import read

if TYPE_CHECKING:
    from kesu.runtime import Runtime

A = records.A
SOON_ACCEPT_WORKING_DAYS = 2  # centre policy
SOON_REPLY_DAYS = 3  # centre policy
LISTED = 20  # appeals listed under each heading


def _end_of(day) -> datetime:
    return as_utc(datetime.combine(day + timedelta(days=1), time(0), tzinfo=BEIJING))


def dashboard(rt: Runtime, actor: Actor) -> dict[str, Any]:
    p = as_principal(actor)
    require(p, "appeal.manage")
    now = rt.clock()
    today = to_beijing(now).date()
    cal = rt.calendar()
    accept_soon = _end_of(cal.add_working_days(today, SOON_ACCEPT_WORKING_DAYS))
    reply_soon = _end_of(today + timedelta(days=SOON_REPLY_DAYS))
    undecided = [A.is_open.is_(True), A.decided_at.is_(None), A.accept_due_at.is_not(None)]
    unanswered = [A.is_open.is_(True), A.replied_at.is_(None)]
    lists = {
        "accept_overdue": (undecided + [A.accept_due_at < now], [A.accept_due_at]),
        "accept_soon": (
            undecided + [A.accept_due_at >= now, A.accept_due_at < accept_soon],
            [A.accept_due_at],
        ),
        "reply_overdue": (unanswered + [A.reply_due_at < now], [A.reply_due_at]),
        "reply_soon": (
            unanswered + [A.reply_due_at >= now, A.reply_due_at < reply_soon],
            [A.reply_due_at],
        ),
    }
    officer = func.coalesce(A.assignee, A.created_by)
    with read(rt.engine) as conn:
        statuses = dict(records.counts_by(conn, A.status, []))
        found = {
            key: {
                "total": records.count(conn, where),
                "items": [
                    views.summary(r, now) for r in records.listing(conn, where, order, LISTED)
                ],
            }
            for key, (where, order) in lists.items()
        }
        by_officer = records.counts_by(conn, officer, [A.is_open.is_(True)])
        by_operator = records.counts_by(conn, A.operator, [A.is_open.is_(True)])
        names = {r["code"]: r["name"] for r in records.operators(conn)}
    return {
        "statuses": [
            {
                "status": code,
                "name": spec["name"],
                "en": spec["en"],
                "count": statuses.get(code, 0),
                "open": code in lifecycle.OPEN,
            }
            for code, spec in lifecycle.STATUSES.items()
        ],
        "open": sum(n for s, n in statuses.items() if s in lifecycle.OPEN),
        "total": sum(statuses.values()),
        **found,
        "accept_soon_until": views.iso(accept_soon),
        "reply_soon_until": views.iso(reply_soon),
        "by_officer": [{"officer": o, "open": n} for o, n in by_officer],
        "by_operator": [
            {"operator": code, "name": names.get(code) if code else None, "open": n}
            for code, n in by_operator
        ],
        "policy": {
            "accept_soon_working_days": SOON_ACCEPT_WORKING_DAYS,
            "reply_soon_days": SOON_REPLY_DAYS,
        },
    }
