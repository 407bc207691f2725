"""KPI definitions as data (pure): what each KPI of data/reports/kpis.yaml counts.

Each KPI's population (kinds, statuses, the time field that places a record in the
period), its parameters and its exact wording, with the articles it measures against
(checked against the texts we hold, like the deadline rules). `parse_definitions`
validates the file against the KPIs the reports know how to compute (the registry,
kesu/reports/registry.py, through catalog.py). Imports no database, no framework, no clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kesu.law.citations import Citation
from kesu.reports.arithmetic import DIGITS

UNITS: dict[str, dict[str, str]] = {
    "rate": {"name": "比率", "en": "rate", "symbol": "%"},
    "hours": {"name": "小时", "en": "hours", "symbol": "h"},
    "per_10k": {"name": "件/万户", "en": "per 10,000 subscribers", "symbol": "‱"},
}
TIME_FIELDS = ("received_at", "closed_at", "due_at")

ArticleLookup = Callable[[str, str], str | None]


class DefinitionError(ValueError):
    """kpis.yaml or subscribers.yaml is wrong; kesu refuses to use it."""


@dataclass(frozen=True)
class QuotedArticle:
    """An article a KPI's source rests on: law's Citation, with the file and the quote
    that was checked against the text held."""

    cited: Citation
    file: str
    quote: str

    @property
    def regulation(self) -> str:
        return self.cited.regulation

    @property
    def article(self) -> str:
        return self.cited.article

    @property
    def citation(self) -> str:
        return self.cited.text

    def as_json(self) -> dict[str, Any]:
        return {
            "regulation": self.cited.regulation,
            "article": self.cited.article,
            "citation": self.citation,
            "quote": self.quote,
        }


@dataclass(frozen=True)
class Source:
    policy: bool
    text: str
    basis: tuple[QuotedArticle, ...] = ()

    def as_text(self) -> str:
        if not self.basis:
            return self.text
        return self.text + "；条文依据：" + "、".join(c.citation for c in self.basis)


@dataclass(frozen=True)
class Population:
    time: str
    kinds: frozenset[str] | None = None
    statuses: frozenset[str] | None = None
    exclude_statuses: frozenset[str] = frozenset()
    rules: tuple[str, ...] = ()
    exclude_met_by: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Kpi:
    id: str
    name: str
    en: str
    unit: str
    population: Population
    definition: str
    numerator: str
    denominator: str
    source: Source
    params: Mapping[str, Any] = field(default_factory=dict)

    def value(self, numerator: float | None, denominator: float | None) -> float | None:
        """numerator / denominator in the KPI's unit, rounded; None when nothing to divide."""
        if numerator is None or not denominator:
            return None
        scale = self.params.get("per", 1) if self.unit == "per_10k" else 1
        return round(numerator / denominator * scale, DIGITS[self.unit])

    def result(
        self,
        numerator: float | None,
        denominator: float | None,
        value: float | None,
        previous: float | None = None,
    ) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "en": self.en,
            "value": value,
            "numerator": numerator,
            "denominator": denominator,
            "unit": self.unit,
            "unit_name": UNITS[self.unit]["name"],
            "previous": previous,
            "definition": self.definition,
            "numerator_definition": self.numerator,
            "denominator_definition": self.denominator,
            "source": self.source.as_text(),
            "policy": self.source.policy,
            "basis": [c.as_json() for c in self.source.basis],
        }


def _codes(raw: Any, known: Iterable[str], where: str) -> frozenset[str]:
    if not isinstance(raw, list) or not raw or not all(isinstance(x, str) for x in raw):
        raise DefinitionError(f"{where}: a non-empty list of codes is needed")
    unknown = set(raw) - set(known)
    if unknown:
        raise DefinitionError(f"{where}: unknown codes {sorted(unknown)}")
    return frozenset(raw)


def _citation(raw: Mapping[str, Any], where: str, lookup: ArticleLookup) -> QuotedArticle:
    for key in ("regulation", "article", "file", "quote"):
        if not raw.get(key):
            raise DefinitionError(f"{where}: a cited article needs {key}")
    text = lookup(raw["file"], raw["article"])
    if text is None:
        raise DefinitionError(f"{where}: {raw['article']} is not held in {raw['file']}")
    if raw["quote"] not in text:
        raise DefinitionError(f"{where}: the quote is not in {raw['file']} {raw['article']}")
    cited = Citation(raw["regulation"], raw["article"], raw.get("paragraph"), raw.get("item"))
    return QuotedArticle(cited, file=raw["file"], quote=raw["quote"])


def _population(raw: Any, where: str, vocabulary: Mapping[str, Iterable[str]]) -> Population:
    if not isinstance(raw, Mapping) or raw.get("time") not in TIME_FIELDS:
        raise DefinitionError(f"{where}: population.time must be one of {TIME_FIELDS}")
    known_keys = {"time", "kinds", "statuses", "exclude_statuses", "rules", "exclude_met_by"}
    if set(raw) - known_keys:
        raise DefinitionError(f"{where}: unknown population fields {sorted(set(raw) - known_keys)}")
    time = raw["time"]
    if (time == "due_at") != bool(raw.get("rules")):
        raise DefinitionError(f"{where}: deadline KPIs (time due_at) and only they name rules")
    statuses = vocabulary.get("statuses", ())
    return Population(
        time=time,
        kinds=_codes(raw["kinds"], vocabulary.get("kinds", ()), f"{where}.kinds")
        if "kinds" in raw
        else None,
        statuses=_codes(raw["statuses"], statuses, f"{where}.statuses")
        if "statuses" in raw
        else None,
        exclude_statuses=_codes(raw["exclude_statuses"], statuses, f"{where}.exclude_statuses")
        if "exclude_statuses" in raw
        else frozenset(),
        rules=tuple(sorted(_codes(raw["rules"], vocabulary.get("rules", ()), f"{where}.rules")))
        if "rules" in raw
        else (),
        exclude_met_by=frozenset(raw.get("exclude_met_by") or ()),
    )


# Parameters that are lists of codes, and the vocabulary they are checked against.
_PARAM_CODES = {
    "events": "events",
    "done": "callback_results",
    "satisfied": "callback_results",
    "appeal_kinds": "kinds",
    "channel_levels": "channel_levels",
}


def _params(
    kid: str, raw: Any, vocabulary: Mapping[str, Iterable[str]], needed: Iterable[str]
) -> dict[str, Any]:
    raw = dict(raw or {})
    missing = set(needed) - set(raw)
    if missing:
        raise DefinitionError(f"{kid}: params {sorted(missing)} are needed")
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _PARAM_CODES:
            out[key] = _codes(value, vocabulary.get(_PARAM_CODES[key], ()), f"{kid}.{key}")
        elif isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            out[key] = value
        else:
            raise DefinitionError(f"{kid}: param {key} must be a positive number or codes")
    if "percentile" in out and not 0 < out["percentile"] <= 100:
        raise DefinitionError(f"{kid}: percentile must be in (0, 100]")
    if "satisfied" in out and "done" in out and not out["satisfied"] <= out["done"]:
        raise DefinitionError(f"{kid}: satisfied results must be among the done ones")
    return out


def parse_definitions(
    data: Mapping[str, Any],
    lookup: ArticleLookup,
    vocabulary: Mapping[str, Iterable[str]],
    computed: Mapping[str, Iterable[str]],
) -> dict[str, Kpi]:
    """The KPIs of kpis.yaml, validated: codes known, citations held and quoted, params there.

    `computed`: the KPIs kesu can compute (the registry), each with the parameters it needs;
    every one of them needs a definition, and nothing else can have one.
    """
    out: dict[str, Kpi] = {}
    for raw in data.get("kpis") or ():
        kid = raw.get("id")
        if kid not in computed:
            raise DefinitionError(
                f"unknown KPI id {kid!r}: no function is registered for it "
                f"(registered: {sorted(computed)})"
            )
        if kid in out:
            raise DefinitionError(f"duplicate KPI id {kid}")
        for key in ("name", "en", "definition", "numerator", "denominator"):
            if not isinstance(raw.get(key), str) or not raw[key].strip():
                raise DefinitionError(f"{kid}: {key} is needed")
        if raw.get("unit") not in UNITS:
            raise DefinitionError(f"{kid}: unit must be one of {list(UNITS)}")
        src = raw.get("source") or {}
        if not src.get("text"):
            raise DefinitionError(f"{kid}: source.text is needed")
        basis = tuple(_citation(b, f"{kid}.source.basis", lookup) for b in src.get("basis") or ())
        if not src.get("policy") and not basis:
            raise DefinitionError(f"{kid}: a source is operator policy or cites articles held")
        out[kid] = Kpi(
            id=kid,
            name=raw["name"].strip(),
            en=raw["en"].strip(),
            unit=raw["unit"],
            population=_population(raw.get("population"), kid, vocabulary),
            definition=" ".join(raw["definition"].split()),
            numerator=raw["numerator"].strip(),
            denominator=raw["denominator"].strip(),
            source=Source(policy=bool(src.get("policy")), text=src["text"].strip(), basis=basis),
            params=_params(kid, raw.get("params"), vocabulary, computed[kid]),
        )
    missing = set(computed) - set(out)
    if missing:
        raise DefinitionError(f"KPIs without a definition: {sorted(missing)}")
    return out
