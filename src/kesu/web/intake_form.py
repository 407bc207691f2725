"""The hotline form: an agent registers what a caller says, with triage's suggestions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import ValidationError

from kesu.channels import intake, phones
from kesu.complaints import queries
from kesu.complaints.routes import _normal_phone
from kesu.complaints.schemas import FormComplaintIn, FormCustomerIn
from kesu.problems import Problem
from kesu.triage import service as triage
from kesu.web.pages import Page, PageRoute, form_errors, redirect, render, staff

router = APIRouter(route_class=PageRoute, include_in_schema=False)

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
        field_errors=_by_field(errors or []),
        provinces=_provinces(),
    )


def _by_field(errors: list[dict[str, str]]) -> dict[str, str]:
    """Each field's first message, shown next to it."""
    out: dict[str, str] = {}
    for e in errors:
        out.setdefault(e.get("field", "").split(".")[-1], e["detail"])
    return out


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
        # The form's stricter rules (a mainland number, the province, 10 characters).
        body = FormComplaintIn.model_validate(_complaint_body(form))
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
    guess, phone_errors = None, {}
    typed_phone = pg.request.headers.get("hx-trigger") == "phone"
    if typed_phone:
        # The number just typed: checked at once, as the form will check it.
        phone_errors = _by_field(_phone_errors(phone or ""))
        # No province chosen yet: the province of a landline's area code, or that of
        # the caller's latest complaint.
        if not form.get("province") and not phone_errors:
            guess = _province_guess(digits, recent)
    return render(
        pg,
        "workbench/_suggest.html",
        a=answer,
        recent=recent,
        guess=guess,
        provinces=_provinces() if guess else [],
        phone_checked=typed_phone,
        phone_errors=phone_errors,
    )


def _phone_errors(phone: str) -> list[dict[str, str]]:
    try:
        FormCustomerIn.model_validate({"phone": phone, "province": "北京市"})
    except ValidationError as err:
        return [e for e in form_errors(err) if e["field"] == "phone"]
    return []


def _province_guess(number: str, recent: list[dict[str, Any]]) -> dict[str, str] | None:
    from_area = phones.area_province(number)
    if from_area:
        code = number[:3] if number[1] in "12" else number[:4]
        return {"province": from_area, "source": "area", "code": code}
    for c in recent:
        province = (c.get("customer") or {}).get("province")
        if province:
            return {"province": province, "source": "history", "code": c["number"]}
    return None
