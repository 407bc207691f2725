"""Reports: the KPIs of data/reports/kpis.yaml, the dashboard's aggregates, the xlsx export.

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

import logging
import math
import os
import threading
import weakref
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from sqlalchemy import (
    Connection,
    Date,
    Float,
    Interval,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
    true,
    union,
)
from sqlalchemy.sql.util import ClauseAdapter

from kesu.accounts.roles import Actor, Principal, as_principal, require
from kesu.accounts.service import audit
from kesu.clock import BEIJING, to_beijing
from kesu.complaints import lifecycle
from kesu.complaints import vocabulary as vocab
from kesu.complaints.service import _scope
from kesu.data_files import DATA_DIR, load_yaml
from kesu.law.corpus import article_text
from kesu.problems import Problem
from kesu.reports.arithmetic import mean, per_10k, percentile, rate_trend
from kesu.reports.definitions import DefinitionError, Kpi, Population, parse_definitions
from kesu.reports.periods import (
    PeriodError,
    buckets,
    check_period,
    dates,
    max_span_days,
    previous_period,
    trend_unit,
)
from kesu.reports.subscribers import Subscribers, parse_subscribers
from kesu.store import tables as t
from kesu.store.db import read, write

if TYPE_CHECKING:
    from kesu.runtime import Runtime

log = logging.getLogger("kesu.reports")

C = t.complaints.c
D = t.deadlines.c
E = t.complaint_events.c

PERMISSION = "report.read"
SUBSCRIBERS_ENV = "KESU_SUBSCRIBERS_FILE"
DEFAULT_SUBSCRIBERS = DATA_DIR / "reports" / "subscribers.yaml"
NO_CATEGORY = "none"
SQLITE_MMAP = 256 * 1024 * 1024


# ---- definitions and the subscriber base -------------------------------------


def _vocabulary() -> dict[str, Iterable[str]]:
    return {
        "kinds": vocab.KINDS,
        "statuses": lifecycle.STATUSES,
        "events": vocab.EVENTS,
        "callback_results": vocab.CALLBACK_RESULTS,
        "channel_levels": {c["level"] for c in vocab.CHANNELS.values()},
        "rules": [r["id"] for r in load_yaml("deadline_rules.yaml")["rules"]],
    }


@lru_cache(maxsize=1)
def definitions() -> dict[str, Kpi]:
    """The KPIs of data/reports/kpis.yaml, validated (citations checked against the texts held)."""
    return parse_definitions(load_yaml("reports/kpis.yaml"), article_text, _vocabulary())


def subscribers_path() -> Path:
    return Path(os.environ.get(SUBSCRIBERS_ENV) or DEFAULT_SUBSCRIBERS)


_subscribers_lock = threading.Lock()
_subscribers_cache: dict[str, Any] = {}


def subscribers() -> Subscribers:
    """The subscriber base: $KESU_SUBSCRIBERS_FILE or the packaged file; re-read when it changes."""
    path = subscribers_path()
    try:
        stat = path.stat()
        key = (str(path), stat.st_mtime_ns, stat.st_size)
        with _subscribers_lock:
            if _subscribers_cache.get("key") == key:
                return _subscribers_cache["value"]
            with path.open(encoding="utf-8") as fh:
                value = parse_subscribers(yaml.safe_load(fh), vocab.normalize_province)
            _subscribers_cache.update(key=key, value=value)
            return value
    except (OSError, yaml.YAMLError, DefinitionError) as err:
        log.error("subscriber file %s: %s", path, err)
        raise Problem(
            500,
            "subscribers_invalid",
            "Subscriber base unavailable",
            f"用户数配置文件（{path.name}）无法读取或格式有误，万户投诉率无法计算：{err}",
        ) from None


# ---- periods and SQL helpers -------------------------------------------------------


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=BEIJING)


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, end + 1 day 00:00) Beijing: the instants of the period."""
    return _start_of(start), _start_of(end + timedelta(days=1))


def _check_period(start: date, end: date) -> None:
    try:
        check_period(start, end)
    except PeriodError as err:
        raise Problem(422, err.code, "Invalid period", err.detail) from None


def _region(region: str | None) -> str | None:
    if region is None or not region.strip():
        return None
    full = vocab.normalize_province(region)
    if full is None:
        raise Problem(
            422, "unknown_province", "Unknown province", f"未知的省份“{region.strip()}”。"
        )
    return full


def _day(dialect: str, col):
    """The Beijing date of a stored instant (a date on PostgreSQL, text YYYY-MM-DD on SQLite)."""
    if dialect == "postgresql":
        return cast(func.timezone("Asia/Shanghai", col), Date)
    # Stored as naive UTC text. The whole seconds only: SQLite's date functions round to the
    # millisecond, which would carry 23:59:59.999999 (a due time at 24:00) into the next
    # day. Beijing has no daylight saving time.
    return func.date(func.substr(col, 1, 19), "+8 hours")


def _millis(dialect: str, later, earlier):
    """Milliseconds from `earlier` to `later`."""
    if dialect == "postgresql":
        return cast(func.extract("epoch", later - earlier) * 1000, Float)
    # julianday() counts in whole milliseconds inside SQLite: rounding gives them back.
    return func.round((func.julianday(later) - func.julianday(earlier)) * 86400000.0)


def _days_before(dialect: str, col, days: int):
    if dialect == "postgresql":
        return col - literal(timedelta(days=days), Interval())
    return func.strftime("%Y-%m-%d %H:%M:%f", col, f"-{int(days)} days")


def _all(conds: list):
    return and_(true(), *conds)


def _flag(cond):
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)


def _population(cols, pop: Population) -> list:
    conds = []
    if pop.kinds is not None:
        conds.append(cols.kind.in_(sorted(pop.kinds)))
    if pop.statuses is not None:
        conds.append(cols.status.in_(sorted(pop.statuses)))
    if pop.exclude_statuses:
        conds.append(cols.status.not_in(sorted(pop.exclude_statuses)))
    return conds


def _common(pops: list[Population]) -> list:
    """Conditions every one of the populations implies: they narrow the scan for all of them."""
    conds = []
    kinds = [p.kinds for p in pops]
    if all(k is not None for k in kinds):
        conds.append(C.kind.in_(sorted(set().union(*kinds))))  # type: ignore[arg-type]
    statuses = [p.statuses for p in pops]
    if all(s is not None for s in statuses):
        conds.append(C.status.in_(sorted(set().union(*statuses))))  # type: ignore[arg-type]
    excluded = frozenset.intersection(*(p.exclude_statuses for p in pops))
    if excluded:
        conds.append(C.status.not_in(sorted(excluded)))
    return conds


def _scope_of(alias, p: Principal) -> list:
    """The complaints service's scope (`_scope`), on another alias of the table."""
    adapt = ClauseAdapter(alias)
    return [adapt.traverse(cond) for cond in _scope(p)]


def _where(p: Principal, region: str | None) -> list:
    conds = list(_scope(p))
    if region is not None:
        conds.append(C.customer_province == region)
    return conds


@contextmanager
def _reading(rt: Runtime) -> Iterator[Connection]:
    """A read transaction for aggregates.

    PostgreSQL: no JIT — the correlated parts of these queries make the planner's cost
    estimates large enough to trigger JIT compilation, which takes longer than the query;
    and room to sort a period's rows in memory rather than on disk.
    SQLite: the database file is read through mmap, much cheaper than a read() per page
    when a report touches many rows (a per-connection setting; harmless for the others).
    """
    with read(rt.engine) as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL jit = off")
            conn.exec_driver_sql("SET LOCAL work_mem = '32MB'")
        elif conn.dialect.name == "sqlite":
            conn.exec_driver_sql(f"PRAGMA mmap_size={SQLITE_MMAP}")
        yield conn


def _read(rt: Runtime, actor: Actor) -> Principal:
    p = as_principal(actor)
    require(p, PERMISSION)
    return p


def _iso(value: datetime | None) -> str | None:
    return to_beijing(value).isoformat() if value is not None else None


def _to_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


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
        _millis(dialect, C.accepted_at, start) <= within,
    )
    waiting = or_(C.accepted_at.is_(None), C.accepted_at < start)
    pending = and_(waiting, start > now - timedelta(milliseconds=within))
    ack_pop = _all(_population(C, ack.population))

    rep_pop = _all(_population(C, rep.population))
    # escalation_level > 0 exactly when the complaint has an `escalated` event: each
    # escalation adds one, nothing takes it back.
    became = or_(
        C.kind.in_(sorted(esc.params["appeal_kinds"])),
        C.channel_level.in_(sorted(esc.params["channel_levels"])),
        C.escalation_level > 0,
    )
    esc_pop = _all(_population(C, esc.population))
    p10_pop = _all(_population(C, p10.population))

    day = _day(dialect, C.received_at).label("day")
    keys = [day, C.customer_province.label("province")]
    if by_city:
        keys.append(C.customer_city.label("city"))
    stmt = (
        select(
            *keys,
            _flag(and_(ack_pop, acked)).label("ack_num"),
            _flag(and_(ack_pop, ~pending)).label("ack_den"),
            _flag(rep_pop).label("rep_den"),
            _flag(and_(esc_pop, became)).label("esc_num"),
            _flag(esc_pop).label("esc_den"),
            _flag(p10_pop).label("p10"),
        )
        .where(
            C.received_at >= lo,
            C.received_at < hi,
            *_where(p, region),
            *_common([ack.population, rep.population, esc.population, p10.population]),
        )
        .group_by(*keys)
    )
    return conn.execute(stmt).all()


class _EventIndex:
    """The complaints that ever had an event of some types (per process, per database).

    Built on first use from the events table, then extended at each use with the events
    added since (by id, through the primary key), so a report never looks events up one
    complaint at a time. On PostgreSQL ids may become visible out of order (a transaction
    commits after a later one), so the last SLACK ids are read again each time.
    """

    SLACK = {"postgresql": 2000}

    def __init__(self, types: frozenset[str]) -> None:
        self.types = sorted(types)
        self.ids: set[int] = set()
        self.upto = 0
        self._lock = threading.Lock()

    def complaints(self, conn: Connection) -> set[int]:
        with self._lock:
            top = conn.execute(select(func.max(E.id))).scalar() or 0
            if top < self.upto:  # the table was emptied (tests) or restored: start again
                self.ids, self.upto = set(), 0
            since = max(0, self.upto - self.SLACK.get(conn.dialect.name, 0))
            if top > since:
                self.ids.update(
                    conn.execute(
                        select(E.complaint_id).where(
                            E.id > since, E.id <= top, E.type.in_(self.types)
                        )
                    ).scalars()
                )
            self.upto = max(self.upto, top)
            return self.ids


_event_indexes: weakref.WeakKeyDictionary[Any, dict[frozenset[str], _EventIndex]] = (
    weakref.WeakKeyDictionary()
)
_event_indexes_lock = threading.Lock()


def _had_events(conn: Connection, types: frozenset[str]) -> set[int]:
    engine = conn.engine
    with _event_indexes_lock:
        index = _event_indexes.setdefault(engine, {}).setdefault(types, _EventIndex(types))
    return index.complaints(conn)


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
        P.received_at >= _days_before(dialect, C.received_at, lookback),
        P.received_at >= lo - timedelta(days=lookback),
        P.received_at < hi,
        *_population(P, rep.population),
        *_scope_of(prior, p),
    )
    day = _day(dialect, C.received_at).label("day")
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
            *_where(p, region),
            *_population(C, rep.population),
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
    # per-process index of such complaints (see _EventIndex, _COUNTED_EVENTS).
    events = fcr.params["events"]
    first = _all([col == 0 for event, col in _COUNTED_EVENTS.items() if event in events])

    def bit(cond, value):
        return case((cond, value), else_=0)

    fcr_pop = _all(_population(C, fcr.population))
    sat_pop = _all(_population(C, sat.population))
    bits = (
        bit(_all(_population(C, avg.population)), IN_AVG)
        + bit(_all(_population(C, p90.population)), IN_P90)
        + bit(fcr_pop, IN_FCR)
        + bit(and_(fcr_pop, first), FIRST)
        + bit(and_(sat_pop, C.callback_result.in_(sorted(sat.params["done"]))), SAT_DONE)
        + bit(and_(sat_pop, C.callback_result.in_(sorted(sat.params["satisfied"]))), SAT_OK)
    )
    stmt = select(
        _day(dialect, C.closed_at), _millis(dialect, C.closed_at, C.received_at), bits, C.id
    ).where(
        C.closed_at >= lo,
        C.closed_at < hi,
        *_where(p, region),
        *_common([avg.population, p90.population, fcr.population, sat.population]),
    )
    return conn.execute(stmt).all()


def _max_span_days(rules) -> int:
    """Days from a deadline's start to its due time at most, holidays included (a bound)."""
    return max_span_days((r.unit, r.length) for r in rules)


def _deadline_filter(conn, p, region, lo: datetime, hi: datetime, span_days: int) -> tuple:
    """How to reach the deadlines due in [lo, hi): (join complaints?, extra conditions).

    No index serves due_at for met deadlines, so either every deadline is read, or only
    those of the complaints that can hold one: received since `lo - span` (index), closed
    since then (index: a deadline started later, by a conversion or a reopening, ended
    before the complaint was closed) or still open (partial index). The second way is
    taken when those complaints are a small part of all; it keeps the cost in step with
    the period rather than with the whole history.
    """
    scoped = _where(p, region)
    since = lo - timedelta(days=span_days)
    window = conn.execute(
        select(func.count()).where(C.received_at >= since, C.received_at < hi)
    ).scalar_one()
    total = conn.execute(select(func.count()).select_from(t.complaints)).scalar_one()
    if not total or window / total > 0.3:
        return bool(scoped), scoped
    candidates = union(
        select(C.id).where(C.received_at >= since, C.received_at < hi),
        select(C.id).where(C.closed_at >= since),
        select(C.id).where(C.is_open),
    )
    return bool(scoped), [*scoped, D.complaint_id.in_(select(candidates.subquery().c.id))]


def _deadline_counts(conn, rt, defs, p, region, lo, hi, now):
    """Statutory answer deadlines due in [lo, hi) per day of due date: (on time, counted)."""
    dialect = conn.dialect.name
    kpi = defs["reply_on_time_rate"]
    pop = kpi.population
    join, extra = _deadline_filter(
        conn, p, region, lo, hi, _max_span_days(rt.rules[r] for r in pop.rules if r in rt.rules)
    )
    day = _day(dialect, D.due_at).label("day")
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
        _flag(and_(D.met_at.is_not(None), D.met_at <= D.due_at)).label("num"),
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
    p = _read(rt, actor)
    _check_period(start, end)
    region = _region(region)
    defs = definitions()
    subs = subscribers()
    now = rt.clock()
    prev_start, prev_end = previous_period(start, end)
    lo, hi = _bounds(prev_start, end)
    by_city = region is not None
    with _reading(rt) as conn:
        received = _received_counts(conn, defs, p, region, lo, hi, now, by_city)
        repeats = _repeat_counts(conn, defs, p, region, lo, hi, by_city)
        closed = _closed_rows(conn, defs, p, region, lo, hi)
        fcr_events = defs["first_contact_resolution_rate"].params["events"]
        others = frozenset(fcr_events - set(_COUNTED_EVENTS))
        detoured = _had_events(conn, others) if others else set()
        due = _deadline_counts(conn, rt, defs, p, region, lo, hi, now)

    sums = _Sums()
    # per-10k: complaints per day and province (city), for the period and the trend.
    p10_days: dict[date, dict[str | None, int]] = defaultdict(lambda: defaultdict(int))
    city_counts: dict[tuple[str | None, str | None], int] = defaultdict(int)
    for row in received:
        d = _to_date(row.day)
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
        sums.add("repeat_rate", _to_date(row.day), row.n, 0)
    for row in due:
        sums.add("reply_on_time_rate", _to_date(row.day), row.num, row.den)
    hours_avg: dict[date, list[float]] = defaultdict(list)
    hours_p90: dict[date, list[float]] = defaultdict(list)
    # day → [first-contact resolved, closed (FCR population), satisfied, callbacks done]
    per_day: dict[date, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    days: dict[Any, date] = {}
    for day_, ms, bits, cid in closed:
        d = days.get(day_) or days.setdefault(day_, _to_date(day_))
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
        "generated_at": _iso(now),
    }


def kpis_xlsx(
    rt: Runtime, actor: Actor, start: date, end: date, region: str | None = None
) -> bytes:
    """The KPIs as an xlsx workbook; the export is audited (aggregates: no personal data)."""
    from kesu.reports import xlsx

    p = _read(rt, actor)
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


# ---- dashboard aggregates ---------------------------------------------------------


def overview(rt: Runtime, actor: Actor) -> dict[str, Any]:
    """{intake_today, open, about_to_breach, breached} for the caller's scope, now."""
    p = _read(rt, actor)
    now = rt.clock()
    today = to_beijing(now).date()
    lo, hi = _bounds(today, today)
    soon = now + timedelta(hours=24)
    scope = _scope(p)
    with _reading(rt) as conn:
        intake = conn.execute(
            select(func.count())
            .select_from(t.complaints)
            .where(C.received_at >= lo, C.received_at < hi, *scope)
        ).scalar_one()
        row = conn.execute(
            select(
                func.count().label("open"),
                _flag(C.next_due_at < now).label("breached"),
                _flag(and_(C.next_due_at >= now, C.next_due_at < soon)).label("soon"),
            ).where(C.is_open, *scope)
        ).one()
    return {
        "intake_today": intake,
        "open": row.open,
        "about_to_breach": int(row.soon),
        "breached": int(row.breached),
        "as_of": _iso(now),
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
    p = _read(rt, actor)
    _check_period(start, end)
    now = rt.clock()
    lo, hi = _bounds(start, end)
    days = dates(start, end)
    index = {d: i for i, d in enumerate(days)}
    scope = _scope(p)
    defs = definitions()
    sat = defs["satisfaction_rate"]
    avg = defs["handling_hours_avg"]
    with _reading(rt) as conn:
        dialect = conn.dialect.name
        day = _day(dialect, C.received_at).label("day")
        intake = conn.execute(
            select(day, C.kind, C.category, C.channel, func.count().label("n"))
            .where(C.received_at >= lo, C.received_at < hi, C.status != "merged", *scope)
            .group_by(day, C.kind, C.category, C.channel)
        ).all()
        dday = _day(dialect, D.due_at).label("day")
        state = case(
            (and_(D.met_at.is_not(None), D.met_at <= D.due_at), "met_on_time"),
            (D.met_at.is_not(None), "met_late"),
            (D.due_at < now, "breached"),
            else_="pending",
        ).label("state")
        join, extra = _deadline_filter(conn, p, None, lo, hi, _max_span_days(rt.rules.values()))
        stmt = select(dday, state, func.count().label("n")).where(
            D.due_at >= lo, D.due_at < hi, or_(D.met_by.is_(None), D.met_by != "merge"), *extra
        )
        if join:
            stmt = stmt.select_from(t.deadlines.join(t.complaints, C.id == D.complaint_id))
        due = conn.execute(stmt.group_by(dday, state)).all()
        # Callback results and root causes of the complaints closed in the period: one pass.
        sat_pop = _all(_population(C, sat.population))
        cause_pop = _all(_population(C, avg.population))
        closed = conn.execute(
            select(
                C.callback_result,
                C.root_cause,
                _flag(sat_pop).label("in_sat"),
                _flag(and_(sat_pop, C.callback_attempts > 0)).label("tried"),
                _flag(cause_pop).label("in_cause"),
            )
            .where(
                C.closed_at >= lo,
                C.closed_at < hi,
                *_common([sat.population, avg.population]),
                *scope,
            )
            .group_by(C.callback_result, C.root_cause)
        ).all()

    def zeros() -> list[int]:
        return [0] * len(days)

    by_category: dict[str, list[int]] = {code: zeros() for code in vocab.CATEGORIES}
    by_channel: dict[str, list[int]] = {code: zeros() for code in vocab.CHANNELS}
    by_kind: dict[str, list[int]] = {code: zeros() for code in vocab.KINDS}
    for row in intake:
        i = index.get(_to_date(row.day))
        if i is None:
            continue
        by_category.setdefault(row.category or NO_CATEGORY, zeros())[i] += row.n
        by_channel.setdefault(row.channel, zeros())[i] += row.n
        by_kind.setdefault(row.kind, zeros())[i] += row.n
    deadlines = {key: zeros() for key in DEADLINE_STATES}
    for row in due:
        i = index.get(_to_date(row.day))
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
        "generated_at": _iso(now),
    }


_QUEUE_COLUMNS = (
    C.id,
    C.number,
    C.status,
    C.kind,
    C.category,
    C.team,
    C.assignee,
    C.next_due_at,
    C.priority,
    C.compensation,
    C.risk_flags,
)


def _queue_item(row, now: datetime) -> dict[str, Any]:
    return {
        "number": row.number,
        "status": row.status,
        "status_name": vocab.STATUSES[row.status]["name"],
        "kind": row.kind,
        "category": row.category,
        "category_name": vocab.CATEGORIES.get(row.category or "", {}).get("name"),
        "team": row.team,
        "team_name": vocab.TEAMS.get(row.team or "", {}).get("name"),
        "assignee": row.assignee,
        "next_due_at": _iso(row.next_due_at),
        "overdue": row.next_due_at is not None and row.next_due_at < now,
        "priority": row.priority,
        "priority_name": vocab.PRIORITIES.get(row.priority, {}).get("name"),
    }


def about_to_breach(
    rt: Runtime, actor: Actor, hours: int = 24, limit: int = 50
) -> list[dict[str, Any]]:
    """Open complaints whose next deadline falls within `hours` or has passed, soonest first.

    Each: number, status, category, team, assignee, next_due_at, overdue, priority and
    the deadline that falls due (rule, rule_name, hours_left). No personal data.
    """
    p = _read(rt, actor)
    now = rt.clock()
    with _reading(rt) as conn:
        rows = conn.execute(
            select(*_QUEUE_COLUMNS)
            .where(C.is_open, C.next_due_at < now + timedelta(hours=hours), *_scope(p))
            .order_by(C.next_due_at, C.id)
            .limit(limit)
        ).all()
        rules: dict[int, str] = {}
        if rows:
            due = conn.execute(
                select(D.complaint_id, D.rule, D.due_at)
                .where(D.complaint_id.in_([r.id for r in rows]), D.met_at.is_(None))
                .order_by(D.complaint_id, D.due_at, D.id)
            ).all()
            for d in due:
                rules.setdefault(d.complaint_id, d.rule)
    out = []
    for r in rows:
        item = _queue_item(r, now)
        rule = rules.get(r.id)
        item["rule"] = rule
        item["rule_name"] = rt.rules[rule].name if rule in rt.rules else rule
        item["hours_left"] = round((r.next_due_at - now).total_seconds() / 3600, 1)
        out.append(item)
    return out


def _approval_reasons(row, policy: lifecycle.Policy) -> list[str]:
    reasons = []
    amount = row.compensation
    if amount is not None and Decimal(amount) > policy.approval_threshold:
        reasons.append(
            f"赔偿金额 {Decimal(amount):.2f} 元超过审批阈值 {policy.approval_threshold:.2f} 元"
        )
    flags = [f for f in (row.risk_flags or ()) if f in policy.approval_flags]
    if flags:
        names = "、".join(vocab.RISK_FLAGS.get(f, {}).get("name", f) for f in sorted(flags))
        reasons.append(f"风险标记须审批：{names}")
    return reasons


def approvals(rt: Runtime, actor: Actor, limit: int = 50) -> list[dict[str, Any]]:
    """Complaints waiting for a supervisor's approval, by next deadline.

    A proposed resolution waits for approval when lifecycle.approval_required says so
    (compensation above the threshold, or a risk flag that requires approval); `reason`
    says which, in Chinese.
    """
    p = _read(rt, actor)
    now = rt.clock()
    policy = rt.policy
    with _reading(rt) as conn:
        # A superset of what needs approval, in SQL (risk flags are a JSON list of codes);
        # lifecycle.approval_required decides below.
        flags_text = cast(C.risk_flags, String)
        maybe = or_(
            C.compensation > policy.approval_threshold,
            *(flags_text.like(f'%"{flag}"%') for flag in sorted(policy.approval_flags)),
        )
        rows = conn.execute(
            select(*_QUEUE_COLUMNS).where(C.status == "proposed", maybe, *_scope(p)).order_by(C.id)
        ).all()
    waiting = [
        r
        for r in rows
        if lifecycle.approval_required(
            lifecycle.State(
                status=r.status,
                kind=r.kind,
                compensation=None if r.compensation is None else Decimal(r.compensation),
                risk_flags=frozenset(r.risk_flags or ()),
            ),
            policy,
        )
    ]
    far = datetime.max.replace(tzinfo=BEIJING)
    waiting.sort(key=lambda r: (r.next_due_at or far, r.id))
    out = []
    for r in waiting[:limit]:
        item = _queue_item(r, now)
        item["compensation"] = None if r.compensation is None else f"{Decimal(r.compensation):.2f}"
        item["risk_flags"] = sorted(r.risk_flags or ())
        item["reason"] = "；".join(_approval_reasons(r, policy))
        out.append(item)
    return out
