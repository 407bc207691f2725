"""The KPIs counted by the day a complaint was received: acknowledged within 24 hours,
repeat complaints, escalation, complaints per 10,000 subscribers.

Each adds its counts to the shared pass over the complaints received in the period
(sources.received).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import String, and_, cast, func, or_

from kesu.complaints import repeats
from kesu.reports.definitions import Kpi
from kesu.reports.queries import (
    C,
    all_of,
    flag,
    millis,
    population,
)
from kesu.reports.registry import Ask, kpi
from kesu.reports.sources import received
from kesu.reports.tallies import Daily, PerProvince


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


@kpi("repeat_rate")
def repeat_rate(k: Kpi, ask: Ask) -> Daily:
    """Carrying the repeat flag, which registration sets by the one rule
    (complaints.repeats: same customer, same category, within its 30 days)."""
    pop = all_of(population(C, k.population))
    # risk_flags is a JSON list: its text holds each code in quotes on both databases.
    repeat = cast(C.risk_flags, String).like(f'%"{repeats.FLAG}"%')
    return received(ask).rate(k, num=flag(and_(pop, repeat)), den=flag(pop))


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
