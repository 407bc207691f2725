"""The KPIs counted by the day a complaint was closed: handling time (mean and
percentile), first-contact resolution, satisfaction at callback.

Each adds its conditions to the shared pass over the complaints closed in the period
(sources.closed): one row per complaint, one bit per condition.
"""

from __future__ import annotations

from sqlalchemy import and_

from kesu.reports.definitions import Kpi
from kesu.reports.queries import C, all_of, had_events, population
from kesu.reports.registry import Ask, kpi
from kesu.reports.sources import closed
from kesu.reports.tallies import Daily, Hours

# Events whose count the complaint row keeps: each adds one, nothing takes it back.
_COUNTED_EVENTS = {"reopened": C.reopen_count, "escalated": C.escalation_level}


@kpi("handling_hours_avg")
def handling_hours_avg(k: Kpi, ask: Ask) -> Hours:
    """closed_at − received_at of the complaints closed, in hours: their mean."""
    return closed(ask).hours(k, all_of(population(C, k.population)))


@kpi("handling_hours_p90", params=("percentile",))
def handling_hours_p90(k: Kpi, ask: Ask) -> Hours:
    """closed_at − received_at of the complaints closed, in hours: their percentile."""
    return closed(ask).hours(k, all_of(population(C, k.population)))


@kpi("first_contact_resolution_rate", params=("events",))
def first_contact_resolution_rate(k: Kpi, ask: Ask) -> Daily:
    """Closed without any of the `events` in their history."""
    # reopen_count / escalation_level count the `reopened` / `escalated` events (each
    # adds one, nothing takes it back); other events (transfers) are looked up in the
    # per-process index of such complaints (see queries.EventIndex, _COUNTED_EVENTS).
    events = k.params["events"]
    first = all_of([col == 0 for event, col in _COUNTED_EVENTS.items() if event in events])
    others = frozenset(events - set(_COUNTED_EVENTS))
    pop = all_of(population(C, k.population))
    return closed(ask).rate(
        k,
        den=pop,
        num=and_(pop, first),
        unless=(lambda conn: had_events(conn, others)) if others else None,
    )


@kpi("satisfaction_rate", params=("done", "satisfied"))
def satisfaction_rate(k: Kpi, ask: Ask) -> Daily:
    """Of the callbacks done (final result), those satisfied."""
    pop = all_of(population(C, k.population))
    return closed(ask).rate(
        k,
        den=and_(pop, C.callback_result.in_(sorted(k.params["done"]))),
        num=and_(pop, C.callback_result.in_(sorted(k.params["satisfied"]))),
    )
