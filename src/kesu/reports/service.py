"""The KPI report: the KPIs of data/reports/kpis.yaml over a period, and its xlsx export.

Every figure is counted by the database (GROUP BY, COUNT with CASE) over the
rows of the period only, found through the indexed time columns
(complaints.received_at, complaints.closed_at); per-row values are fetched only
for the handling-time percentile. Personal fields are never read (the phone's
lookup hash is compared in SQL for repeat complaints). The caller's scope is the
complaints service's: a reseller counts only its own complaints.

Each function takes an `actor` (a Principal, or a plain name for trusted
internal code) and needs the permission `report.read`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, exists, func, or_, select

from kesu.accounts.roles import Actor
from kesu.accounts.service import audit
from kesu.reports.arithmetic import mean, per_10k, percentile, rate_trend
from kesu.reports.catalog import definitions, subscribers
from kesu.reports.definitions import Kpi
from kesu.reports.periods import buckets, dates, previous_period, trend_unit
from kesu.reports.queries import (
    C,
    D,
    all_of,
    bounds,
    checked_region,
    common,
    day_of,
    days_before,
    deadline_filter,
    flag,
    had_events,
    iso,
    millis,
    population,
    reader,
    reading,
    rules_span_days,
    scope_of,
    to_date,
    valid_period,
    where,
)
from kesu.reports.subscribers import Subscribers
from kesu.store import tables as t
from kesu.store.db import write

if TYPE_CHECKING:
    from kesu.runtime import Runtime


# ---- KPIs ---------------------------------------------------------------------------------


class _Sums:
    """Per-day (numerator, denominator) of the rate KPIs."""

    def __init__(self) -> None:
        self.days: dict[str, dict[date, list[float]]] = defaultdict(
            lambda: defaultdict(lambda: [0.0, 0.0])
        )

    def add(self, kpi: str, day: date, num: float, den: float) -> None:
        cell = self.days[kpi][day]
        cell[0] += num
        cell[1] += den

    def total(self, kpi: str, start: date, end: date) -> tuple[float, float]:
        num = den = 0.0
        for day, (n, m) in self.days[kpi].items():
            if start <= day <= end:
                num += n
                den += m
        return num, den

    def per_day(self, kpi: str) -> dict[date, tuple[float, float]]:
        return {d: (n, m) for d, (n, m) in self.days[kpi].items()}


def _received_counts(conn, defs, p, region, lo, hi, now, by_city: bool):
    """One pass over the complaints received in [lo, hi): the received-based KPIs per day.

    The repeat numerator comes from _repeat_counts.
    """
    dialect = conn.dialect.name
    ack, rep, esc, p10 = (
        defs["ack_24h_rate"],
        defs["repeat_rate"],
        defs["escalation_rate"],
        defs["complaints_per_10k"],
    )
    # ack: from receipt, or from the conversion of a consultation into a complaint.
    start = func.coalesce(C.converted_at, C.received_at)
    within = int(ack.params["within_hours"] * 3600 * 1000)
    acked = and_(
        C.accepted_at.is_not(None),
        C.accepted_at >= start,
        millis(dialect, C.accepted_at, start) <= within,
    )
    waiting = or_(C.accepted_at.is_(None), C.accepted_at < start)
    pending = and_(waiting, start > now - timedelta(milliseconds=within))
    ack_pop = all_of(population(C, ack.population))

    rep_pop = all_of(population(C, rep.population))
    # escalation_level > 0 exactly when the complaint has an `escalated` event: each
    # escalation adds one, nothing takes it back.
    became = or_(
        C.kind.in_(sorted(esc.params["appeal_kinds"])),
        C.channel_level.in_(sorted(esc.params["channel_levels"])),
        C.escalation_level > 0,
    )
    esc_pop = all_of(population(C, esc.population))
    p10_pop = all_of(population(C, p10.population))

    day = day_of(dialect, C.received_at).label("day")
    keys = [day, C.customer_province.label("province")]
    if by_city:
        keys.append(C.customer_city.label("city"))
    stmt = (
        select(
            *keys,
            flag(and_(ack_pop, acked)).label("ack_num"),
            flag(and_(ack_pop, ~pending)).label("ack_den"),
            flag(rep_pop).label("rep_den"),
            flag(and_(esc_pop, became)).label("esc_num"),
            flag(esc_pop).label("esc_den"),
            flag(p10_pop).label("p10"),
        )
        .where(
            C.received_at >= lo,
            C.received_at < hi,
            *where(p, region),
            *common([ack.population, rep.population, esc.population, p10.population]),
        )
        .group_by(*keys)
    )
    return conn.execute(stmt).all()


def _repeat_counts(conn, defs, p, region, lo, hi, by_city: bool):
    """Repeat complaints received in [lo, hi) per day: an earlier complaint of the same
    customer and category within the look-back, in the same population and scope.

    The earlier complaint is also bounded by constants (received in [lo - look-back, hi)),
    which lets PostgreSQL hash-join the two sets; SQLite probes the phone-hash index.
    """
    dialect = conn.dialect.name
    rep = defs["repeat_rate"]
    lookback = int(rep.params["lookback_days"])
    prior = t.complaints.alias("prior")
    P = prior.c
    earlier = exists().where(
        P.customer_phone_hash == C.customer_phone_hash,
        P.category == C.category,
        P.id != C.id,
        # before it: received earlier, or at the same instant and registered first
        or_(P.received_at < C.received_at, and_(P.received_at == C.received_at, P.id < C.id)),
        P.received_at >= days_before(dialect, C.received_at, lookback),
        P.received_at >= lo - timedelta(days=lookback),
        P.received_at < hi,
        *population(P, rep.population),
        *scope_of(prior, p),
    )
    day = day_of(dialect, C.received_at).label("day")
    keys = [day, C.customer_province.label("province")]
    if by_city:
        keys.append(C.customer_city.label("city"))
    stmt = (
        select(*keys, func.count().label("n"))
        .where(
            C.received_at >= lo,
            C.received_at < hi,
            C.customer_phone_hash.is_not(None),
            C.category.is_not(None),
            *where(p, region),
            *population(C, rep.population),
            earlier,
        )
        .group_by(*keys)
    )
    return conn.execute(stmt).all()


# Events whose count the complaint row keeps: each adds one, nothing takes it back.
_COUNTED_EVENTS = {"reopened": C.reopen_count, "escalated": C.escalation_level}

# Bits of the per-row answer of _closed_rows.
IN_AVG, IN_P90, IN_FCR, FIRST, SAT_DONE, SAT_OK = 1, 2, 4, 8, 16, 32


def _closed_rows(conn, defs, p, region, lo, hi):
    """(day, milliseconds open, bits, id) of each complaint closed in [lo, hi): one pass for
    the handling time, its percentile, first-contact resolution and satisfaction."""
    dialect = conn.dialect.name
    avg, p90, fcr, sat = (
        defs["handling_hours_avg"],
        defs["handling_hours_p90"],
        defs["first_contact_resolution_rate"],
        defs["satisfaction_rate"],
    )
    # reopen_count / escalation_level count the `reopened` / `escalated` events (each
    # adds one, nothing takes it back); other events (transfers) are looked up in the
    # per-process index of such complaints (see EventIndex, _COUNTED_EVENTS).
    events = fcr.params["events"]
    first = all_of([col == 0 for event, col in _COUNTED_EVENTS.items() if event in events])

    def bit(cond, value):
        return case((cond, value), else_=0)

    fcr_pop = all_of(population(C, fcr.population))
    sat_pop = all_of(population(C, sat.population))
    bits = (
        bit(all_of(population(C, avg.population)), IN_AVG)
        + bit(all_of(population(C, p90.population)), IN_P90)
        + bit(fcr_pop, IN_FCR)
        + bit(and_(fcr_pop, first), FIRST)
        + bit(and_(sat_pop, C.callback_result.in_(sorted(sat.params["done"]))), SAT_DONE)
        + bit(and_(sat_pop, C.callback_result.in_(sorted(sat.params["satisfied"]))), SAT_OK)
    )
    stmt = select(
        day_of(dialect, C.closed_at), millis(dialect, C.closed_at, C.received_at), bits, C.id
    ).where(
        C.closed_at >= lo,
        C.closed_at < hi,
        *where(p, region),
        *common([avg.population, p90.population, fcr.population, sat.population]),
    )
    return conn.execute(stmt).all()


def _deadline_counts(conn, rt, defs, p, region, lo, hi, now):
    """Statutory answer deadlines due in [lo, hi) per day of due date: (on time, counted)."""
    dialect = conn.dialect.name
    kpi = defs["reply_on_time_rate"]
    pop = kpi.population
    join, extra = deadline_filter(
        conn, p, region, lo, hi, rules_span_days(rt.rules[r] for r in pop.rules if r in rt.rules)
    )
    day = day_of(dialect, D.due_at).label("day")
    conds = [
        D.rule.in_(pop.rules),
        D.due_at >= lo,
        D.due_at < hi,
        # Not yet met and not yet due: the outcome is still open.
        or_(D.met_at.is_not(None), D.due_at <= now),
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
    return conn.execute(stmt.group_by(day)).all()


def _base_rows(
    subs: Subscribers,
    counts: dict[tuple[str | None, str | None], int],
    start: date,
    end: date,
    region: str | None,
    per: int,
) -> list[dict[str, Any]]:
    """万户投诉率 by province (or, with a region, the province and its cities)."""
    rows = []
    keys = set(counts)
    if region is None:
        keys |= {(name, None) for name, r in subs.provinces.items() if r.base is not None}
    else:
        keys.add((region, None))
        region_def = subs.provinces.get(region)
        if region_def is not None:
            keys |= {(region, city) for city in region_def.cities}
    for province, city in keys:
        n = counts.get((province, city), 0)
        base, missing = subs.average(province, city, start, end)
        note = None
        if province is None:
            note = "投诉未记录客户省份，不计入万户投诉率。"
        elif base is None:
            where = f"{province}{city or ''}"
            note = f"未配置{where}的用户数，无法计算万户投诉率。"
            if city is None and region is None and not n:
                continue
        elif missing:
            note = f"{'、'.join(missing)} 未配置用户数，按已配置月份按天加权计算。"
        rows.append(
            {
                "province": province,
                "city": city,
                "complaints": n,
                "subscribers": None if base is None else round(base),
                "per_10k": per_10k(n, base, per),
                "note": note,
            }
        )
    rows.sort(
        key=lambda r: (
            r["city"] is not None,  # with a region: the province first, then its cities
            r["per_10k"] is None,
            -(r["per_10k"] or 0),
            -r["complaints"],
            r["province"] or "~",
            r["city"] or "",
        )
    )
    return rows


def _per_10k(
    subs: Subscribers,
    counts: dict[str | None, int],
    start: date,
    end: date,
    per: int,
) -> tuple[int, float, float | None]:
    """(complaints, subscribers, rate) over the provinces with a configured base."""
    num = 0
    den = 0.0
    for province in set(counts) | set(subs.provinces):
        base, _missing = subs.average(province, None, start, end)
        if base is None:
            continue
        num += counts.get(province, 0)
        den += base
    return num, round(den, 2), per_10k(num, den, per) if den else None


def _rate_kpi(kpi: Kpi, sums: _Sums, start: date, end: date, prev, bs):
    num, den = sums.total(kpi.id, start, end)
    previous = kpi.value(*sums.total(kpi.id, *prev))
    result = kpi.result(int(num), int(den), kpi.value(num, den), previous)
    return result, rate_trend(kpi, sums.per_day(kpi.id), bs)


def _with_trend(kpi: Kpi, figures, start, end, prev, bs):
    """The KPI over the period, its value per bucket, and the previous period's value."""
    num, den, value = figures(start, end)
    trend = [
        {"date": b.start.isoformat(), "to": b.end.isoformat()}
        | dict(zip(("numerator", "denominator", "value"), figures(b.start, b.end), strict=True))
        for b in bs
    ]
    return kpi.result(num, den, value, figures(*prev)[2]), trend


def _hours_kpi(kpi: Kpi, table: dict[date, list[float]], start, end, prev, bs):
    """Mean or percentile (params.percentile) of the handling hours, with the total hours as
    the numerator of the mean."""
    pct = kpi.params.get("percentile")

    def hours_in(a: date, b: date) -> list[float]:
        return [h for d in dates(a, b) for h in table.get(d, ())]

    def figures(a: date, b: date) -> tuple[float | None, int, float | None]:
        values = hours_in(a, b)
        value = mean(values) if pct is None else percentile(values, pct)
        return (round(math.fsum(values), 2) if pct is None else None), len(values), value

    return _with_trend(kpi, figures, start, end, prev, bs)


def _per_10k_kpi(kpi: Kpi, subs: Subscribers, p10_days, start, end, prev, bs):
    per = int(kpi.params["per"])

    def figures(a: date, b: date) -> tuple[int, float, float | None]:
        acc: dict[str | None, int] = defaultdict(int)
        for d in dates(a, b):
            for province, n in p10_days.get(d, {}).items():
                acc[province] += n
        return _per_10k(subs, acc, a, b, per)

    return _with_trend(kpi, figures, start, end, prev, bs)


def kpis(
    rt: Runtime, actor: Actor, start: date, end: date, region: str | None = None
) -> dict[str, Any]:
    """The KPIs of kpis.yaml over [start, end] (Beijing dates, both included).

    → {period, previous_period, region, trend_unit, kpis: [...], trends: {id: [...]},
       previous: {id: value}, by_region: [...], generated_at}
    """
    p = reader(actor)
    valid_period(start, end)
    region = checked_region(region)
    defs = definitions()
    subs = subscribers()
    now = rt.clock()
    prev_start, prev_end = previous_period(start, end)
    lo, hi = bounds(prev_start, end)
    by_city = region is not None
    with reading(rt) as conn:
        received = _received_counts(conn, defs, p, region, lo, hi, now, by_city)
        repeats = _repeat_counts(conn, defs, p, region, lo, hi, by_city)
        closed = _closed_rows(conn, defs, p, region, lo, hi)
        fcr_events = defs["first_contact_resolution_rate"].params["events"]
        others = frozenset(fcr_events - set(_COUNTED_EVENTS))
        detoured = had_events(conn, others) if others else set()
        due = _deadline_counts(conn, rt, defs, p, region, lo, hi, now)

    sums = _Sums()
    # per-10k: complaints per day and province (city), for the period and the trend.
    p10_days: dict[date, dict[str | None, int]] = defaultdict(lambda: defaultdict(int))
    city_counts: dict[tuple[str | None, str | None], int] = defaultdict(int)
    for row in received:
        d = to_date(row.day)
        sums.add("ack_24h_rate", d, row.ack_num, row.ack_den)
        sums.add("repeat_rate", d, 0, row.rep_den)
        sums.add("escalation_rate", d, row.esc_num, row.esc_den)
        if row.p10:
            p10_days[d][row.province] += row.p10
            if start <= d <= end:
                city_counts[(row.province, None)] += row.p10
                if by_city:
                    city_counts[(row.province, row.city)] += row.p10
    for row in repeats:
        sums.add("repeat_rate", to_date(row.day), row.n, 0)
    for row in due:
        sums.add("reply_on_time_rate", to_date(row.day), row.num, row.den)
    hours_avg: dict[date, list[float]] = defaultdict(list)
    hours_p90: dict[date, list[float]] = defaultdict(list)
    # day → [first-contact resolved, closed (FCR population), satisfied, callbacks done]
    per_day: dict[date, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    days: dict[Any, date] = {}
    for day_, ms, bits, cid in closed:
        d = days.get(day_) or days.setdefault(day_, to_date(day_))
        if bits & IN_AVG:
            hours_avg[d].append(ms / 3_600_000)
        if bits & IN_P90:
            hours_p90[d].append(ms / 3_600_000)
        cell = per_day[d]
        if bits & IN_FCR:
            cell[1] += 1
            if bits & FIRST and cid not in detoured:
                cell[0] += 1
        if bits & SAT_DONE:
            cell[3] += 1
            if bits & SAT_OK:
                cell[2] += 1
    for d, (first, closed_n, satisfied, done) in per_day.items():
        sums.add("first_contact_resolution_rate", d, first, closed_n)
        sums.add("satisfaction_rate", d, satisfied, done)

    bs = buckets(start, end)
    prev = (prev_start, prev_end)
    hours = {"handling_hours_avg": hours_avg, "handling_hours_p90": hours_p90}
    out_kpis: list[dict[str, Any]] = []
    trends: dict[str, list[dict[str, Any]]] = {}
    for kid, kpi in defs.items():
        if kpi.unit == "hours":
            result, trends[kid] = _hours_kpi(kpi, hours[kid], start, end, prev, bs)
        elif kpi.unit == "per_10k":
            view = subs
            if region is not None:
                view = Subscribers({k: v for k, v in subs.provinces.items() if k == region})
            result, trends[kid] = _per_10k_kpi(kpi, view, p10_days, start, end, prev, bs)
        else:
            result, trends[kid] = _rate_kpi(kpi, sums, start, end, prev, bs)
        out_kpis.append(result)

    per = int(defs["complaints_per_10k"].params["per"])
    return {
        "period": {
            "from": start.isoformat(),
            "to": end.isoformat(),
            "days": (end - start).days + 1,
        },
        "previous_period": {"from": prev_start.isoformat(), "to": prev_end.isoformat()},
        "region": region,
        "trend_unit": trend_unit(start, end),
        "kpis": out_kpis,
        "trends": trends,
        "previous": {k["id"]: k["previous"] for k in out_kpis},
        "by_region": _base_rows(subs, city_counts, start, end, region, per),
        "subscribers_source": subs.source,
        "generated_at": iso(now),
    }


def kpis_xlsx(
    rt: Runtime, actor: Actor, start: date, end: date, region: str | None = None
) -> bytes:
    """The KPIs as an xlsx workbook; the export is audited (aggregates: no personal data)."""
    from kesu.reports import xlsx

    p = reader(actor)
    report = kpis(rt, p, start, end, region)
    content = xlsx.workbook(report)
    with write(rt.engine) as conn:
        audit(
            conn,
            p,
            rt.clock(),
            "report.export",
            "report",
            "kpis",
            {
                "format": "xlsx",
                "from": report["period"]["from"],
                "to": report["period"]["to"],
                "region": report["region"],
            },
        )
    return content
