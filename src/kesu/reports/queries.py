"""The SQL of the reports: the aggregate helpers every report query is built from.

Periods as instants (Beijing days), the dialect's day and duration expressions, KPI
populations as conditions, the caller's scope (the complaints' own, so a reseller
counts only its own complaints), the read transaction tuned for aggregates, the
per-process index of complaints that had some events, and the way to reach the
deadlines due in a period. Reports read the complaint tables only through here and the
query modules that use it (sources, kpi_*, overview, queues); personal fields are never
read.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Connection,
    Date,
    Float,
    Interval,
    and_,
    case,
    cast,
    func,
    literal,
    select,
    true,
    union,
)
from sqlalchemy.sql.util import ClauseAdapter

from kesu.accounts.roles import Actor, Principal, as_principal, require
from kesu.clock import BEIJING, to_beijing
from kesu.complaints import vocabulary as vocab
from kesu.complaints.queries import scope_conditions
from kesu.problems import Problem
from kesu.reports.definitions import Population
from kesu.reports.periods import PeriodError, check_period, max_span_days
from kesu.store import tables as t
from kesu.store.db import read

if TYPE_CHECKING:
    from kesu.runtime import Runtime

C = t.complaints.c
D = t.deadlines.c
E = t.complaint_events.c

PERMISSION = "report.read"
SQLITE_MMAP = 256 * 1024 * 1024


# ---- periods, expressions, populations, scope --------------------------------------


def start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=BEIJING)


def bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, end + 1 day 00:00) Beijing: the instants of the period."""
    return start_of(start), start_of(end + timedelta(days=1))


def valid_period(start: date, end: date) -> None:
    try:
        check_period(start, end)
    except PeriodError as err:
        raise Problem(422, err.code, "Invalid period", err.detail) from None


def checked_region(region: str | None) -> str | None:
    if region is None or not region.strip():
        return None
    full = vocab.normalize_province(region)
    if full is None:
        raise Problem(
            422, "unknown_province", "Unknown province", f"未知的省份“{region.strip()}”。"
        )
    return full


def day_of(dialect: str, col):
    """The Beijing date of a stored instant (a date on PostgreSQL, text YYYY-MM-DD on SQLite)."""
    if dialect == "postgresql":
        return cast(func.timezone("Asia/Shanghai", col), Date)
    # Stored as naive UTC text. The whole seconds only: SQLite's date functions round to the
    # millisecond, which would carry 23:59:59.999999 (a due time at 24:00) into the next
    # day. Beijing has no daylight saving time.
    return func.date(func.substr(col, 1, 19), "+8 hours")


def millis(dialect: str, later, earlier):
    """Milliseconds from `earlier` to `later`."""
    if dialect == "postgresql":
        return cast(func.extract("epoch", later - earlier) * 1000, Float)
    # julianday() counts in whole milliseconds inside SQLite: rounding gives them back.
    return func.round((func.julianday(later) - func.julianday(earlier)) * 86400000.0)


def days_before(dialect: str, col, days: int):
    if dialect == "postgresql":
        return col - literal(timedelta(days=days), Interval())
    return func.strftime("%Y-%m-%d %H:%M:%f", col, f"-{int(days)} days")


def all_of(conds: list):
    return and_(true(), *conds)


def flag(cond):
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)


def population(cols, pop: Population) -> list:
    conds = []
    if pop.kinds is not None:
        conds.append(cols.kind.in_(sorted(pop.kinds)))
    if pop.statuses is not None:
        conds.append(cols.status.in_(sorted(pop.statuses)))
    if pop.exclude_statuses:
        conds.append(cols.status.not_in(sorted(pop.exclude_statuses)))
    return conds


def common(pops: list[Population]) -> list:
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


def scope_of(alias, p: Principal) -> list:
    """The complaints' scope (complaints.queries.scope_conditions) on another alias."""
    adapt = ClauseAdapter(alias)
    return [adapt.traverse(cond) for cond in scope_conditions(p)]


def scope(p: Principal) -> list:
    """The complaints' scope: what the caller may count (a reseller: its own)."""
    return list(scope_conditions(p))


def where(p: Principal, region: str | None) -> list:
    """The caller's scope, and the customer province when a region is asked for."""
    conds = list(scope_conditions(p))
    if region is not None:
        conds.append(C.customer_province == region)
    return conds


@contextmanager
def reading(rt: Runtime) -> Iterator[Connection]:
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


def reader(actor: Actor) -> Principal:
    """The caller, if allowed to read reports (permission report.read)."""
    p = as_principal(actor)
    require(p, PERMISSION)
    return p


def iso(value: datetime | None) -> str | None:
    return to_beijing(value).isoformat() if value is not None else None


def to_date(value: Any) -> date:
    """A day as the database returns it (date, or text on SQLite) as a date."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


# ---- events and deadlines -----------------------------------------------------------


class EventIndex:
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


_event_indexes: weakref.WeakKeyDictionary[Any, dict[frozenset[str], EventIndex]] = (
    weakref.WeakKeyDictionary()
)
_event_indexes_lock = threading.Lock()


def had_events(conn: Connection, types: frozenset[str]) -> set[int]:
    """The complaints that ever had an event of one of these types (see EventIndex)."""
    engine = conn.engine
    with _event_indexes_lock:
        index = _event_indexes.setdefault(engine, {}).setdefault(types, EventIndex(types))
    return index.complaints(conn)


def rules_span_days(rules) -> int:
    """Days from a deadline's start to its due time at most, holidays included (a bound)."""
    return max_span_days((r.unit, r.length) for r in rules)


def deadline_filter(conn, p, region, lo: datetime, hi: datetime, span_days: int) -> tuple:
    """How to reach the deadlines due in [lo, hi): (join complaints?, extra conditions).

    No index serves due_at for met deadlines, so either every deadline is read, or only
    those of the complaints that can hold one: received since `lo - span` (index), closed
    since then (index: a deadline started later, by a conversion or a reopening, ended
    before the complaint was closed) or still open (partial index). The second way is
    taken when those complaints are a small part of all; it keeps the cost in step with
    the period rather than with the whole history.
    """
    scoped = where(p, region)
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
