"""The dashboard's live figures and chart series: today's load, per-day counts.

`overview`: intake today, open, about to breach and breached, now, for the caller's scope.
`series`: per-day counts over a period for the charts (by category, channel and kind;
deadlines by outcome; callback results and root causes of the complaints closed).
Each function takes an `actor` and needs the permission `report.read`.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, func, or_, select

from kesu.accounts.roles import Actor
from kesu.clock import to_beijing
from kesu.complaints import vocabulary as vocab
from kesu.reports.catalog import definitions
from kesu.reports.periods import dates
from kesu.reports.queries import (
    C,
    D,
    all_of,
    bounds,
    common,
    day_of,
    deadline_filter,
    flag,
    iso,
    population,
    reader,
    reading,
    rules_span_days,
    scope,
    to_date,
    valid_period,
)
from kesu.store import tables as t

if TYPE_CHECKING:
    from kesu.runtime import Runtime

NO_CATEGORY = "none"


def overview(rt: Runtime, actor: Actor) -> dict[str, Any]:
    """{intake_today, open, about_to_breach, breached} for the caller's scope, now."""
    p = reader(actor)
    now = rt.clock()
    today = to_beijing(now).date()
    lo, hi = bounds(today, today)
    soon = now + timedelta(hours=24)
    in_scope = scope(p)
    with reading(rt) as conn:
        intake = conn.execute(
            select(func.count())
            .select_from(t.complaints)
            .where(C.received_at >= lo, C.received_at < hi, *in_scope)
        ).scalar_one()
        row = conn.execute(
            select(
                func.count().label("open"),
                flag(C.next_due_at < now).label("breached"),
                flag(and_(C.next_due_at >= now, C.next_due_at < soon)).label("soon"),
            ).where(C.is_open, *in_scope)
        ).one()
    return {
        "intake_today": intake,
        "open": row.open,
        "about_to_breach": int(row.soon),
        "breached": int(row.breached),
        "as_of": iso(now),
        "today": today.isoformat(),
    }


def _names(table: dict[str, dict]) -> dict[str, str]:
    return {code: v["name"] for code, v in table.items()}


DEADLINE_STATES = {
    "met_on_time": "按时完成",
    "met_late": "超时完成",
    "breached": "已超期未完成",
    "pending": "未到期",
}


def series(rt: Runtime, actor: Actor, start: date, end: date) -> dict[str, Any]:
    """Per-day counts for the dashboard's charts over [start, end] (Beijing dates).

    by_category / by_channel / by_kind: complaints received per day (every kind; merged
    duplicates left out; no category → "none"). deadlines: every deadline by the day it
    falls due — met on time, met late, breached (not met, past due), pending (not met,
    not yet due); deadlines met by merging a duplicate are left out. satisfaction: the
    final callback result of the complaints closed in the period (as satisfaction_rate),
    and unreachable: closed after callbacks that never reached the customer.
    root_causes: top 10 of the complaints closed in the period.
    """
    p = reader(actor)
    valid_period(start, end)
    now = rt.clock()
    lo, hi = bounds(start, end)
    days = dates(start, end)
    index = {d: i for i, d in enumerate(days)}
    in_scope = scope(p)
    defs = definitions()
    sat = defs["satisfaction_rate"]
    avg = defs["handling_hours_avg"]
    with reading(rt) as conn:
        dialect = conn.dialect.name
        day = day_of(dialect, C.received_at).label("day")
        intake = conn.execute(
            select(day, C.kind, C.category, C.channel, func.count().label("n"))
            .where(C.received_at >= lo, C.received_at < hi, C.status != "merged", *in_scope)
            .group_by(day, C.kind, C.category, C.channel)
        ).all()
        dday = day_of(dialect, D.due_at).label("day")
        state = case(
            (and_(D.met_at.is_not(None), D.met_at <= D.due_at), "met_on_time"),
            (D.met_at.is_not(None), "met_late"),
            (D.due_at < now, "breached"),
            else_="pending",
        ).label("state")
        # The admins' SLA policies may run longer than the rules as filed.
        policies = [x for ps in rt.sla_policies(conn).by_rule.values() for x in ps]
        span = rules_span_days([*rt.rules.values(), *policies])
        join, extra = deadline_filter(conn, p, None, lo, hi, span)
        stmt = select(dday, state, func.count().label("n")).where(
            D.due_at >= lo, D.due_at < hi, or_(D.met_by.is_(None), D.met_by != "merge"), *extra
        )
        if join:
            stmt = stmt.select_from(t.deadlines.join(t.complaints, C.id == D.complaint_id))
        due = conn.execute(stmt.group_by(dday, state)).all()
        # Callback results and root causes of the complaints closed in the period: one pass.
        sat_pop = all_of(population(C, sat.population))
        cause_pop = all_of(population(C, avg.population))
        closed = conn.execute(
            select(
                C.callback_result,
                C.root_cause,
                flag(sat_pop).label("in_sat"),
                flag(and_(sat_pop, C.callback_attempts > 0)).label("tried"),
                flag(cause_pop).label("in_cause"),
            )
            .where(
                C.closed_at >= lo,
                C.closed_at < hi,
                *common([sat.population, avg.population]),
                *in_scope,
            )
            .group_by(C.callback_result, C.root_cause)
        ).all()

    def zeros() -> list[int]:
        return [0] * len(days)

    by_category: dict[str, list[int]] = {code: zeros() for code in vocab.CATEGORIES}
    by_channel: dict[str, list[int]] = {code: zeros() for code in vocab.CHANNELS}
    by_kind: dict[str, list[int]] = {code: zeros() for code in vocab.KINDS}
    for row in intake:
        i = index.get(to_date(row.day))
        if i is None:
            continue
        by_category.setdefault(row.category or NO_CATEGORY, zeros())[i] += row.n
        by_channel.setdefault(row.channel, zeros())[i] += row.n
        by_kind.setdefault(row.kind, zeros())[i] += row.n
    deadlines = {key: zeros() for key in DEADLINE_STATES}
    for row in due:
        i = index.get(to_date(row.day))
        if i is not None:
            deadlines[row.state][i] += row.n
    satisfaction = {code: 0 for code in vocab.CALLBACK_RESULTS}
    causes: dict[str, int] = defaultdict(int)
    for row in closed:
        if row.callback_result in satisfaction:
            satisfaction[row.callback_result] += int(row.in_sat)
        elif row.callback_result is None:
            satisfaction["unreachable"] += int(row.tried)
        if row.root_cause is not None and row.in_cause:
            causes[row.root_cause] += int(row.in_cause)
    top = sorted(causes.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    return {
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "days": [d.isoformat() for d in days],
        "by_category": by_category,
        "by_channel": by_channel,
        "by_kind": by_kind,
        "deadlines": deadlines,
        "satisfaction": satisfaction,
        "root_causes": [
            {"code": code, "name": vocab.ROOT_CAUSES.get(code, {}).get("name", code), "count": n}
            for code, n in top
        ],
        "names": {
            "categories": {**_names(vocab.CATEGORIES), NO_CATEGORY: "未分类"},
            "channels": _names(vocab.CHANNELS),
            "kinds": _names(vocab.KINDS),
            "callback_results": _names(vocab.CALLBACK_RESULTS),
            "root_causes": _names(vocab.ROOT_CAUSES),
            "deadlines": DEADLINE_STATES,
        },
        "generated_at": iso(now),
    }
