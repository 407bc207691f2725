"""The complaint page's likely duplicates across channels: one click merges the later of
the two into the earlier (complaints.duplicates.merge, the lifecycle's `merge` action
with its permission and audit); the page of the complaint kept is shown after it."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from kesu.complaints import duplicates
from kesu.problems import Problem
from kesu.web.pages import Page, PageRoute, redirect, staff

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.post("/complaints/{number}/duplicates/merge")
async def merge_duplicate(number: str, pg: Page = Depends(staff)) -> Response:
    form = await pg.form()
    other = str(form.get("other") or "").strip()
    if not other:
        raise Problem(422, "merge_target_required", "No duplicate", "请选择要合并的疑似重复投诉。")
    done = await run_in_threadpool(duplicates.merge, pg.rt, number, other[:20], pg.p)
    return redirect(f"/complaints/{done['kept']}?done=merged", pg.request)
