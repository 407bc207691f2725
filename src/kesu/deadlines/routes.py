"""HTTP routes of the deadlines slice: the working-day calendar and the rules."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from kesu.accounts.roles import Principal, require
from kesu.accounts.web import principal
from kesu.clock import supported_date
from kesu.complaints import vocabulary as vocab
from kesu.data_files import load_yaml
from kesu.deadlines import calendar_store, calendar_years, sla_policies
from kesu.deadlines.rules import UNITS
from kesu.problems import Problem
from kesu.runtime import Runtime
from kesu.web.http import runtime

# Every route here needs a signed-in user or a token.
router = APIRouter(prefix="/api/v1", tags=["deadlines"], dependencies=[Depends(principal)])


_DAYS = {
    "type": "object",
    "propertyNames": {"format": "date", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
    "additionalProperties": {"type": "string", "maxLength": 100},
}
# The range is checked in the routes (code year_out_of_range) and stated here.
YearPath = Annotated[int, Path(json_schema_extra={"minimum": 2000, "maximum": 2100})]


class CalendarYearIn(BaseModel):
    """A year's working-day calendar: holidays and make-up working days."""

    model_config = ConfigDict(extra="forbid")

    official: bool = True
    source: Annotated[str, Field(max_length=500)] | None = None
    # Date → name; the list form of a calendar file is accepted too (calendar_store).
    holidays: Annotated[dict[str, str] | list[Any], WithJsonSchema(_DAYS)] = {}
    workdays: Annotated[dict[str, str] | list[Any], WithJsonSchema(_DAYS)] = {}


@router.get("/calendar/workdays", summary="工作日推算 N working days after a date")
async def workdays(
    start: date,
    add: Annotated[int, Query(ge=0, le=3650)],
    rt: Runtime = Depends(runtime),
) -> dict[str, Any]:
    supported_date(start, "start")
    cal = await run_in_threadpool(rt.calendar)
    result = cal.add_working_days(start, add)
    return {
        "start": start.isoformat(),
        "add": add,
        "date": result.isoformat(),
        "estimated": cal.estimated_between(start, result),
        "calendar_version": cal.version,
    }


@router.get("/calendar/years/{year}", summary="某年日历 A year's calendar")
async def calendar_year(year: YearPath, rt: Runtime = Depends(runtime)) -> dict[str, Any]:
    if not 2000 <= year <= 2100:
        raise Problem(422, "year_out_of_range", "Year out of range", "年份须在2000至2100之间。")
    cal = await run_in_threadpool(rt.calendar)
    days = cal.year_days(year)
    return {
        "year": year,
        "estimated": cal.is_estimated(year),
        "calendar_version": cal.version,
        "rest_days": [
            {"date": d.day.isoformat(), "name": d.name}
            for d in days
            if not d.working and (d.name or d.day.weekday() < 5)
        ],
        "make_up_workdays": [
            {"date": d.day.isoformat(), "name": d.name}
            for d in days
            if d.working and d.day.weekday() >= 5
        ],
        "working_days": sum(1 for d in days if d.working),
    }


@router.put("/calendar/years/{year}", summary="载入某年日历 Load a year's calendar")
async def load_year(
    year: YearPath,
    body: CalendarYearIn,
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
) -> dict[str, Any]:
    require(p, "calendar.manage")
    try:
        override = calendar_store.parse_year_file({"year": year, **body.model_dump()})
    except ValueError as err:
        raise Problem(422, "invalid_calendar", "Invalid calendar", str(err)) from None
    return await run_in_threadpool(calendar_years.load_year, rt, override, p)


@router.get("/deadline-rules", summary="时限规则 Deadline rules")
async def deadline_rules(rt: Runtime = Depends(runtime)) -> dict[str, Any]:
    return {
        "items": [
            {
                "id": r.id,
                "name": r.name,
                "name_en": r.name_en,
                "statutory": r.statutory,
                "kinds": sorted(r.kinds),
                "when": {k: sorted(v) for k, v in r.when.items()},
                "trigger": r.trigger,
                "length": r.length,
                "unit": r.unit,
                "met_by": sorted(r.met_by),
                "on_breach": r.on_breach,
                "basis": [b.as_json() for b in r.basis],
                "remedy": r.remedy,
            }
            for r in rt.rules.values()
        ]
    }


# -- internal SLA policies ------------------------------------------------------------


def _enum(values) -> dict[str, Any]:
    # Stated in the document; checked by deadlines.sla (each with its own code and words).
    return {"enum": list(values)}


_RULE_IDS = [r["id"] for r in (load_yaml("deadline_rules.yaml") or {}).get("rules", [])]
_Rule = Annotated[str, Field(max_length=40, json_schema_extra=_enum(_RULE_IDS))]
_Kind = Annotated[str, Field(max_length=40, json_schema_extra=_enum(vocab.KINDS))]
_Category = Annotated[str, Field(max_length=40, json_schema_extra=_enum(vocab.CATEGORIES))]
_Priority = Annotated[str, Field(max_length=40, json_schema_extra=_enum(vocab.PRIORITIES))]
_Unit = Annotated[str, Field(max_length=40, json_schema_extra=_enum(UNITS))]
# The longest is 720 hours; calendar_days up to 90, working_days up to 60 (invalid_length).
_Length = Annotated[int, Field(json_schema_extra={"minimum": 1, "maximum": 720})]
# Under the period itself (invalid_warning).
_Warn = Annotated[float, Field(json_schema_extra={"minimum": 0, "maximum": 720})]


class SlaPolicyIn(BaseModel):
    """A policy of an internal SLA rule for a kind, category and priority (null: any).

    A statutory rule answers 409 statutory_rule. Length per unit: hours 1–720,
    calendar_days 1–90, working_days 1–60; the warning lead is under the period."""

    model_config = ConfigDict(extra="forbid")

    rule: _Rule
    kind: _Kind | None = None
    category: _Category | None = None
    priority: _Priority | None = None
    length: _Length
    unit: _Unit
    warn_before_hours: _Warn | None = None


class SlaPolicyChange(BaseModel):
    """A policy's new period (its kind, category and priority stay); absent: unchanged."""

    model_config = ConfigDict(extra="forbid")

    length: _Length | None = None
    unit: _Unit | None = None
    warn_before_hours: _Warn | None = None


PolicyId = Annotated[int, Path(json_schema_extra={"minimum": 1, "maximum": 2147483647})]


def _no_such(pid: int) -> Problem:
    return Problem(404, "sla_policy_not_found", "Not found", f"内部时限政策 {pid} 不存在。")


@router.get("/sla-policies", summary="内部时限政策 Internal SLA policies")
async def sla_policy_list(rt: Runtime = Depends(runtime)) -> dict[str, Any]:
    """Every internal rule's policies, the statutory rules (read-only) and the history."""
    return await run_in_threadpool(sla_policies.listing, rt)


@router.post("/sla-policies", status_code=201, summary="新增内部时限政策 Add an SLA policy")
async def sla_policy_create(
    body: SlaPolicyIn, rt: Runtime = Depends(runtime), p: Principal = Depends(principal)
) -> dict[str, Any]:
    return await run_in_threadpool(sla_policies.create, rt, p, body.model_dump())


@router.put("/sla-policies/{policy_id}", summary="修改内部时限政策 Change an SLA policy")
async def sla_policy_change(
    policy_id: PolicyId,
    body: SlaPolicyChange,
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
) -> dict[str, Any]:
    if not 1 <= policy_id <= 2147483647:  # no such row (and no overflow in SQL)
        raise _no_such(policy_id)
    return await run_in_threadpool(
        sla_policies.change, rt, p, policy_id, body.model_dump(exclude_none=True)
    )


@router.delete(
    "/sla-policies/{policy_id}", status_code=204, summary="删除内部时限政策 Remove an SLA policy"
)
async def sla_policy_remove(
    policy_id: PolicyId, rt: Runtime = Depends(runtime), p: Principal = Depends(principal)
) -> Response:
    if not 1 <= policy_id <= 2147483647:  # no such row (and no overflow in SQL)
        raise _no_such(policy_id)
    await run_in_threadpool(sla_policies.remove, rt, p, policy_id)
    return Response(status_code=204)
