"""The KPI report: every KPI of data/reports/kpis.yaml over a period, and its xlsx export.

The report loops over the definitions (in the order of kpis.yaml) and asks each KPI's
registered function (registry.py) for its tally; the shared passes then read the rows of
the period once for all the KPIs that count them (sources.py). Every figure is counted
by the database over the rows of the period only (and the previous period, for the
comparison), found through the indexed time columns; per-row values are fetched only for
the handling-time percentile. Personal fields are never read. The caller's scope is the
complaints' own (complaints.queries.scope_conditions): a reseller counts only its own.

Each function takes an `actor` (a Principal, or a plain name for trusted internal code)
and needs the permission `report.read`.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from kesu.accounts.audit import audit
from kesu.accounts.roles import Actor
from kesu.reports import registry, xlsx
from kesu.reports.catalog import definitions, subscribers
from kesu.reports.definitions import DefinitionError, Kpi
from kesu.reports.periods import buckets, previous_period, trend_unit
from kesu.reports.queries import bounds, checked_region, iso, reader, reading, valid_period
from kesu.reports.registry import Ask
from kesu.reports.tallies import Period, PerProvince, Tally
from kesu.store.db import write

if TYPE_CHECKING:
    from kesu.runtime import Runtime


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
    functions = registry.registered()
    with reading(rt) as conn:
        ask = Ask(rt=rt, conn=conn, p=p, region=region, start=start, end=end, lo=lo, hi=hi, now=now)
        tallies = {kid: functions[kid].compute(kpi, ask) for kid, kpi in defs.items()}
        ask.run()

    period = Period(
        start=start,
        end=end,
        previous=(prev_start, prev_end),
        buckets=buckets(start, end),
        region=region,
        subscribers=subs,
    )
    out_kpis: list[dict[str, Any]] = []
    trends: dict[str, list[dict[str, Any]]] = {}
    for kid, kpi in defs.items():
        result, trends[kid] = _in_unit(kpi, tallies[kid]).report(kpi, period)
        out_kpis.append(result)
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
        "by_region": _by_region(defs, tallies, period),
        "subscribers_source": subs.source,
        "generated_at": iso(now),
    }


def _in_unit(kpi: Kpi, tally: Tally) -> Tally:
    if kpi.unit not in tally.units:
        raise DefinitionError(
            f"{kpi.id}: the unit is {kpi.unit}, but its function returns a "
            f"{type(tally).__name__}, which reports in {sorted(tally.units)}"
        )
    return tally


def _by_region(defs: dict[str, Kpi], tallies: dict[str, Tally], period: Period) -> list:
    """万户投诉率 by province (or the region's cities): the first per-10k KPI's table."""
    for kid, kpi in defs.items():
        tally = tallies[kid]
        if isinstance(tally, PerProvince):
            return tally.regions(kpi, period)
    return []


def kpis_xlsx(
    rt: Runtime, actor: Actor, start: date, end: date, region: str | None = None
) -> bytes:
    """The KPIs as an xlsx workbook; the export is audited (aggregates: no personal data)."""
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
