"""The appeal page (/appeals/{number}): both time limits, the materials with what 第十二条
still asks for, the conditions of 第十条 and 第十一条 with their evidence, the forms of the
actions allowed now, the referral and the operator's answer, mediation, the timeline.
An action refused (409) or with bad input (422) shows the page again with the problem in
Chinese and the form as it was typed. Everything goes through kesu.appeals.service."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.convertors import Convertor, register_url_convertor

from kesu.appeals import conditions, lifecycle, materials, notify, operator_record, service
from kesu.clock import to_beijing
from kesu.complaints import vocabulary as vocab
from kesu.problems import Problem
from kesu.web.pages import Page, PageRoute, redirect, render, staff


class AppealNumber(Convertor):
    """SS + 14 digits: /appeals/new, /appeals/dashboard, /appeals/statistics stay free."""

    regex = "SS[0-9]{14}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("appeal_number", AppealNumber())
router = APIRouter(route_class=PageRoute, include_in_schema=False)

# Each action's form fields (appeals.lifecycle says what each needs).
FIELDS: dict[str, tuple[str, ...]] = {
    "supplement": (),  # the missing items of 第十二条 (SUPPLEMENTABLE)
    "accept": ("note",),
    "reject": ("reason", "note"),
    "redirect": ("hand_over", "note"),
    "refer": ("operator_due_on", "note"),
    "answer": ("answer", "operator_complaint"),
    "mediate": ("held_on", "participants", "notes"),
    "agree": ("terms", "perform_by"),
    "end_mediation": ("reason",),
    "perform": ("note",),
    "conclude": ("note",),
    "withdraw": ("note",),
    "classify": ("category",),  # the category corrected (where lifecycle has the action)
}
# The items of 第十二条 an officer can add (materials field → the supplement's key); the
# operator's address comes from the operator's settings (/admin/appeal-operators).
SUPPLEMENTABLE = {
    "appellant.name": "appellant.name",
    "appellant.address": "appellant.address",
    "appellant.phone": "appellant.phone",
    "appellant.postcode": "appellant.postcode",
    "respondent.name": "operator_name",
    "request": "request",
    "reasons": "reasons",
    "facts": "facts",
    "date": "appeal_date",
}
# The officer's confirmations of the accept form (appeals.schemas.Declared) and the item
# of 申诉处理办法 each answers.
CONFIRM = (
    ("direct_interest", "10-1"),
    ("complaint_verified", "10-4"),
    ("settled", "11-2"),
    ("already_handled", "11-3"),
    ("other_body", "11-4"),
    ("other_law", "11-6"),
)
DONE = {"received", "action", "record"}


def _view(pg: Page, number: str) -> dict[str, Any]:
    return service.view(pg.rt, number, pg.p)


async def _page(
    pg: Page,
    number: str,
    status: int = 200,
    tried: str | None = None,
    typed: dict[str, Any] | None = None,
    problem: Problem | None = None,
) -> Response:
    a = await run_in_threadpool(_view, pg, number)
    deadlines = {d["rule"]: d for d in a["deadlines"]}
    today = to_beijing(pg.rt.clock()).date()
    return render(
        pg,
        "appeals/appeal.html",
        status=status,
        a=a,
        accept=deadlines.get("appeal_accept_5wd"),
        reply=deadlines.get("appeal_reply_30d"),
        actions=lifecycle.ACTIONS,
        statuses=lifecycle.STATUSES,
        outcomes=lifecycle.OUTCOMES,
        fields=FIELDS,
        confirm=[(key, _condition(a, code)) for key, code in CONFIRM],
        supplement=[(m, SUPPLEMENTABLE.get(m["field"])) for m in a["missing"]],
        required=[
            {"citation": f"{materials.REGULATION}{materials.ARTICLE}{it.item}", "name": it.name}
            for it in materials.ITEMS
        ],
        reasons=conditions.reasons_for_rejection(),
        reason_cites={r["code"]: r["citation"] for r in conditions.reasons_for_rejection()},
        rejection=(
            conditions.rejection_text(a["decision_reason"]) if a["decision_reason"] else None
        ),
        redirect_text=conditions.redirect_text(),
        other_routes=notify.policy()["policy"]["other_routes"],
        complaint_statuses=vocab.STATUSES,  # the operator's record (its kesu's statuses)
        today=today.isoformat(),
        tried=tried,
        typed=typed or {},
        problem=problem,
    )


def _condition(a: dict[str, Any], code: str) -> dict[str, Any] | None:
    return next((c for c in a["conditions"] if c["code"] == code), None)


@router.get("/appeals/{number:appeal_number}")
async def appeal_page(number: str, pg: Page = Depends(staff), done: str | None = None) -> Response:
    if done in DONE:
        pg.flash.append(("ok", pg.t(f"appeal.done.{done}")))
    return await _page(pg, number)


def _params(action: str, form: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the service's params, what was typed, to show again on an error)."""
    typed: dict[str, Any] = {}
    params: dict[str, Any] = {}
    if action == "supplement":
        for key in SUPPLEMENTABLE.values():
            value = str(form.get(key) or "").strip()
            typed[key] = value
            if value:
                params[key] = value
        return params, typed
    for name in FIELDS.get(action, ()):
        if name == "hand_over":
            typed[name] = params[name] = form.get(name) in ("1", "on", "true")
            continue
        value = str(form.get(name) or "").strip()
        typed[name] = value
        if value:
            params[name] = value
    if action == "accept":
        confirm: dict[str, bool | None] = {}
        for key, _code in CONFIRM:
            said = str(form.get(f"confirm.{key}") or "")
            typed[f"confirm.{key}"] = said
            if said in ("yes", "no"):
                confirm[key] = said == "yes"
            elif said == "unknown":
                confirm[key] = None
        params["confirm"] = confirm
    return params, typed


@router.post("/appeals/{number:appeal_number}/act")
async def act(number: str, pg: Page = Depends(staff)) -> Response:
    form = await pg.form()
    action = str(form.get("action") or "")
    if action not in lifecycle.ACTIONS:
        raise Problem(422, "unknown_appeal_action", "Unknown action", f"未知的申诉操作“{action}”。")
    params, typed = _params(action, form)
    try:
        await run_in_threadpool(service.act, pg.rt, number, action, params, pg.p)
    except Problem as problem:
        if problem.status in (403, 404):
            raise
        pg.flash.append(("error", problem.detail))
        return await _page(pg, number, problem.status, action, typed, problem)
    return redirect(f"/appeals/{number}?done=action#decision", pg.request)


@router.post("/appeals/{number:appeal_number}/operator-record")
async def ask_operator(number: str, pg: Page = Depends(staff)) -> Response:
    """Ask the connected operator's kesu for the appellant's complaints now (第十条（四）)."""
    await pg.form()  # the CSRF check
    try:
        await run_in_threadpool(operator_record.fetch, pg.rt, number, pg.p)
    except Problem as problem:
        if problem.status in (403, 404):
            raise
        pg.flash.append(("error", problem.detail))
        return await _page(pg, number, problem.status)
    return redirect(f"/appeals/{number}?done=record#operator-record", pg.request)
