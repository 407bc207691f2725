"""HTTP routes of the complaints slice (/api/v1/complaints)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from kesu.accounts.roles import Principal
from kesu.accounts.web import principal
from kesu.channels import phones
from kesu.clock import BEIJING, supported_date
from kesu.complaints import duplicates, lifecycle, queries, reveal, split, transitions
from kesu.complaints import vocabulary as vocab
from kesu.complaints.schemas import SplitIn, TransitionIn
from kesu.problems import Problem
from kesu.runtime import Runtime
from kesu.web.http import DATETIME_SCHEMA, FastJSON, one_of_pattern, runtime

router = APIRouter(prefix="/api/v1", tags=["complaints"])


def _csv(
    value: str | None, table: dict[str, dict] | frozenset[str], code: str, label: str
) -> list[str] | None:
    if not value:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [v for v in items if v not in table]
    if unknown:
        raise Problem(
            422, code, "Invalid filter", f"未知的{label}“{unknown[0]}”，可选：{'、'.join(table)}"
        )
    return items


def _csv_of(table) -> dict[str, str]:
    # Documented, checked by _csv (which answers with the filter's own code).
    return {"pattern": one_of_pattern(table, csv=True)}


def _normal_phone(value: str | None) -> str | None:
    if not value:
        return None
    return phones.digits(value)


def _time(value: str | None, field: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise Problem(
            422,
            "invalid_datetime",
            "Invalid time",
            f"“{field}”不是合法的时间，应为 ISO 8601 格式。",
        ) from None
    return supported_date(parsed if parsed.tzinfo else parsed.replace(tzinfo=BEIJING), field)


def list_filters(
    request: Request,
    status: Annotated[
        str | None,
        Query(description="状态，可逗号分隔多个", json_schema_extra=_csv_of(lifecycle.STATUSES)),
    ] = None,
    kind: Annotated[str | None, Query(json_schema_extra=_csv_of(vocab.KINDS))] = None,
    category: Annotated[str | None, Query(json_schema_extra=_csv_of(vocab.CATEGORIES))] = None,
    channel: Annotated[str | None, Query(json_schema_extra=_csv_of(vocab.CHANNELS))] = None,
    # Documented as the file's teams; the teams admins add are accepted too.
    team: Annotated[
        str | None,
        Query(
            description="班组代码，可逗号分隔多个（管理员新增的班组也可）",
            json_schema_extra=_csv_of(vocab.TEAMS),
        ),
    ] = None,
    priority: Annotated[str | None, Query(json_schema_extra=_csv_of(vocab.PRIORITIES))] = None,
    assignee: Annotated[
        str | None, Query(max_length=64, description="处理人（用户名；me 表示当前用户）")
    ] = None,
    flag: Annotated[
        str | None,
        Query(
            description="风险标记，可逗号分隔多个（任一）",
            json_schema_extra=_csv_of(vocab.RISK_FLAGS),
        ),
    ] = None,
    open: bool | None = None,
    overdue: bool = False,
    due_before: Annotated[str | None, Query(json_schema_extra=DATETIME_SCHEMA)] = None,
    received_from: Annotated[str | None, Query(json_schema_extra=DATETIME_SCHEMA)] = None,
    received_to: Annotated[str | None, Query(json_schema_extra=DATETIME_SCHEMA)] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    customer_phone: Annotated[str | None, Query(max_length=32)] = None,
    awaiting_approval: Annotated[
        bool, Query(description="只看待审批的（已拟定方案，须主管/法务审批）")
    ] = False,
) -> dict[str, Any]:
    """The list's filters from the query (the list and the exports take the same)."""
    return {
        "status": _csv(status, lifecycle.STATUSES, "unknown_status", "状态"),
        "kind": _csv(kind, vocab.KINDS, "unknown_kind", "类型"),
        "category": _csv(category, vocab.CATEGORIES, "unknown_category", "分类"),
        "channel": _csv(channel, vocab.CHANNELS, "unknown_channel", "渠道"),
        "team": _csv(team, runtime(request).teams(), "unknown_team", "班组"),
        "priority": _csv(priority, vocab.PRIORITIES, "unknown_priority", "优先级"),
        "assignee": [assignee.strip()] if assignee and assignee.strip() else None,
        "flag": _csv(flag, vocab.RISK_FLAGS, "unknown_risk_flag", "风险标记"),
        "open": open,
        "overdue": overdue,
        "due_before": _time(due_before, "due_before"),
        "received_from": _time(received_from, "received_from"),
        "received_to": _time(received_to, "received_to"),
        "q": q.strip() if q and q.strip() else None,
        "customer_phone": _normal_phone(customer_phone),
        "awaiting_approval": awaiting_approval,
    }


@router.get("/complaints", summary="查询投诉列表 List complaints")
async def list_complaints(
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
    filters: dict[str, Any] = Depends(list_filters),
    sort: Annotated[str, Query(pattern="^(received|due)$")] = "received",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> dict[str, Any]:
    f = {**filters, "sort": sort, "limit": limit, "cursor": cursor}
    return FastJSON(await run_in_threadpool(queries.list_complaints, rt, f, p))


@router.get("/complaints/{number}", summary="投诉详情 Get a complaint")
async def get_complaint(
    number: str, rt: Runtime = Depends(runtime), p: Principal = Depends(principal)
) -> dict[str, Any]:
    return FastJSON(await run_in_threadpool(queries.get, rt, number, p))


@router.get(
    "/complaints/{number}/likely-duplicates",
    summary="跨渠道疑似重复 Likely duplicates across channels",
)
async def get_likely_duplicates(
    number: str, rt: Runtime = Depends(runtime), p: Principal = Depends(principal)
) -> dict[str, Any]:
    """The same customer's open complaints by other channels within the window, of the
    same category or alike texts; which a merge keeps and whether the caller may merge
    (`POST …/{merge}/transitions {"action": "merge", "into": keep}`). Nothing is merged
    by itself."""
    return {"items": await run_in_threadpool(duplicates.of, rt, number, p)}


class ShowIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: Annotated[
        str,
        Field(
            min_length=1,
            max_length=40,
            description="查看理由代码（reveal_reasons，见 /api/v1/reference），记入审计日志："
            + "、".join(f"{k} {v['name']}" for k, v in vocab.REVEAL_REASONS.items()),
            json_schema_extra={"pattern": one_of_pattern(vocab.REVEAL_REASONS)},
        ),
    ]
    scope: Literal["phone", "full"] = Field(
        "phone", description="phone：只看电话（回访）；full：全部个人信息（需 pii.show）"
    )
    note: Annotated[str | None, Field(max_length=200, description="补充说明（记入审计日志）")] = (
        None
    )


@router.post(
    "/complaints/{number}/personal-data",
    summary="查看客户号码或完整个人信息（留痕） Reveal personal data (audited)",
)
async def show_personal_data(
    number: str, body: ShowIn, rt: Runtime = Depends(runtime), p: Principal = Depends(principal)
) -> dict[str, Any]:
    return await run_in_threadpool(
        reveal.reveal, rt, number, p, body.reason, body.scope, body.note or None
    )


@router.get("/complaints/{number}/events", summary="处理记录 Events of a complaint")
async def get_events(
    number: str, rt: Runtime = Depends(runtime), p: Principal = Depends(principal)
) -> dict[str, Any]:
    return {"items": await run_in_threadpool(queries.events, rt, number, p)}


@router.post("/complaints/{number}/transitions", summary="执行操作 Act on a complaint")
async def post_transition(
    number: str,
    body: TransitionIn,
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
) -> dict[str, Any]:
    params = body.model_dump(exclude={"action", "expected_version"}, exclude_none=True)
    return await run_in_threadpool(
        transitions.transition,
        rt,
        number,
        body.action,
        params,
        p,
        body.expected_version,
    )


@router.post(
    "/complaints/{number}/split",
    status_code=201,
    summary="拆分投诉 Split off a second problem as a complaint of its own",
)
async def post_split(
    number: str,
    body: SplitIn,
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
) -> dict[str, Any]:
    return await run_in_threadpool(split.split, rt, number, body.model_dump(), p)


@router.get("/reference", summary="代码表 Vocabulary")
async def reference(
    p: Principal = Depends(principal), rt: Runtime = Depends(runtime)
) -> dict[str, Any]:
    return {
        "channels": vocab.CHANNELS,
        "kinds": vocab.KINDS,
        "categories": vocab.CATEGORIES,
        "statuses": vocab.STATUSES,
        "priorities": vocab.PRIORITIES,
        "risk_flags": vocab.RISK_FLAGS,
        "validity_reasons": vocab.VALIDITY_REASONS,
        "callback_results": vocab.CALLBACK_RESULTS,
        "reveal_reasons": vocab.REVEAL_REASONS,
        "root_causes": vocab.ROOT_CAUSES,
        "teams": await run_in_threadpool(rt.team_names),
        "remedy_kinds": vocab.REMEDY_KINDS,
        "actions": lifecycle.ACTIONS,
    }
