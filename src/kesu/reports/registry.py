"""The KPI registry: the function that computes each KPI of data/reports/kpis.yaml, by id.

A KPI is its definition in kpis.yaml (its wording, population and parameters) plus one
function registered under the same id:

    @kpi("ack_24h_rate", params=("within_hours",))
    def ack_24h_rate(k: Kpi, ask: Ask) -> Daily: ...

The function is given the KPI's definition and the question (`Ask`: who asks, the period,
the read connection) and returns the tally the KPI's figures are read from (tallies.py).
Most KPIs add their columns to a pass several KPIs share (sources.py: one query over the
complaints received in the period, one over those closed in it), so KPIs that read the
same rows cost one query together; a KPI that needs other rows runs its own query on
`ask.conn`. `params` names the parameters kpis.yaml must give the KPI.

The registry is complete when every KPI of kpis.yaml has a function and every function a
definition: `check` says which are missing. catalog.py imports the KPI modules and runs
it, so a mismatch stops kesu at start-up (docs/kpis.md: how to add a KPI).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, TypeVar

from kesu.accounts.roles import Principal
from kesu.reports.definitions import DefinitionError, Kpi
from kesu.reports.tallies import Tally

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from kesu.runtime import Runtime


KpiFunction = Callable[[Kpi, "Ask"], Tally]
F = TypeVar("F", bound=KpiFunction)
P = TypeVar("P", bound="Pass")


@dataclass(frozen=True)
class Registered:
    """A KPI's computation: its function and the parameters its definition must give."""

    id: str
    params: tuple[str, ...]
    compute: KpiFunction


_KPIS: dict[str, Registered] = {}


def kpi(kid: str, *, params: Iterable[str] = ()) -> Callable[[F], F]:
    """Register the decorated function as the computation of the KPI `kid` of kpis.yaml."""

    def register(fn: F) -> F:
        if kid in _KPIS:
            other = _KPIS[kid].compute
            raise DefinitionError(
                f"KPI {kid} is registered twice: {other.__module__}.{other.__name__} "
                f"and {fn.__module__}.{fn.__name__}"
            )
        _KPIS[kid] = Registered(id=kid, params=tuple(params), compute=fn)
        return fn

    return register


def registered() -> Mapping[str, Registered]:
    """The registered KPIs, by id (read-only)."""
    return MappingProxyType(_KPIS)


def needed_params() -> dict[str, tuple[str, ...]]:
    """Each registered KPI → the parameters its definition must give."""
    return {kid: r.params for kid, r in _KPIS.items()}


def check(defined: Iterable[str], where: str = "data/reports/kpis.yaml") -> None:
    """Raise DefinitionError unless the KPIs defined in `where` and the registered ones are
    the same: each missing function or definition is named, with what to do about it."""
    ids = list(defined)
    unregistered = [kid for kid in ids if kid not in _KPIS]
    undefined = sorted(set(_KPIS) - set(ids))
    problems = []
    if unregistered:
        problems.append(
            f"defined in {where} without a registered function: {unregistered} "
            '(register one with @kpi("<id>") in a kesu/reports/kpi_*.py module)'
        )
    if undefined:
        problems.append(
            f"registered without a definition in {where}: {undefined} "
            "(add the KPI's entry, or remove its function)"
        )
    if problems:
        raise DefinitionError("KPI registry incomplete: " + "; ".join(problems))


@dataclass
class Ask:
    """The question a KPI function answers, and where it reads.

    `start`..`end`: the period (Beijing dates, both included); `lo`..`hi`: the instants
    read, [first day of the previous period 00:00, the day after `end` 00:00) Beijing,
    so one pass serves the period, its trend and the previous period's value.
    """

    rt: Runtime
    conn: Connection
    p: Principal
    region: str | None
    start: date
    end: date
    lo: datetime
    hi: datetime
    now: datetime
    passes: dict[type, Pass] = field(default_factory=dict)

    @property
    def dialect(self) -> str:
        return self.conn.dialect.name

    @property
    def by_city(self) -> bool:
        """With a region, the per-10k counts go down to the customer's city."""
        return self.region is not None

    def shared(self, kind: type[P]) -> P:
        """The pass of this kind for this question, made on first use."""
        found = self.passes.get(kind)
        if found is None:
            found = self.passes[kind] = kind(self)
        return found  # type: ignore[return-value]

    def run(self) -> None:
        """Send each pass's query, in the order the passes were first asked for."""
        for each in self.passes.values():
            each.run()


class Pass(ABC):
    """A query several KPIs share: each adds what it counts and gets an empty tally back;
    `run` reads the rows once and fills every tally. Each source (reports/sources.py)
    is a subclass with its own `run`."""

    def __init__(self, ask: Ask) -> None:
        self.ask = ask

    @abstractmethod
    def run(self) -> None:
        """Read the rows once and fill every tally the KPIs asked for."""
