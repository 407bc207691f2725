"""The KPIs counted by the day a complaint was received: acknowledged within 24 hours,
repeat complaints, escalation, complaints per 10,000 subscribers.

Each adds its counts to the shared pass over the complaints received in the period
(sources.received); repeat_rate also runs its own query for its numerator.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, exists, func, or_, select

from kesu.reports.definitions import Kpi
from kesu.reports.queries import (
    C,
    all_of,
    day_of,
    days_before,
    flag,
    millis,
    population,
    scope_of,
    to_date,
    where,
)
from kesu.reports.registry import Ask, kpi
from kesu.reports.sources import received
from kesu.reports.tallies import Daily, PerProvince
from kesu.store import tables as t


@kpi("ack_24h_rate", params=("within_hours",))
def ack_24h_rate(k: Kpi, ask: Ask) -> Daily:
    """Accepted within `within_hours` of receipt, or of the conversion of a consultation
    into a complaint; not accepted and the time not yet up: undecided, left out."""
    start = func.coalesce(C.converted_at, C.received_at)
    within = int(k.params["within_hours"] * 3600 * 1000)
    acked = and_(
        C.accepted_at.is_not(None),
        C.accepted_at >= start,
        millis(ask.dialect, C.accepted_at, start) <= within,
    )
    waiting = or_(C.accepted_at.is_(None), C.accepted_at < start)
    pending = and_(waiting, start > ask.now - timedelta(milliseconds=within))
    pop = all_of(population(C, k.population))
    return received(ask).rate(k, num=flag(and_(pop, acked)), den=flag(and_(pop, ~pending)))


@kpi("repeat_rate", params=("lookback_days",))
def repeat_rate(k: Kpi, ask: Ask) -> Daily:
    """Received after an earlier complaint of the same customer and category within the
    look-back: the denominator from the shared pass, the numerator from _repeats."""
    tally = received(ask).rate(k, den=flag(all_of(population(C, k.population))))
    for row in _repeats(k, ask):
        tally.add(to_date(row.day), row.n, 0)
    return tally


def _repeats(k: Kpi, ask: Ask):
    """Repeat complaints received in [lo, hi) per day: an earlier complaint of the same
    customer and category within the look-back, in the same population and scope.

    The earlier complaint is also bounded by constants (received in [lo - look-back, hi)),
    which lets PostgreSQL hash-join the two sets; SQLite probes the phone-hash index.
    """
    dialect, lo, hi = ask.dialect, ask.lo, ask.hi
    lookback = int(k.params["lookback_days"])
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
        *population(P, k.population),
        *scope_of(prior, ask.p),
    )
    day = day_of(dialect, C.received_at).label("day")
    keys = [day, C.customer_province.label("province")]
    if ask.by_city:
        keys.append(C.customer_city.label("city"))
    stmt = (
        select(*keys, func.count().label("n"))
        .where(
            C.received_at >= lo,
            C.received_at < hi,
            C.customer_phone_hash.is_not(None),
            C.category.is_not(None),
            *where(ask.p, ask.region),
            *population(C, k.population),
            earlier,
        )
        .group_by(*keys)
    )
    return ask.conn.execute(stmt).all()


@kpi("escalation_rate", params=("appeal_kinds", "channel_levels"))
def escalation_rate(k: Kpi, ask: Ask) -> Daily:
    """Became an appeal or group-level: appeal kind, group-level channel, or escalated."""
    # escalation_level > 0 exactly when the complaint has an `escalated` event: each
    # escalation adds one, nothing takes it back.
    became = or_(
        C.kind.in_(sorted(k.params["appeal_kinds"])),
        C.channel_level.in_(sorted(k.params["channel_levels"])),
        C.escalation_level > 0,
    )
    pop = all_of(population(C, k.population))
    return received(ask).rate(k, num=flag(and_(pop, became)), den=flag(pop))


@kpi("complaints_per_10k", params=("per",))
def complaints_per_10k(k: Kpi, ask: Ask) -> PerProvince:
    """Complaints received per customer province, for 万户投诉率 and the table by region."""
    return received(ask).per_province(k, flag(all_of(population(C, k.population))))
