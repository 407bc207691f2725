"""The agent's and handler's workbench: the queue, the hotline form, the complaint page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import ValidationError

from kesu.channels import intake
from kesu.complaints import lifecycle, queries, transitions
from kesu.complaints import vocabulary as vocab
from kesu.complaints.routes import _csv, _normal_phone
from kesu.complaints.schemas import ComplaintIn
from kesu.law import advice, articles, library
from kesu.problems import Problem
from kesu.triage import service as triage
from kesu.web.pages import Page, PageRoute, form_errors, is_htmx, redirect, render, staff

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
        "team": _csv(q.get("team"), vocab.TEAMS, "unknown_team", "班组"),
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
    )


# -- the hotline form ----------------------------------------------------------------

FORM_FIELDS = (
    "phone", "name", "province", "city", "account", "channel", "kind", "category",
    "title", "description", "demands", "priority", "team", "reseller",
)  # fmt: skip


def _complaint_body(form) -> dict[str, Any]:
    get = lambda k: str(form.get(k) or "").strip() or None  # noqa: E731
    customer = {
        "phone": get("phone") or "",
        "name": get("name"),
        "province": get("province"),
        "city": get("city"),
        "account": get("account"),
    }
    body: dict[str, Any] = {
        "channel": get("channel") or "hotline",
        "customer": {k: v for k, v in customer.items() if v is not None or k == "phone"},
        "description": get("description") or "",
        "risk_flags": [str(v) for v in form.getlist("risk_flags") if v],
    }
    for key in ("kind", "category", "title", "demands", "priority", "team", "reseller"):
        if get(key):
            body[key] = get(key)
    return body


def _labelled(pg: Page, errors: list[dict[str, str]]) -> list[dict[str, str]]:
    """Errors name the field as the form labels it (“投诉内容”), not by its API name."""
    out = []
    for e in errors:
        field = e.get("field", "")
        key = "field." + field.split(".")[-1]
        label = pg.t(key)
        detail = e["detail"]
        if field and label != key:
            detail = detail.replace(f"“{field}”", f"“{label}”")
        out.append({**e, "detail": detail})
    return out


def _form_page(pg: Page, values: dict[str, Any], errors=None, status: int = 200) -> Response:
    errors = _labelled(pg, errors or [])
    return render(
        pg,
        "workbench/new.html",
        status=status,
        v=values,
        errors=errors or [],
        error_fields={e["field"] for e in (errors or [])},
        provinces=_provinces(),
    )


def _provinces() -> list[str]:
    from kesu.data_files import load_yaml

    return [p["name"] for p in load_yaml("provinces.yaml")]


@router.get("/complaints/new")
async def new_form(pg: Page = Depends(staff)) -> Response:
    if not pg.can("complaint.register"):
        raise Problem(403, "forbidden", "Forbidden", "您的角色不能登记投诉。")
    return _form_page(pg, {"channel": "hotline", "risk_flags": []})


@router.post("/complaints/new")
async def new_submit(pg: Page = Depends(staff)) -> Response:
    form = await pg.form()
    values = {k: str(form.get(k) or "") for k in FORM_FIELDS}
    values["risk_flags"] = list(form.getlist("risk_flags"))
    try:
        body = ComplaintIn.model_validate(_complaint_body(form))
    except ValidationError as err:
        return _form_page(pg, values, form_errors(err), status=422)
    try:
        view, _created = await run_in_threadpool(
            intake.receive,
            pg.rt,
            body,
            pg.p,
            str(form.get("idempotency_key") or "") or None,
            None,
        )
    except Problem as problem:
        errors = [{"field": "", "code": problem.code, "detail": problem.detail}]
        return _form_page(pg, values, errors, status=problem.status)
    return redirect(f"/complaints/{view['number']}?done=registered", pg.request)


@router.post("/complaints/new/suggest")
async def suggest(pg: Page = Depends(staff)) -> Response:
    """What triage makes of the text being typed, and the caller's recent complaints."""
    form = await pg.form()
    text = "\n".join(
        x for x in (str(form.get("title") or ""), str(form.get("description") or "")) if x.strip()
    )
    phone = str(form.get("phone") or "").strip() or None
    answer = None
    if len(text.strip()) >= 6 and pg.can("triage.use"):
        answer = await run_in_threadpool(
            triage.triage,
            pg.rt,
            text[:5000],
            phone,
            str(form.get("city") or "") or None,
            str(form.get("province") or "") or None,
            3,
            pg.p,
        )
    recent: list[dict[str, Any]] = []
    digits = _normal_phone(phone) or ""
    if digits.isdigit() and 5 <= len(digits) <= 20:
        found = await run_in_threadpool(
            queries.list_complaints,
            pg.rt,
            {"customer_phone": digits, "limit": 5, "sort": "received"},
            pg.p,
        )
        recent = found["items"]
    return render(pg, "workbench/_suggest.html", a=answer, recent=recent)


# -- the complaint page ----------------------------------------------------------------

ACTION_FIELDS: dict[str, tuple[str, ...]] = {
    "accept": ("note",),
    "investigate": ("root_cause", "note"),
    "propose": ("resolution", "compensation", "root_cause", "note"),
    "approve": ("note",),
    "reject": ("note",),
    "reply": ("resolution", "note"),
    "callback": ("result", "note"),
    "close": ("note",),
    "reopen": ("note",),
    "merge": ("into", "note"),
    "transfer": ("team", "assignee", "note"),
    "escalate": ("note",),
    "invalidate": ("reason", "note"),
    "flag": ("add_flags", "remove_flags", "note"),
    "convert": ("note",),
    "classify": ("category", "note"),
}


def _attachments(pg: Page, number: str) -> list[dict[str, Any]] | None:
    try:
        from kesu.complaints import attachments
    except ImportError:  # pragma: no cover - the slice is optional in older checkouts
        return None
    return attachments.list_for(pg.rt, number, pg.p)


def _complaint_data(pg: Page, number: str) -> dict[str, Any]:
    view = queries.get(pg.rt, number, pg.p)
    events = queries.events(pg.rt, number, pg.p)
    triage_data = next((e["data"].get("triage") for e in events if e["type"] == "registered"), None)
    return {
        "c": view,
        "events": list(reversed(events)),
        "triage": triage_data,
        # Narrowed to the user's permissions by the complaint view (complaints.views).
        "actions": view["allowed_actions"],
        "attachments": _attachments(pg, number),
    }


@router.get("/complaints/{number}")
async def complaint_page(
    number: str, pg: Page = Depends(staff), done: str | None = None
) -> Response:
    data = await run_in_threadpool(_complaint_data, pg, number)
    if done:
        pg.flash.append(("ok", pg.t(f"done.{done}") if done in DONE else pg.t("done.action")))
    return render(
        pg,
        "workbench/complaint.html",
        fields=ACTION_FIELDS,
        customer=data["c"]["customer"],
        number=number,
        lifecycle_actions=lifecycle.ACTIONS,
        **data,
    )


DONE = {"registered", "action", "uploaded"}


@router.post("/complaints/{number}/act")
async def act(number: str, pg: Page = Depends(staff)) -> Response:
    form = await pg.form()
    action = str(form.get("action") or "")
    if action not in ACTION_FIELDS:
        raise Problem(422, "unknown_action", "Unknown action", f"未知的操作“{action}”。")
    params: dict[str, Any] = {}
    for name in ACTION_FIELDS[action]:
        if name in ("add_flags", "remove_flags"):
            params[name] = [str(v) for v in form.getlist(name) if v]
            continue
        value = str(form.get(name) or "").strip()
        if value:
            params[name] = value
    version = str(form.get("expected_version") or "")
    expected = int(version) if version.isdigit() else None
    await run_in_threadpool(transitions.transition, pg.rt, number, action, params, pg.p, expected)
    return redirect(f"/complaints/{number}?done=action", pg.request)


@router.get("/complaints/{number}/obligations")
async def obligations(number: str, pg: Page = Depends(staff)) -> Response:
    def load() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        found = advice.obligations(pg.rt, number, pg.p)
        view = queries.get(pg.rt, number, pg.p)  # masked text: the case search's query
        text = "\n".join(x for x in (view.get("title"), view.get("description")) if x)
        cases = library.list_cases(pg.rt, q=text[:500], limit=3, actor=pg.p)["results"]
        return found, cases

    data, cases = await run_in_threadpool(load)
    return render(pg, "workbench/_obligations.html", o=data, cases=cases)


@router.post("/complaints/{number}/draft")
async def draft(number: str, pg: Page = Depends(staff)) -> Response:
    form = await pg.form()
    body = {
        k: str(form.get(k)).strip()
        for k in ("outcome", "findings", "remedy")
        if str(form.get(k) or "").strip()
    }
    result = await run_in_threadpool(advice.reply_draft, pg.rt, number, body, pg.p)
    return render(pg, "workbench/_draft.html", d=result, number=number)


@router.post("/complaints/{number}/reveal")
async def reveal(number: str, pg: Page = Depends(staff)) -> Response:
    form = await pg.form()
    reason = str(form.get("reason") or "").strip()
    if len(reason) < 2:
        raise Problem(
            422,
            "reason_required",
            "Reason required",
            "请填写查看完整个人信息的理由（记入审计日志）。",
        )
    data = await run_in_threadpool(queries.personal_data, pg.rt, number, pg.p, reason[:200])
    return render(
        pg, "workbench/_customer.html", customer=data["customer"], revealed=True, number=number
    )


@router.get("/law/article")
async def article(c: str, pg: Page = Depends(staff)) -> Response:
    data = await run_in_threadpool(articles.article, pg.rt, c[:100], pg.p)
    return render(pg, "workbench/_article.html", a=data)


@router.post("/complaints/{number}/attachments")
async def upload(number: str, pg: Page = Depends(staff)) -> Response:
    from kesu.complaints import attachments

    form = await pg.form()
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise Problem(422, "attachment_missing", "No file", "请选择要上传的文件。")
    data = await upload.read(attachments.MAX_BYTES + 1)
    await run_in_threadpool(
        attachments.add, pg.rt, number, upload.filename or "file", data, pg.p, "staff"
    )
    return redirect(f"/complaints/{number}?done=uploaded#attachments", pg.request)


@router.get("/complaints/{number}/attachments/{attachment_id}")
async def download(number: str, attachment_id: int, pg: Page = Depends(staff)) -> Response:
    from kesu.complaints import attachments

    meta, data = await run_in_threadpool(attachments.fetch, pg.rt, number, attachment_id, pg.p)
    return _file_response(meta, data)


def _file_response(meta: dict[str, Any], data: bytes) -> Response:
    from urllib.parse import quote

    inline = (
        meta["content_type"].startswith(("image/", "audio/"))
        or meta["content_type"] == "application/pdf"
    )
    disposition = "inline" if inline else "attachment"
    return Response(
        data,
        media_type=meta["content_type"],
        headers={
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(meta['filename'])}",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
            # Evidence is shown, never run: no scripts even in a PDF viewer or an SVG.
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


def htmx_only(pg: Page) -> bool:
    return is_htmx(pg.request)
