"""The admin pages of the working-day calendar: a year's months, where its days come from
(official, operator file, estimated), uploading an operator's year file, exporting one.
"""

from __future__ import annotations

import calendar as month_calendar
from collections.abc import Mapping
from datetime import date
from typing import Any

import yaml
from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from kesu.accounts import roles as r
from kesu.clock import BEIJING
from kesu.deadlines import calendar_store, calendar_years
from kesu.deadlines.calendar import WorkCalendar, YearOverride, package_published_years
from kesu.deadlines.calendar_store import parse_year_file
from kesu.problems import Problem
from kesu.web.pages import Page, PageRoute, render, staff

router = APIRouter(route_class=PageRoute, include_in_schema=False)

WEEKDAYS_ZH = ("一", "二", "三", "四", "五", "六", "日")
WEEKDAYS_EN = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
MONTHS_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
CALENDAR_FILE_MAX = 200_000  # bytes; a year's schedule is a few hundred


def calendar_status(rt, today: date) -> list[dict[str, Any]]:
    cal: WorkCalendar = rt.calendar()
    loads = calendar_store.loads(rt.engine)
    return [year_source(cal, loads, year) for year in (today.year, today.year + 1)]


def year_source(cal: WorkCalendar, loads: Mapping[int, dict], year: int) -> dict[str, Any]:
    """Where a year's working days come from: official / operator file / estimated."""
    load = loads.get(year)
    if load is not None and load["official"]:
        source = "file_official"
    elif year in package_published_years():
        source = "package_adjusted" if load is not None else "package"
    else:
        source = "estimated_adjusted" if load is not None else "estimated"
    return {"year": year, "source": source, "estimated": cal.is_estimated(year), "load": load}


def _year(pg: Page, raw: str | None) -> int:
    if not raw:
        return pg.rt.clock().astimezone(BEIJING).year
    try:
        year = int(raw)
    except ValueError:
        year = 0
    if not 2000 <= year <= 2100:
        raise Problem(422, "year_out_of_range", "Year out of range", "年份须在2000至2100之间。")
    return year


def _day_kind(day: date, working: bool) -> str:
    weekend = day.weekday() >= 5
    if working:
        return "makeup" if weekend else "work"
    return "weekend" if weekend else "holiday"


def _months(cal: WorkCalendar, year: int) -> list[dict[str, Any]]:
    """Twelve month grids, weeks from Monday; each day with its kind and name."""
    info = {d.day: d for d in cal.year_days(year)}
    months = []
    for month in range(1, 13):
        weeks = []
        for week in month_calendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
            cells: list[dict[str, Any] | None] = []
            for day in week:
                if day.month != month:
                    cells.append(None)
                    continue
                d = info[day]
                kind = _day_kind(day, d.working)
                if kind == "weekend" and d.name:
                    kind = "holiday"  # a named holiday that falls on a weekend
                cells.append({"date": day, "kind": kind, "name": d.name})
            weeks.append(cells)
        months.append({"month": month, "name_en": MONTHS_EN[month - 1], "weeks": weeks})
    return months


def _special_days(cal: WorkCalendar, year: int) -> list[dict[str, Any]]:
    """What `kesu calendar show` lists: rest days off the weekend pattern, make-up days."""
    out = []
    for d in cal.year_days(year):
        weekend = d.day.weekday() >= 5
        if (d.working and weekend) or (not d.working and (d.name or not weekend)):
            out.append({"date": d.day, "working": d.working, "name": d.name})
    return out


def _calendar_page(pg: Page, year: int, status: int = 200) -> Response:
    cal = pg.rt.calendar()
    loads = calendar_store.loads(pg.rt.engine)
    days = cal.year_days(year)
    return render(
        pg,
        "admin/calendar.html",
        status=status,
        year=year,
        months=_months(cal, year),
        special=_special_days(cal, year),
        src=year_source(cal, loads, year),
        working_days=sum(1 for d in days if d.working),
        version=cal.version,
        loaded_years=sorted(loads),
        weekdays=WEEKDAYS_ZH if pg.lang == "zh" else WEEKDAYS_EN,
    )


@router.get("/admin/calendar")
async def calendar_page(pg: Page = Depends(staff)) -> Response:
    year = _year(pg, pg.request.query_params.get("year"))
    return await run_in_threadpool(_calendar_page, pg, year)


class _AliasFound(Exception):
    pass


class _PlainLoader(yaml.SafeLoader):
    """safe_load without anchors and aliases: a year's file needs none, and nested
    aliases can make a small file expand enormously once turned into text."""

    def compose_node(self, parent, index):  # type: ignore[no-untyped-def]
        if self.check_event(yaml.AliasEvent):
            raise _AliasFound()
        return super().compose_node(parent, index)


def parse_calendar_upload(raw: bytes) -> YearOverride:
    """A year file as `kesu calendar load` reads it (YAML or JSON); ValueError in Chinese."""
    if not raw.strip():
        raise ValueError("请选择要上传的日历文件（YAML 或 JSON）。")
    if len(raw) > CALENDAR_FILE_MAX:
        raise ValueError(f"日历文件过大（最多 {CALENDAR_FILE_MAX // 1000} KB）。")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError("日历文件须为 UTF-8 编码的文本（YAML 或 JSON）。") from None
    try:
        data = yaml.load(text, Loader=_PlainLoader)  # noqa: S506 - a SafeLoader without aliases
    except _AliasFound:
        raise ValueError("日历文件不能使用 YAML 锚点与别名（& 和 *），请逐日写明。") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"（第 {mark.line + 1} 行附近）" if mark is not None else ""
        raise ValueError(f"日历文件不是有效的 YAML 或 JSON{where}。") from None
    if not isinstance(data, dict):
        raise ValueError("日历文件应为一个映射（year、holidays、workdays ...）。")
    return parse_year_file(data)


@router.post("/admin/calendar")
async def calendar_upload(pg: Page = Depends(staff)) -> Response:
    form = await pg.form()
    if not pg.can("calendar.manage"):  # the service says the same; said before reading the file
        raise r.forbidden(pg.p, r.permissions()["calendar.manage"]["name"])
    shown = _year(pg, str(form.get("shown_year") or "") or None)
    upload = form.get("file")
    raw = b""
    if upload is not None and hasattr(upload, "read"):
        raw = await upload.read(CALENDAR_FILE_MAX + 1)

    def work() -> Response:
        try:
            override = parse_calendar_upload(raw)
        except ValueError as err:
            pg.flash.append(("error", pg.t("admin.cal.invalid", detail=str(err))))
            return _calendar_page(pg, shown, 422)
        result = calendar_years.load_year(pg.rt, override, pg.p)
        pg.flash.append(
            (
                "ok",
                pg.t(
                    "admin.cal.loaded",
                    year=result["year"],
                    kind=pg.t("admin.cal.official" if result["official"] else "admin.cal.partial"),
                    n=result["complaints_recomputed"],
                ),
            )
        )
        return _calendar_page(pg, override.year)

    return await run_in_threadpool(work)


@router.get("/admin/calendar/export")
async def calendar_export(pg: Page = Depends(staff)) -> Response:
    """The year as a file `kesu calendar load` and the upload accept: a sample to edit."""
    year = _year(pg, pg.request.query_params.get("year"))
    cal = await run_in_threadpool(pg.rt.calendar)
    rest, work = {}, {}
    for d in cal.year_days(year):
        weekend = d.day.weekday() >= 5
        if d.working and weekend:
            work[d.day.isoformat()] = d.name or "调休上班"
        elif not d.working and (d.name or not weekend):
            rest[d.day.isoformat()] = d.name or "休息"
    head = [
        f"# {year} 年工作日日历（kesu 导出，{pg.rt.clock().astimezone(BEIJING):%Y-%m-%d %H:%M}）",
        "# 载入：系统管理 → 工作日日历 → 上传，或 `kesu calendar load 文件名`",
        "# official: true = 该年完整的官方安排（替换内置数据）；false = 仅在内置数据上调整",
    ]
    estimated = cal.is_estimated(year)
    if estimated:  # loaded unchanged, it must not pass for the published schedule
        head.append(
            "# 注意：本年为预估（调休上班日未知）。请按国务院办公厅通知核对、补全，"
            "再把 official 改为 true 后载入。"
        )
    body = {
        "year": year,
        "official": not estimated,
        "source": "国务院办公厅关于" + str(year) + "年部分节假日安排的通知",
        "holidays": rest,
        "workdays": work,
    }
    text = "\n".join(head) + "\n" + yaml.safe_dump(body, allow_unicode=True, sort_keys=False)
    return Response(
        text,
        media_type="application/yaml; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="kesu-calendar-{year}.yaml"'},
    )
