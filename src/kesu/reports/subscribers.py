"""The subscriber base and 万户投诉率 (pure): data/reports/subscribers.yaml, parsed.

Subscriber counts per province and city, by month with a default; the day-weighted
average over a period; complaints per 10,000 subscribers overall and by region.
Imports no database, no framework and no clock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from kesu.reports.arithmetic import per_10k
from kesu.reports.definitions import DefinitionError
from kesu.reports.periods import month_days


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


# ---- 万户投诉率 --------------------------------------------------------------------


def region_rows(
    subs: Subscribers,
    counts: Mapping[tuple[str | None, str | None], int],
    start: date,
    end: date,
    region: str | None,
    per: int,
) -> list[dict[str, Any]]:
    """万户投诉率 by province (or, with a region, the province and its cities)."""
    rows: list[dict[str, Any]] = []
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


def total_per_10k(
    subs: Subscribers,
    counts: Mapping[str | None, int],
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
