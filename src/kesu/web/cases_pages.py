"""The case library for learning: /cases (browse and search by words, category, article,
lesson and verdict) and /practice (a practice round: classify anonymised cases, then see
the reviewed answer and the lesson). Through kesu.law.library and kesu.quality.practice."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from kesu.complaints import vocabulary as vocab
from kesu.law import cases as case_data
from kesu.law import library
from kesu.problems import Problem
from kesu.quality import practice
from kesu.web.pages import Page, PageRoute, redirect, render, staff

router = APIRouter(route_class=PageRoute, include_in_schema=False)
_MAX_ID = 2**53
FILTERS = ("q", "category", "article", "lesson", "verdict")


@router.get("/cases")
async def cases_page(pg: Page = Depends(staff)) -> Response:
    q = pg.request.query_params
    f = {k: (q.get(k) or "").strip()[:100] or None for k in FILTERS}
    if f["category"] not in vocab.CATEGORIES:
        f["category"] = None
    if f["verdict"] not in case_data.VERDICTS:
        f["verdict"] = None
    status = 200
    try:
        found = await run_in_threadpool(
            lambda: library.list_cases(
                pg.rt,
                f["q"],
                f["category"],
                None,
                50,
                pg.p,
                article=f["article"],
                lesson=f["lesson"],
                verdict=f["verdict"],
            )
        )
    except Problem as e:
        if e.status == 403:
            raise
        pg.flash.append(("error", e.detail))
        found, status = {"total": 0, "results": []}, e.status
    return render(
        pg,
        "cases/list.html",
        status,
        f=f,
        found=found,
        verdicts=case_data.VERDICTS,
        categories=vocab.CATEGORIES,
    )


@router.get("/practice")
async def practice_home(pg: Page = Depends(staff)) -> Response:
    rounds = await run_in_threadpool(practice.mine, pg.rt, pg.p)
    return render(pg, "cases/practice_home.html", rounds=rounds, size=practice.round_size())


@router.post("/practice")
async def practice_start(pg: Page = Depends(staff)) -> Response:
    await pg.form()
    made = await run_in_threadpool(practice.start, pg.rt, pg.p)
    return redirect(f"/practice/{made['id']}", pg.request)


@router.get("/practice/{round_id}")
async def practice_round(round_id: int, pg: Page = Depends(staff)) -> Response:
    rid = round_id if 0 < round_id < _MAX_ID else 0
    view = await run_in_threadpool(practice.get, pg.rt, pg.p, rid)
    return render(pg, "cases/practice.html", r=view)


@router.post("/practice/{round_id}/answers")
async def practice_answer(round_id: int, pg: Page = Depends(staff)) -> Response:
    rid = round_id if 0 < round_id < _MAX_ID else 0
    form = await pg.form()
    raw = str(form.get("position") or "")
    position = int(raw) if raw.isdigit() and len(raw) < 4 else 0
    category = str(form.get("category") or "")[:40]
    try:
        await run_in_threadpool(practice.answer, pg.rt, pg.p, rid, position, category)
    except Problem as e:
        if e.status in (403, 404):
            raise
        pg.flash.append(("error", e.detail))
        view = await run_in_threadpool(practice.get, pg.rt, pg.p, rid)
        return render(pg, "cases/practice.html", e.status, r=view)
    return redirect(f"/practice/{rid}#case-{position}", pg.request)
