"""The quality pages: /quality (the reviewer's sample for a period and the reviews),
/quality/mine (a handler's own reviews), /quality/reviews/new (the scorecard to fill in
for a closed complaint) and /quality/reviews/{id} (the card as scored, the findings, the
handler's contest and the supervisor's decision). Everything goes through kesu.quality
(permissions, the conditional updates, history, audit)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from kesu.accounts.roles import require, require_any
from kesu.clock import to_beijing
from kesu.problems import Problem
from kesu.quality import reviews, sample, scorecard
from kesu.web.pages import Page, PageRoute, redirect, render, staff

router = APIRouter(route_class=PageRoute, include_in_schema=False)
_DONE = ("reviewed", "contested", "decided")
_MAX_ID = 2**53
PAGE_DAYS = 30  # the pages' default period ends today


def _period(pg: Page) -> tuple[str, str, tuple | None]:
    q = pg.request.query_params
    today = to_beijing(pg.rt.clock()).date()
    asked_from, asked_to = q.get("from") or None, q.get("to") or None
    if not asked_from and not asked_to:  # the last 30 days: not empty early in a month
        asked_from = (today - timedelta(days=PAGE_DAYS - 1)).isoformat()
    try:
        start, end = sample.parse_period(today, asked_from, asked_to)
    except Problem as e:
        pg.flash.append(("error", e.detail))
        start, end = sample.parse_period(today, None, None)
    return start.isoformat(), end.isoformat(), (start, end)


@router.get("/quality")
async def quality_home(pg: Page = Depends(staff)) -> Response:
    require_any(pg.p, ("quality.review", "quality.read", "quality.own"), "质检")
    if not pg.can("quality.review") and not pg.can("quality.read"):
        return redirect("/quality/mine", pg.request)
    start, end, days = _period(pg)
    state = pg.request.query_params.get("state") or None
    state = state if state in reviews.STATES else None

    def load() -> tuple[dict[str, Any] | None, dict[str, Any]]:
        assert days is not None
        found = (
            sample.sample(pg.rt, pg.p, days[0], days[1], None) if pg.can("quality.review") else None
        )
        lo, hi = sample.period(*days)
        return found, reviews.listing(pg.rt, pg.p, None, lo, hi, state)

    found, listed = await run_in_threadpool(load)
    return render(
        pg,
        "quality/index.html",
        start=start,
        end=end,
        state=state,
        states=reviews.state_names(),
        sample=found,
        reviews=listed["items"],
    )


@router.get("/quality/mine")
async def quality_mine(pg: Page = Depends(staff)) -> Response:
    require(pg.p, "quality.own")
    listed = await run_in_threadpool(reviews.listing, pg.rt, pg.p, pg.p.name)
    return render(pg, "quality/mine.html", reviews=listed["items"])


def _card_page(pg: Page, number: str, values: dict[str, str], status: int = 200) -> Response:
    card = scorecard.current()
    return render(
        pg,
        "quality/new.html",
        status,
        number=number,
        card=card,
        items=scorecard.describe(card),
        v=values,
    )


@router.get("/quality/reviews/new")
async def review_form(pg: Page = Depends(staff)) -> Response:
    require(pg.p, "quality.review")
    number = (pg.request.query_params.get("complaint") or "")[:20]
    return _card_page(pg, number, {})


@router.post("/quality/reviews/new")
async def review_submit(pg: Page = Depends(staff)) -> Response:
    require(pg.p, "quality.review")
    form = await pg.form()
    values = {k: str(v) for k, v in form.items() if k != "csrf_token"}
    number = values.get("complaint", "").strip()[:20]
    marks: dict[str, object] = {}
    for item in scorecard.current().items:
        raw = values.get(f"mark_{item.code}", "")
        if item.kind == "pass_fail" and raw in ("pass", "fail"):
            marks[item.code] = raw == "pass"
        elif item.kind == "points" and raw.isdigit():
            marks[item.code] = int(raw)
    body = {"complaint": number, "marks": marks, "findings": values.get("findings", "")[:2000]}
    try:
        made = await run_in_threadpool(reviews.create, pg.rt, pg.p, body)
    except Problem as e:
        if e.status == 403:
            raise
        pg.flash.append(("error", e.detail))
        return _card_page(pg, number, values, e.status)
    return redirect(f"/quality/reviews/{made['id']}?done=reviewed", pg.request)


@router.get("/quality/reviews/{review_id}")
async def review_page(review_id: int, pg: Page = Depends(staff)) -> Response:
    rid = review_id if 0 < review_id < _MAX_ID else 0
    view = await run_in_threadpool(reviews.get, pg.rt, pg.p, rid)
    done = pg.request.query_params.get("done")
    if done in _DONE:
        pg.flash.append(("ok", pg.t(f"quality.done.{done}")))
    return render(pg, "quality/review.html", r=view)


async def _act(pg: Page, review_id: int, what: str) -> Response:
    rid = review_id if 0 < review_id < _MAX_ID else 0
    form = await pg.form()
    get = lambda k: str(form.get(k) or "").strip()  # noqa: E731
    try:
        if what == "contest":
            await run_in_threadpool(reviews.contest, pg.rt, pg.p, rid, get("reason")[:1000])
        else:
            raw = get("score")
            try:
                score = float(raw) if raw else None
            except ValueError:
                score = -1.0
            if score is not None and not 0 <= score <= 100:
                raise Problem(422, "out_of_range", "Out of range", pg.t("quality.score_range"))
            await run_in_threadpool(
                reviews.decide, pg.rt, pg.p, rid, get("outcome"), score, get("note")[:1000]
            )
    except Problem as e:
        if e.status in (403, 404):
            raise
        pg.flash.append(("error", e.detail))
        view = await run_in_threadpool(reviews.get, pg.rt, pg.p, rid)
        return render(pg, "quality/review.html", e.status, r=view)
    done = "contested" if what == "contest" else "decided"
    return redirect(f"/quality/reviews/{rid}?done={done}", pg.request)


@router.post("/quality/reviews/{review_id}/contest")
async def review_contest(review_id: int, pg: Page = Depends(staff)) -> Response:
    return await _act(pg, review_id, "contest")


@router.post("/quality/reviews/{review_id}/decision")
async def review_decision(review_id: int, pg: Page = Depends(staff)) -> Response:
    return await _act(pg, review_id, "decision")
