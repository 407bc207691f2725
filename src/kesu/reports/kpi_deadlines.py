"""The KPIs counted by the day a deadline falls due: answered within the statutory time
limit. Reads the deadlines table with its own query (no other KPI reads those rows)."""

from __future__ import annotations

from sqlalchemy import and_, func, or_, select

from kesu.reports.definitions import Kpi
from kesu.reports.queries import C, D, day_of, deadline_filter, flag, rules_span_days, to_date
from kesu.reports.registry import Ask, kpi
from kesu.reports.tallies import Daily
from kesu.store import tables as t


@kpi("reply_on_time_rate")
def reply_on_time_rate(k: Kpi, ask: Ask) -> Daily:
    """Statutory answer deadlines due in [lo, hi) per day of due date: (on time, counted);
    not yet met and not yet due: undecided, left out."""
    pop = k.population
    rules = ask.rt.rules
    join, extra = deadline_filter(
        ask.conn,
        ask.p,
        ask.region,
        ask.lo,
        ask.hi,
        rules_span_days(rules[r] for r in pop.rules if r in rules),
    )
    day = day_of(ask.dialect, D.due_at).label("day")
    conds = [
        D.rule.in_(pop.rules),
        D.due_at >= ask.lo,
        D.due_at < ask.hi,
        # Not yet met and not yet due: the outcome is still open.
        or_(D.met_at.is_not(None), D.due_at <= ask.now),
        *extra,
    ]
    if pop.exclude_met_by:
        conds.append(or_(D.met_by.is_(None), D.met_by.not_in(sorted(pop.exclude_met_by))))
    stmt = select(
        day,
        flag(and_(D.met_at.is_not(None), D.met_at <= D.due_at)).label("num"),
        func.count().label("den"),
    ).where(*conds)
    if join:
        stmt = stmt.select_from(t.deadlines.join(t.complaints, C.id == D.complaint_id))
    tally = Daily()
    for row in ask.conn.execute(stmt.group_by(day)).all():
        tally.add(to_date(row.day), row.num, row.den)
    return tally
