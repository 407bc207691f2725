"""KPI definitions as data, and the arithmetic of the figures (pure).

The definitions come from data/reports/kpis.yaml: each KPI's population (kinds,
statuses, the time field that places a record in the period), its parameters
and its exact wording, with the articles it measures against (checked against
the texts we hold, like the deadline rules). The subscriber base for 万户投诉率
comes from data/reports/subscribers.yaml. This module takes plain values —
counts, durations, dates — and returns numbers; it imports no database, no
framework and no clock.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

UNITS: dict[str, dict[str, str]] = {
    "rate": {"name": "比率", "en": "rate", "symbol": "%"},
    "hours": {"name": "小时", "en": "hours", "symbol": "h"},
    "per_10k": {"name": "件/万户", "en": "per 10,000 subscribers", "symbol": "‱"},
}
TIME_FIELDS = ("received_at", "closed_at", "due_at")
DIGITS = {"rate": 6, "hours": 2, "per_10k": 4}

# The KPIs the service knows how to count, with the parameters each needs.
COMPUTED: dict[str, tuple[str, ...]] = {
    "ack_24h_rate": ("within_hours",),
    "reply_on_time_rate": (),
    "handling_hours_avg": (),
    "handling_hours_p90": ("percentile",),
    "first_contact_resolution_rate": ("events",),
    "repeat_rate": ("lookback_days",),
    "escalation_rate": ("appeal_kinds", "channel_levels"),
    "satisfaction_rate": ("done", "satisfied"),
    "complaints_per_10k": ("per",),
}

MAX_PERIOD_DAYS = 366
WEEKLY_AFTER_DAYS = 62

ArticleLookup = Callable[[str, str], str | None]


class DefinitionError(ValueError):
    """kpis.yaml or subscribers.yaml is wrong; kesu refuses to use it."""


class PeriodError(ValueError):
    """A reporting period that cannot be computed: a stable code and a Chinese detail."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


# ---- definitions ------------------------------------------------------------


@dataclass(frozen=True)
class Citation:
    regulation: str
    article: str
    paragraph: str | None = None
    item: str | None = None
    file: str | None = None
    quote: str | None = None

    @property
    def citation(self) -> str:
        return f"《{self.regulation}》{self.article}{self.paragraph or ''}{self.item or ''}"

    def as_json(self) -> dict[str, Any]:
        return {
            "regulation": self.regulation,
            "article": self.article,
            "citation": self.citation,
            "quote": self.quote,
        }


@dataclass(frozen=True)
class Source:
    policy: bool
    text: str
    basis: tuple[Citation, ...] = ()

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


def _citation(raw: Mapping[str, Any], where: str, lookup: ArticleLookup) -> Citation:
    for key in ("regulation", "article", "file", "quote"):
        if not raw.get(key):
            raise DefinitionError(f"{where}: a cited article needs {key}")
    text = lookup(raw["file"], raw["article"])
    if text is None:
        raise DefinitionError(f"{where}: {raw['article']} is not held in {raw['file']}")
    if raw["quote"] not in text:
        raise DefinitionError(f"{where}: the quote is not in {raw['file']} {raw['article']}")
    return Citation(
        regulation=raw["regulation"],
        article=raw["article"],
        paragraph=raw.get("paragraph"),
        item=raw.get("item"),
        file=raw["file"],
        quote=raw["quote"],
    )


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


def _params(kid: str, raw: Any, vocabulary: Mapping[str, Iterable[str]]) -> dict[str, Any]:
    raw = dict(raw or {})
    missing = set(COMPUTED[kid]) - set(raw)
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
    if kid == "handling_hours_p90" and not 0 < out["percentile"] <= 100:
        raise DefinitionError(f"{kid}: percentile must be in (0, 100]")
    if kid == "satisfaction_rate" and not out["satisfied"] <= out["done"]:
        raise DefinitionError(f"{kid}: satisfied results must be among the done ones")
    return out


def parse_definitions(
    data: Mapping[str, Any], lookup: ArticleLookup, vocabulary: Mapping[str, Iterable[str]]
) -> dict[str, Kpi]:
    """The KPIs of kpis.yaml, validated: codes known, citations held and quoted, params there."""
    out: dict[str, Kpi] = {}
    for raw in data.get("kpis") or ():
        kid = raw.get("id")
        if kid not in COMPUTED:
            raise DefinitionError(f"unknown KPI id {kid!r}: the service computes {list(COMPUTED)}")
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
            params=_params(kid, raw.get("params"), vocabulary),
        )
    missing = set(COMPUTED) - set(out)
    if missing:
        raise DefinitionError(f"KPIs without a definition: {sorted(missing)}")
    return out


# ---- arithmetic -------------------------------------------------------------


def ratio(numerator: float, denominator: float, digits: int = DIGITS["rate"]) -> float | None:
    """numerator / denominator rounded; None when the denominator is 0."""
    if not denominator:
        return None
    return round(numerator / denominator, digits)


def mean(values: Sequence[float], digits: int = DIGITS["hours"]) -> float | None:
    if not values:
        return None
    return round(math.fsum(values) / len(values), digits)


def percentile(values: Sequence[float], p: float, digits: int = DIGITS["hours"]) -> float | None:
    """The p-th percentile by the nearest-rank method: the ⌈p/100 × n⌉-th smallest value."""
    if not values:
        return None
    if not 0 < p <= 100:
        raise ValueError("p must be in (0, 100]")
    ordered = sorted(values)
    # p/100*n computed in integers where possible, so 90% of 10 is exactly rank 9.
    rank = max(1, math.ceil(round(p * len(ordered) / 100, 9)))
    return round(ordered[rank - 1], digits)


def per_10k(count: int, base: float | None, per: int = 10000) -> float | None:
    if not base:
        return None
    return round(count / base * per, DIGITS["per_10k"])


# ---- periods ----------------------------------------------------------------


def check_period(start: date, end: date, max_days: int = MAX_PERIOD_DAYS) -> None:
    if start > end:
        raise PeriodError(
            "invalid_period",
            f"起始日期（{start.isoformat()}）不能晚于结束日期（{end.isoformat()}）。",
        )
    days = (end - start).days + 1
    if days > max_days:
        raise PeriodError(
            "period_too_long", f"统计期间最长 {max_days} 天，当前为 {days} 天，请缩短期间。"
        )


def period_days(start: date, end: date) -> int:
    return (end - start).days + 1


def previous_period(start: date, end: date) -> tuple[date, date]:
    """The period of equal length that ends the day before `start`."""
    n = period_days(start, end)
    return start - timedelta(days=n), start - timedelta(days=1)


def dates(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range(period_days(start, end))]


@dataclass(frozen=True)
class Bucket:
    start: date
    end: date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


def trend_unit(start: date, end: date, weekly_after: int = WEEKLY_AFTER_DAYS) -> str:
    return "week" if period_days(start, end) > weekly_after else "day"


def buckets(start: date, end: date, weekly_after: int = WEEKLY_AFTER_DAYS) -> list[Bucket]:
    """One bucket per day; per week (Monday–Sunday, clipped to the period) for long periods."""
    if trend_unit(start, end, weekly_after) == "day":
        return [Bucket(d, d) for d in dates(start, end)]
    out = []
    first = start
    while first <= end:
        last = min(end, first + timedelta(days=6 - first.weekday()))
        out.append(Bucket(first, last))
        first = last + timedelta(days=1)
    return out


# Rest days that can follow the last day of a period and push its end (Spring Festival,
# National Day: up to 8 days off in a row, plus the weekend around them).
HOLIDAY_SLACK_DAYS = 10


def max_span_days(spans: Iterable[tuple[str, int]]) -> int:
    """A bound on the days from a deadline's start to its due time, for (unit, length) rules.

    Hours run from the start; calendar days end at 24:00 of the last day, moved past rest
    days; working days are at most 7/5 as many calendar days, plus the holidays between.
    """
    out = 1
    for unit, length in spans:
        if unit == "hours":
            days = math.ceil(length / 24) + 1
        elif unit == "calendar_days":
            days = length + 1 + HOLIDAY_SLACK_DAYS
        else:
            days = math.ceil(length * 7 / 5) + 2 + HOLIDAY_SLACK_DAYS
        out = max(out, days)
    return out


def month_days(start: date, end: date) -> dict[str, int]:
    """How many days of the period fall in each month ("YYYY-MM" → days)."""
    out: dict[str, int] = {}
    first = start
    while first <= end:
        following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        last = min(end, following - timedelta(days=1))
        out[f"{first.year:04d}-{first.month:02d}"] = (last - first).days + 1
        first = following
    return out


def bucket_index(start: date, end: date, weekly_after: int = WEEKLY_AFTER_DAYS) -> dict[date, int]:
    """Each day of the period → the index of its bucket."""
    out = {}
    for i, b in enumerate(buckets(start, end, weekly_after)):
        for d in dates(b.start, b.end):
            out[d] = i
    return out


def rate_trend(
    kpi: Kpi, per_day: Mapping[date, tuple[float, float]], bs: Sequence[Bucket]
) -> list[dict[str, Any]]:
    """A rate KPI per bucket from its per-day (numerator, denominator)."""
    out = []
    for b in bs:
        num = den = 0.0
        for d in dates(b.start, b.end):
            n, m = per_day.get(d, (0, 0))
            num += n
            den += m
        out.append(
            {
                "date": b.start.isoformat(),
                "to": b.end.isoformat(),
                "value": kpi.value(num, den),
                "numerator": _number(num),
                "denominator": _number(den),
            }
        )
    return out


def _number(x: float) -> float | int:
    return int(x) if float(x).is_integer() else round(x, 4)


# ---- subscriber base ----------------------------------------------------------


@dataclass(frozen=True)
class Base:
    default: int | None = None
    months: Mapping[str, int] = field(default_factory=dict)

    def average(self, start: date, end: date) -> tuple[float | None, list[str]]:
        """The day-weighted average over the period, and the months that had no figure."""
        total = 0.0
        days = 0
        missing = []
        for month, n in month_days(start, end).items():
            figure = self.months.get(month, self.default)
            if figure is None:
                missing.append(month)
                continue
            total += figure * n
            days += n
        return (total / days if days else None), missing


@dataclass(frozen=True)
class Region:
    base: Base | None
    cities: Mapping[str, Base] = field(default_factory=dict)


@dataclass(frozen=True)
class Subscribers:
    provinces: Mapping[str, Region]
    unit: str = "户"
    source: str | None = None

    def average(
        self, province: str | None, city: str | None, start: date, end: date
    ) -> tuple[float | None, list[str]]:
        region = self.provinces.get(province or "")
        if region is None:
            return None, []
        base = region.base if city is None else region.cities.get(city)
        if base is None:
            return None, []
        return base.average(start, end)


def _figure(value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise DefinitionError(f"{where}: a subscriber count is a positive whole number")
    return value


def _base(
    raw: Any, where: str, fields: frozenset[str] = frozenset({"subscribers", "months"})
) -> Base:
    if not isinstance(raw, Mapping):
        raise DefinitionError(f"{where}: expected subscribers and/or months")
    unknown = set(raw) - fields
    if unknown:
        raise DefinitionError(f"{where}: unknown fields {sorted(unknown)}")
    months: dict[str, int] = {}
    for key, value in (raw.get("months") or {}).items():
        month = str(key)
        parts = month.split("-")
        if (
            len(parts) != 2
            or not all(p.isdigit() for p in parts)
            or len(parts[0]) != 4
            or not 1 <= int(parts[1]) <= 12
        ):
            raise DefinitionError(f"{where}: month {key!r} is not YYYY-MM")
        months[f"{int(parts[0]):04d}-{int(parts[1]):02d}"] = _figure(value, f"{where} {month}")
    default = raw.get("subscribers")
    if default is not None:
        default = _figure(default, where)
    if default is None and not months:
        raise DefinitionError(f"{where}: give subscribers, months, or both")
    return Base(default=default, months=months)


_PROVINCE_FIELDS = frozenset({"subscribers", "months", "cities"})


def parse_subscribers(
    data: Mapping[str, Any], normalize: Callable[[str], str | None] = lambda s: s
) -> Subscribers:
    """The subscriber file: provinces (normalised to their full names) and their cities."""
    if not isinstance(data, Mapping) or not isinstance(data.get("provinces"), Mapping):
        raise DefinitionError("subscribers: a `provinces` mapping is needed")
    provinces: dict[str, Region] = {}
    for name, raw in data["provinces"].items():
        full = normalize(str(name))
        if full is None:
            raise DefinitionError(f"subscribers: unknown province {name!r}")
        if full in provinces:
            raise DefinitionError(f"subscribers: {full} is listed twice")
        if raw is not None and not isinstance(raw, Mapping):
            raise DefinitionError(f"subscribers {full}: expected subscribers, months, cities")
        cities = {
            str(city): _base(c, f"subscribers {full} {city}")
            for city, c in ((raw or {}).get("cities") or {}).items()
        }
        raw = raw or {}
        own = "subscribers" in raw or "months" in raw
        if not own and not cities:
            raise DefinitionError(f"subscribers {full}: give subscribers, months or cities")
        base = _base(raw, f"subscribers {full}", _PROVINCE_FIELDS) if own else None
        provinces[full] = Region(base=base, cities=cities)
    return Subscribers(
        provinces=provinces, unit=str(data.get("unit") or "户"), source=data.get("source")
    )
