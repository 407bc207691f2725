"""The operator's calendar years in the database (calendar_years): read them into a
WorkCalendar (with a cheap fingerprint so every process notices a change), and
validate a year's file before it is stored.

Low in the house: the runtime builds its cached calendar from here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from kesu.clock import to_beijing
from kesu.deadlines.calendar import WorkCalendar, YearOverride
from kesu.store import tables as t


def _override_from_row(row) -> YearOverride:
    data = row.data
    return YearOverride(
        year=row.year,
        official=row.official,
        holidays={date.fromisoformat(k): v for k, v in data.get("holidays", {}).items()},
        workdays={date.fromisoformat(k): v for k, v in data.get("workdays", {}).items()},
        source=row.source or "",
    )


def _rows(engine: Engine, conn: Connection | None, stmt):
    if conn is not None:
        return conn.execute(stmt).all()
    with engine.connect() as c:
        return c.execute(stmt).all()


def calendar_fingerprint(engine: Engine, conn: Connection | None = None) -> tuple:
    stmt = select(func.count(), func.max(t.calendar_years.c.loaded_at))
    return tuple(_rows(engine, conn, stmt)[0])


def build_calendar(engine: Engine, conn: Connection | None = None) -> WorkCalendar:
    rows = _rows(engine, conn, select(t.calendar_years))
    return WorkCalendar(_override_from_row(r) for r in rows)


def parse_year_file(data: Mapping[str, Any]) -> YearOverride:
    """Validate a year's calendar (from a YAML/JSON file or the API).

    {year: 2027, official: true, source: "...",
     holidays: {"2027-01-01": "元旦", ...} or [{date, name}, ...],
     workdays: {"2027-02-07": "春节调休上班", ...} or [...]}
    Raises ValueError with a Chinese message.
    """
    try:
        year = int(data["year"])
    except (KeyError, TypeError, ValueError):
        raise ValueError("日历文件须写明年份（year）。") from None
    if not 2000 <= year <= 2100:
        raise ValueError("年份须在2000至2100之间。")

    def dates(raw: Any, label: str) -> dict[date, str]:
        items: Iterable[tuple[Any, Any]]
        if raw is None:
            return {}
        if isinstance(raw, Mapping):
            items = raw.items()
        elif isinstance(raw, list):
            items = []
            for entry in raw:
                if isinstance(entry, Mapping):
                    items.append((entry.get("date"), entry.get("name", "")))
                else:
                    items.append((entry, ""))
        else:
            raise ValueError(f"{label}须为日期列表或“日期: 名称”映射。")
        out: dict[date, str] = {}
        for key, name in items:
            try:
                d = key if isinstance(key, date) else date.fromisoformat(str(key))
            except ValueError:
                raise ValueError(f"{label}中的日期“{key}”格式不对，应为 YYYY-MM-DD。") from None
            if d.year != year:
                raise ValueError(f"{label}中的日期 {d} 不属于 {year} 年。")
            out[d] = str(name or "")
        return out

    holidays = dates(data.get("holidays"), "节假日（holidays）")
    workdays = dates(data.get("workdays"), "调休上班日（workdays）")
    both = set(holidays) & set(workdays)
    if both:
        raise ValueError(f"日期 {min(both)} 不能既是节假日又是上班日。")
    return YearOverride(
        year=year,
        official=bool(data.get("official", True)),
        holidays=holidays,
        workdays=workdays,
        source=str(data.get("source") or ""),
    )


def loads(engine: Engine) -> dict[int, dict[str, Any]]:
    """Who loaded each operator calendar year, and when: {year: {official, source,
    loaded_at (Beijing), loaded_by, holidays, workdays}} (for the admin pages)."""
    Y = t.calendar_years.c
    stmt = select(Y.year, Y.official, Y.source, Y.loaded_at, Y.loaded_by, Y.data).order_by(Y.year)
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return {
        row.year: {
            "year": row.year,
            "official": bool(row.official),
            "source": row.source or "",
            "loaded_at": to_beijing(row.loaded_at),
            "loaded_by": row.loaded_by,
            "holidays": len((row.data or {}).get("holidays") or {}),
            "workdays": len((row.data or {}).get("workdays") or {}),
        }
        for row in rows
    }
