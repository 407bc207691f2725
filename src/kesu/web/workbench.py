"""The agent's and handler's workbench: the queue (the hotline form is in intake_form.py,
the complaint page in complaint_page.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from kesu.complaints import lifecycle, queries
from kesu.complaints import vocabulary as vocab
from kesu.complaints.routes import _csv, _normal_phone
from kesu.web.pages import Page, PageRoute, render, staff
from kesu.web.queue_bar import context as bar_context

router = APIRouter(route_class=PageRoute, include_in_schema=False)

QUEUE_FILTERS = ("status", "kind", "category", "channel", "priority", "flag", "team")
VIEWS = ("mine", "team", "open", "all")
PAGE_SIZE = 50


def _queue_filters(pg: Page, q: dict[str, str]) -> tuple[dict[str, Any], str]:
    view = q.get("view") if q.get("view") in VIEWS else "open"
    p = pg.p
    f: dict[str, Any] = {
        "status": _csv(q.get("status"), lifecycle.STATUSES, "unknown_status", "状态"),
        "kind": _csv(q.get("kind"), vocab.KINDS, "unknown_kind", "类型"),
        "category": _csv(q.get("category"), vocab.CATEGORIES, "unknown_category", "分类"),
        "channel": _csv(q.get("channel"), vocab.CHANNELS, "unknown_channel", "渠道"),
        "priority": _csv(q.get("priority"), vocab.PRIORITIES, "unknown_priority", "优先级"),
        "flag": _csv(q.get("flag"), vocab.RISK_FLAGS, "unknown_risk_flag", "风险标记"),
        "team": _csv(q.get("team"), pg.rt.teams(), "unknown_team", "班组"),
        "sort": "received" if q.get("sort") == "received" else "due",
        "limit": PAGE_SIZE,
        "cursor": q.get("cursor") or None,
    }
    text = (q.get("q") or "").strip()[:100]
    if text:
        digits = _normal_phone(text) or ""
        if digits.isdigit() and 7 <= len(digits) <= 13:
            f["customer_phone"] = digits  # a phone number: found by its keyed hash
        else:
            f["q"] = text
    if q.get("approval") == "waiting":
        f["awaiting_approval"] = True  # proposed, waiting for a supervisor's approval
    due = q.get("due")
    if due == "overdue":
        f["overdue"] = True
    elif due == "24h":
        f["due_within"] = timedelta(hours=24)
    if view == "mine":
        f["assignee"] = [p.name]
        f["open"] = True
    elif view == "team":
        team = p.extra.get("team")
        if team:
            f["team"] = [team]
        f["open"] = True
    elif view == "open":
        f["open"] = True
    return f, view


@router.get("/workbench")
async def queue(pg: Page = Depends(staff)) -> Response:
    q = dict(pg.request.query_params)
    f, view = _queue_filters(pg, q)
    result = await run_in_threadpool(queries.list_complaints, pg.rt, f, pg.p)
    keep = {k: v for k, v in q.items() if k != "cursor" and v}
    next_url = None
    if result["next_cursor"]:
        next_url = "/workbench?" + urlencode({**keep, "cursor": result["next_cursor"]})
    sort_links = {
        key: "/workbench?"
        + urlencode({**{k: v for k, v in keep.items() if k != "sort"}, "sort": key})
        for key in ("due", "received")
    }
    return render(
        pg,
        "workbench/queue.html",
        items=result["items"],
        q=q,
        view=view,
        views=VIEWS,
        sort=f["sort"],
        sort_links=sort_links,
        next_url=next_url,
        self_url=str(pg.request.url.path)
        + ("?" + pg.request.url.query if pg.request.url.query else ""),
        has_team=bool(pg.p.extra.get("team")),
        **bar_context(pg),
    )
