"""/api/v1/quality: the reviewer's sample, reviews (scored on the scorecard), the
handler's contest and the supervisor's decision; /api/v1/practice: the practice round."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from kesu.accounts.roles import Principal
from kesu.accounts.web import principal
from kesu.clock import to_beijing
from kesu.complaints import vocabulary as vocab
from kesu.quality import practice, reviews, sample
from kesu.runtime import Runtime
from kesu.web.http import DATE_SCHEMA, runtime

router = APIRouter(prefix="/api/v1", tags=["quality"])

FromQ = Annotated[
    str | None,
    Query(
        alias="from",
        max_length=20,
        description="起始日期 YYYY-MM-DD（北京时间，含；按投诉归档日期）；默认本月1日",
        json_schema_extra=DATE_SCHEMA,
    ),
]
ToQ = Annotated[
    str | None,
    Query(
        max_length=20,
        description="结束日期 YYYY-MM-DD（北京时间，含）；默认今天",
        json_schema_extra=DATE_SCHEMA,
    ),
]
Id = Annotated[int, Field(ge=1, le=2**53)]


class ReviewIn(BaseModel):
    """A closed complaint scored on the current scorecard: every item marked (true/false
    for a pass/fail item, 0..max for a points item)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    complaint: Annotated[str, Field(min_length=1, max_length=20)]
    marks: Annotated[
        dict[Annotated[str, Field(max_length=40)], StrictBool | StrictInt], Field(max_length=50)
    ]
    findings: Annotated[str, Field(max_length=2000)] | None = None


class ContestIn(BaseModel):
    """The handler's reason for contesting the review (once)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: Annotated[str, Field(min_length=1, max_length=1000)]


class DecisionIn(BaseModel):
    """A supervisor's decision of a contest: upheld (with the score that stands) or rejected."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    outcome: Literal["upheld", "rejected"]
    score: Annotated[float, Field(ge=0, le=100)] | None = None
    note: Annotated[str, Field(max_length=1000)] | None = None


class AnswerIn(BaseModel):
    """The category the agent gives the round's case at `position` (1..N)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    position: Annotated[int, Field(ge=1, le=100)]
    category: Annotated[
        str, Field(max_length=40, json_schema_extra={"enum": list(vocab.CATEGORIES)})
    ]


@router.get("/quality/sample", summary="质检抽样 A reviewer's sample of closed complaints")
async def get_sample(
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
    from_: FromQ = None,
    to: ToQ = None,
    seed: Annotated[str | None, Query(max_length=60, description="抽样种子（可复现）")] = None,
) -> dict[str, Any]:
    start, end = sample.parse_period(to_beijing(rt.clock()).date(), from_, to)
    return await run_in_threadpool(sample.sample, rt, p, start, end, seed)


@router.post("/quality/reviews", status_code=201, summary="质检评分 Score a closed complaint")
async def create_review(
    body: ReviewIn, rt: Runtime = Depends(runtime), p: Principal = Depends(principal)
) -> dict[str, Any]:
    return await run_in_threadpool(reviews.create, rt, p, body.model_dump())


@router.get("/quality/reviews", summary="质检结果 Reviews (one's own without quality.read)")
async def list_reviews(
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
    handler: Annotated[str | None, Query(max_length=64)] = None,
    from_: FromQ = None,
    to: ToQ = None,
    state: Annotated[
        str | None, Query(max_length=12, json_schema_extra={"enum": list(reviews.STATES)})
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> dict[str, Any]:
    lo = hi = None
    if from_ or to:
        today = to_beijing(rt.clock()).date()
        start, end = sample.parse_period(today, from_, to)
        lo, hi = sample.period(start, end)
    return await run_in_threadpool(reviews.listing, rt, p, handler, lo, hi, state, limit)


@router.get("/quality/reviews/{review_id}", summary="质检结果 One review with its history")
async def get_review(
    review_id: Id, rt: Runtime = Depends(runtime), p: Principal = Depends(principal)
) -> dict[str, Any]:
    return await run_in_threadpool(reviews.get, rt, p, review_id)


@router.post("/quality/reviews/{review_id}/contest", summary="质检申诉 Contest a review (once)")
async def contest_review(
    review_id: Id,
    body: ContestIn,
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
) -> dict[str, Any]:
    return await run_in_threadpool(reviews.contest, rt, p, review_id, body.reason)


@router.post("/quality/reviews/{review_id}/decision", summary="申诉裁定 Decide a contest")
async def decide_review(
    review_id: Id,
    body: DecisionIn,
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
) -> dict[str, Any]:
    return await run_in_threadpool(
        reviews.decide, rt, p, review_id, body.outcome, body.score, body.note
    )


@router.post("/practice", status_code=201, summary="案例练习 Start a practice round")
async def start_practice(
    rt: Runtime = Depends(runtime), p: Principal = Depends(principal)
) -> dict[str, Any]:
    return await run_in_threadpool(practice.start, rt, p)


@router.post("/practice/{round_id}/answers", summary="练习作答 Classify one practice case")
async def answer_practice(
    round_id: Id,
    body: AnswerIn,
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
) -> dict[str, Any]:
    return await run_in_threadpool(practice.answer, rt, p, round_id, body.position, body.category)
