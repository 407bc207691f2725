"""The appeal centre's list pages: the officer's queue (/appeals: to decide, to answer, open,
all), the registration of an appeal received by letter or phone (/appeals/new) and the
centre supervisor's dashboard (/appeals/dashboard). The appeal itself is appeal_page.py.
Everything goes through kesu.appeals (permissions, masking, audit)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import ValidationError

from kesu.accounts.roles import require
from kesu.appeals import board, lifecycle, operators, service
from kesu.appeals.schemas import CHANNELS, AppealIn
from kesu.clock import to_beijing
from kesu.problems import Problem
from kesu.web.pages import Page, PageRoute, form_errors, redirect, render, staff

router = APIRouter(route_class=PageRoute, include_in_schema=False)

QUEUES = ("accept", "reply", "open", "all")
STAFF_CHANNELS = ("letter", "phone", "web")


def late(summary: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A list row with which of its two limits has passed unmet (shown red)."""
    status = summary["status"]
    waiting_decision = status in lifecycle.DECIDED
    # Only `agreed` among the open statuses has answered the appellant already.
    waiting_reply = status in lifecycle.OPEN and status != "agreed"

    def past(value: str | None) -> bool:
        return bool(value) and datetime.fromisoformat(str(value)) < now

    return {
        **summary,
        "accept_late": waiting_decision and past(summary["accept_due_at"]),
        "reply_late": waiting_reply and past(summary["reply_due_at"]),
    }


@router.get("/appeals")
async def queue(pg: Page = Depends(staff)) -> Response:
    q = pg.request.query_params
    tab = q.get("queue") if q.get("queue") in QUEUES else "accept"
    status = q.get("status") or None
    if status is not None and status not in lifecycle.STATUSES:
        status = None
    operator = (q.get("operator") or "")[:40] or None

    def load() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        found = service.listing(pg.rt, pg.p, tab, status, operator, 200)
        return found, operators.listing(pg.rt, pg.p)

    found, ops = await run_in_threadpool(load)
    now = pg.rt.clock()
    keep = {k: v for k, v in (("status", status), ("operator", operator)) if v}
    return render(
        pg,
        "appeals/queue.html",
        items=[late(a, now) for a in found["items"]],
        total=found["total"],
        tab=tab,
        tabs=QUEUES,
        status_filter=status,
        operator=operator,
        operators=ops,
        statuses=lifecycle.STATUSES,
        tab_links={k: "/appeals?" + urlencode({"queue": k, **keep}) for k in QUEUES},
    )


# ---- registration by staff --------------------------------------------------------------

TEXT_FIELDS = (
    "name", "phone", "address", "postcode", "operator", "operator_name", "request", "reasons",
    "facts", "dispute", "category", "occurred_at", "complained_at", "operator_answered_at",
    "appeal_date", "received_at", "channel", "external_ref",
)  # fmt: skip


def _body(values: dict[str, str]) -> dict[str, Any]:
    get = lambda k: values.get(k, "").strip() or None  # noqa: E731
    appellant = {k: get(k) for k in ("name", "phone", "address", "postcode")}
    body: dict[str, Any] = {
        "appellant": {k: v for k, v in appellant.items() if v is not None},
        "channel": get("channel") or "letter",
        "dispute": get("dispute") or "other",
    }
    for key in TEXT_FIELDS[4:]:
        if key in ("dispute", "channel") or get(key) is None:
            continue
        value = get(key)
        if key == "received_at":  # a datetime-local field: Beijing time
            value = f"{value}:00+08:00" if len(str(value)) == 16 else value
        body[key] = value
    return body


def _labelled(pg: Page, errors: list[dict[str, str]]) -> list[dict[str, str]]:
    out = []
    for e in errors:
        field = e.get("field", "")
        key = "appeal.field." + field.split(".")[-1]
        label = pg.t(key)
        detail = e["detail"]
        if field and label != key:
            detail = detail.replace(f"“{field}”", f"“{label}”")
        out.append({**e, "detail": detail, "name": field.split(".")[-1]})
    return out


async def _new_page(
    pg: Page, values: dict[str, str], errors: list[dict[str, str]] | None = None, status=200
) -> Response:
    ops = await run_in_threadpool(operators.listing, pg.rt, pg.p)
    errors = _labelled(pg, errors or [])
    return render(
        pg,
        "appeals/new.html",
        status=status,
        v=values,
        errors=errors,
        bad={e["name"] for e in errors},
        operators=ops,
        channels={k: CHANNELS[k] for k in STAFF_CHANNELS},
    )


def _may_register(pg: Page) -> None:
    require(pg.p, "appeal.register")


@router.get("/appeals/new")
async def new_form(pg: Page = Depends(staff)) -> Response:
    _may_register(pg)
    today = to_beijing(pg.rt.clock()).date().isoformat()
    return await _new_page(pg, {"channel": "letter", "dispute": "other", "appeal_date": today})


@router.post("/appeals/new")
async def new_submit(pg: Page = Depends(staff)) -> Response:
    _may_register(pg)
    form = await pg.form()
    values = {k: str(form.get(k) or "") for k in TEXT_FIELDS}
    if values["channel"] not in STAFF_CHANNELS:
        values["channel"] = "letter"
    try:
        body = AppealIn.model_validate(_body(values))
    except ValidationError as err:
        return await _new_page(pg, values, form_errors(err), 422)
    try:
        view, _ = await run_in_threadpool(service.receive, pg.rt, body, pg.p)
    except Problem as problem:
        if problem.status == 403:
            raise
        errors = [{"field": "", "code": problem.code, "detail": problem.detail}]
        return await _new_page(pg, values, errors, problem.status)
    return redirect(f"/appeals/{view['number']}?done=received", pg.request)


# ---- the supervisor's dashboard ---------------------------------------------------------


@router.get("/appeals/dashboard")
async def dashboard(pg: Page = Depends(staff)) -> Response:
    data = await run_in_threadpool(board.dashboard, pg.rt, pg.p)
    now = pg.rt.clock()
    for key in ("accept_overdue", "accept_soon", "reply_overdue", "reply_soon"):
        data[key]["items"] = [late(a, now) for a in data[key]["items"]]
    return render(pg, "appeals/dashboard.html", d=data, statuses=lifecycle.STATUSES)
