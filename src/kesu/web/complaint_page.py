"""The complaint page: the record, its actions, obligations, reply draft, reveal, evidence."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from kesu.accounts import teams as team_admin
from kesu.accounts.roles import roles
from kesu.complaints import duplicates, lifecycle, queries, reveal, surveys, transitions
from kesu.complaints.survey_form import survey
from kesu.corrective import service as corrective_service
from kesu.corrective import views as corrective_views
from kesu.law import advice, articles, library
from kesu.problems import Problem
from kesu.web import i18n
from kesu.web.pages import Page, PageRoute, is_htmx, redirect, render, staff

router = APIRouter(route_class=PageRoute, include_in_schema=False)

ACTION_FIELDS: dict[str, tuple[str, ...]] = {
    "accept": ("note",),
    "investigate": ("root_cause", "note"),
    "propose": ("resolution", "compensation", "remedy_kind", "root_cause", "note"),
    "approve": ("note",),
    "reject": ("note",),
    "reply": ("resolution", "note"),
    "callback": ("result", "note"),
    "close": ("root_cause", "note"),
    "reopen": ("note",),
    "merge": ("into", "note"),
    "transfer": ("team", "assignee", "note"),
    "escalate": ("note",),
    "invalidate": ("reason", "note"),
    "flag": ("add_flags", "remove_flags", "note"),
    "convert": ("note",),
    "classify": ("category", "note"),
    "assign": ("assignee", "note"),
    "claim": ("note",),
    "delay": ("expected_on", "reason", "note"),
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
        # Who `assign` may name: the active people of the complaint's team.
        "team_members": _team_members(pg, view) if "assign" in view["allowed_actions"] else [],
        # The same customer's matter by another channel (workbench/_duplicates.html).
        "duplicates": duplicates.of(pg.rt, number, pg.p),
        # The satisfaction surveys of the complaint, the latest round first.
        "surveys": surveys.answered(pg.rt, number, pg.p),
        # The corrective actions it is linked to (workbench/_corrective.html).
        "corrective": corrective_views.actions_of(pg.rt, number, pg.p),
        "default_due": (corrective_service.today(pg.rt) + timedelta(days=30)).isoformat(),
    }


def _team_members(pg: Page, view: dict[str, Any]) -> list[dict[str, Any]]:
    if not view.get("team"):
        return []
    try:
        team = team_admin.one(pg.rt, pg.p, view["team"])
    except Problem:
        return []
    return [m for m in team["members"] if m["active"] and m["username"] != view.get("assignee")]


@router.get("/complaints/{number}")
async def complaint_page(
    number: str, pg: Page = Depends(staff), done: str | None = None
) -> Response:
    data = await run_in_threadpool(_complaint_data, pg, number)
    view = data["c"]
    waiting = view.get("approval")
    if done == "proposed" and waiting:
        # The proposer is told it now waits, for whom and why (the banner says it too).
        why = "；".join(r["text"] for r in waiting["reasons"])
        pg.flash.append(
            ("ok", pg.t("done.awaiting_approval", who=_approvers(pg, waiting), why=why))
        )
    elif done:
        pg.flash.append(("ok", pg.t(f"done.{done}") if done in DONE else pg.t("done.action")))
    return render(
        pg,
        "workbench/complaint.html",
        fields=ACTION_FIELDS,
        customer=view["customer"],
        number=number,
        lifecycle_actions=lifecycle.ACTIONS,
        reveal_basis=reveal.basis(view["assignee"], view["status"], pg.p),
        approvers=_approvers(pg, waiting) if waiting else "",
        survey_questions=survey().questions,
        survey_overall=survey().overall,
        **data,
    )


DONE = {"registered", "action", "uploaded", "split", "merged"}


def _approvers(pg: Page, waiting: dict[str, Any]) -> str:
    name = i18n.namer(pg.lang)
    names = [name(roles(), a["role"]) for a in waiting["approvers"]]
    return (" or " if pg.lang == "en" else "或").join(names)


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
    if action == "callback":  # the survey's other answers (the result is the overall one)
        answers = {
            k.removeprefix("survey."): str(v).strip()
            for k, v in form.multi_items()
            if k.startswith("survey.") and str(v).strip()
        }
        if answers and params.get("result") != "unreachable":
            params["survey"] = answers
    version = str(form.get("expected_version") or "")
    expected = int(version) if version.isdigit() else None
    after = await run_in_threadpool(
        transitions.transition, pg.rt, number, action, params, pg.p, expected
    )
    done = "proposed" if action == "propose" and after.get("approval") else "action"
    return redirect(f"/complaints/{number}?done={done}", pg.request)


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
        for k in ("outcome", "findings", "remedy", "remedy_kind")
        if str(form.get(k) or "").strip()
    }
    result = await run_in_threadpool(advice.reply_draft, pg.rt, number, body, pg.p)
    return render(pg, "workbench/_draft.html", d=result, number=number)


@router.post("/complaints/{number}/reveal")
async def reveal_customer(number: str, pg: Page = Depends(staff)) -> Response:
    """One click: the phone for a call back (or, for pii.show, everything), audited."""
    form = await pg.form()
    reason = str(form.get("reason") or "").strip()
    scope = "full" if form.get("scope") == "full" else "phone"

    def load() -> tuple[dict[str, Any], dict[str, Any]]:
        shown = reveal.reveal(pg.rt, number, pg.p, reason, scope)
        view = queries.get(pg.rt, number, pg.p)  # the rest stays masked for scope phone
        return shown, {**view["customer"], **shown["customer"]}

    shown, customer = await run_in_threadpool(load)
    return render(
        pg,
        "workbench/_customer.html",
        customer=customer,
        revealed=shown["scope"],
        reveal_reason=shown["reason"],
        number=number,
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
