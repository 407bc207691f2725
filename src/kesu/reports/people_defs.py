"""Pure: the people's figures (人员绩效) as data/reports/people.yaml defines them, and the
arithmetic of one person's or team's figures from their closed complaints.

Each figure of the file has its computation here (`Tally.figures`); a figure the file
names that kesu does not compute, or one it computes that the file lacks, stops the
load (like the KPI registry). The quality score is not here: it comes from the quality
slice (kesu.quality.scores.person_scores), wired where that slice is merged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from kesu.data_files import load_yaml

UNITS = ("count", "rate", "hours", "score")
COMPUTED = (
    "handled",
    "on_time_rate",
    "first_contact_rate",
    "reopen_rate",
    "satisfaction_rate",
    "handling_hours_avg",
    "quality_score",  # filled in by reports.people from the quality slice's reviews
)
# Events read from the complaint row's counters (each adds one, nothing takes it back).
COUNTED_EVENTS = ("reopened", "escalated")


@dataclass(frozen=True)
class Figure:
    id: str
    name: str
    en: str
    unit: str
    definition: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "en": self.en,
            "unit": self.unit,
            "definition": self.definition,
        }


@dataclass(frozen=True)
class Definitions:
    kinds: tuple[str, ...]
    figures: tuple[Figure, ...]

    def figure(self, fid: str) -> Figure:
        return next(f for f in self.figures if f.id == fid)

    @property
    def other_events(self) -> frozenset[str]:
        """First-contact events not read from the row's counters (from the events table)."""
        events = self.figure("first_contact_rate").params["events"]
        return frozenset(e for e in events if e not in COUNTED_EVENTS)


def parse(data: Mapping[str, Any]) -> Definitions:
    figures = []
    for f in data["figures"]:
        if f.get("unit") not in UNITS:
            raise ValueError(f"people.yaml {f.get('id')}: unit must be one of {UNITS}")
        figures.append(
            Figure(
                str(f["id"]),
                str(f["name"]),
                str(f.get("en") or f["name"]),
                str(f["unit"]),
                " ".join(str(f["definition"]).split()),
                dict(f.get("params") or {}),
            )
        )
    ids = [f.id for f in figures]
    if sorted(ids) != sorted(COMPUTED) or len(set(ids)) != len(ids):
        raise ValueError(
            f"people.yaml must define each of {list(COMPUTED)} once (has {ids}); "
            "a new figure needs its computation in kesu/reports/people_defs.py"
        )
    defs = Definitions(tuple(data["population"]["kinds"]), tuple(figures))
    if defs.figure("handling_hours_avg").params.get("clock") != "calendar":
        raise ValueError("people.yaml handling_hours_avg: only clock: calendar is supported")
    sat = defs.figure("satisfaction_rate").params
    if not set(sat["satisfied"]) <= set(sat["done"]):
        raise ValueError("people.yaml satisfaction_rate: satisfied must be part of done")
    return defs


@lru_cache(maxsize=1)
def definitions() -> Definitions:
    return parse(load_yaml("reports/people.yaml"))


@dataclass(frozen=True)
class Closed:
    """One closed complaint as the figures see it."""

    handler: str | None
    team: str | None
    late: bool
    reopen_count: int
    escalation_level: int
    other_events: bool  # had one of Definitions.other_events
    callback_result: str | None
    hours: float


@dataclass
class Tally:
    handled: int = 0
    on_time: int = 0
    first: int = 0
    reopened: int = 0
    sat_num: int = 0
    sat_den: int = 0
    hours: float = 0.0

    def add(self, c: Closed, defs: Definitions) -> None:
        events = defs.figure("first_contact_rate").params["events"]
        sat = defs.figure("satisfaction_rate").params
        self.handled += 1
        self.on_time += not c.late
        again = ("reopened" in events and c.reopen_count > 0) or (
            "escalated" in events and c.escalation_level > 0
        )
        self.first += not (again or c.other_events)
        self.reopened += c.reopen_count > 0
        if c.callback_result in sat["done"]:
            self.sat_den += 1
            self.sat_num += c.callback_result in sat["satisfied"]
        self.hours += c.hours

    def figures(self) -> dict[str, dict[str, Any]]:
        """Each figure: value (null when nothing to divide), numerator, denominator."""
        n = self.handled

        def rate(num: int, den: int) -> dict[str, Any]:
            return {
                "value": round(num / den, 6) if den else None,
                "numerator": num,
                "denominator": den,
            }

        return {
            "handled": {"value": n, "numerator": n, "denominator": None},
            "on_time_rate": rate(self.on_time, n),
            "first_contact_rate": rate(self.first, n),
            "reopen_rate": rate(self.reopened, n),
            "satisfaction_rate": rate(self.sat_num, self.sat_den),
            "handling_hours_avg": {
                "value": round(self.hours / n, 2) if n else None,
                "numerator": round(self.hours, 2),
                "denominator": n,
            },
            "quality_score": {"value": None, "numerator": None, "denominator": 0},
        }


def quality_figure(scores: list[tuple[int, float | None]]) -> dict[str, Any]:
    """The quality score of a person or team from (reviews, mean score) pairs: the mean
    of all their reviews (each person's mean weighted by their number of reviews)."""
    counted = [(n, m) for n, m in scores if n and m is not None]
    total = sum(n for n, _m in counted)
    if not total:
        return {"value": None, "numerator": None, "denominator": 0}
    value = sum(n * m for n, m in counted) / total
    return {"value": round(value, 1), "numerator": None, "denominator": total}
