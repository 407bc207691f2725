"""The complaint page's split: the second problem of a call registered as a complaint of
its own (`complaints.split`, the same as POST /api/v1/complaints/{number}/split), and the
links between the two (shown by the partial workbench/_split.html on both pages)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import ValidationError

from kesu.complaints import split
from kesu.complaints.schemas import SplitIn
from kesu.problems import Problem, field_error
from kesu.web.pages import Page, PageRoute, redirect, staff

router = APIRouter(route_class=PageRoute, include_in_schema=False)

FIELDS = ("category", "kind", "title", "description", "demands", "note")


@router.post("/complaints/{number}/split")
async def split_off(number: str, pg: Page = Depends(staff)) -> Response:
    form = await pg.form()
    data: dict[str, Any] = {
        k: str(form.get(k) or "").strip() for k in FIELDS if str(form.get(k) or "").strip()
    }
    try:
        body = SplitIn.model_validate(data)
    except ValidationError as err:
        first = field_error(err.errors()[0])  # type: ignore[arg-type]
        raise Problem(422, first["code"], "Invalid input", first["detail"]) from None
    new = await run_in_threadpool(split.split, pg.rt, number, body.model_dump(), pg.p)
    return redirect(f"/complaints/{new['number']}?done=split", pg.request)
