"""HTTP routes of the law slice: regulations, search, cases, obligations, reply drafts."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from kesu.accounts.roles import Principal
from kesu.accounts.web import principal
from kesu.complaints import vocabulary as vocab
from kesu.law import advice, articles, index_store, library, promotion
from kesu.law import cases as case_data
from kesu.runtime import Runtime
from kesu.web.http import FastJSON, runtime

router = APIRouter(prefix="/api/v1", tags=["law"])

Text = Annotated[str, Field(max_length=2000)]
Citation = Annotated[str, Field(min_length=2, max_length=100)]


@router.get("/law/regulations", summary="收录的法规 Regulations held")
async def regulations(
    rt: Runtime = Depends(runtime), p: Principal = Depends(principal)
) -> dict[str, Any]:
    return {"regulations": await run_in_threadpool(articles.regulations, rt, p)}


@router.get("/law/article", summary="条文原文 One article (款, 项) by citation")
async def article(
    citation: Annotated[
        str,
        Query(
            min_length=2,
            max_length=100,
            description="如 电信条例 32、《中华人民共和国电信条例》第三十二条第一款",
        ),
    ],
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
) -> dict[str, Any]:
    return await run_in_threadpool(articles.article, rt, citation, p)


@router.get("/law/search", summary="法规检索 Search the regulations in plain Chinese")
async def search(
    q: Annotated[
        str,
        Query(
            max_length=500,
            description="口语化的问题，如：宽带坏了三天没人修",
            json_schema_extra={"minLength": 1, "pattern": r"\S"},  # checked: empty_query
        ),
    ],
    rt: Runtime = Depends(runtime),
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
    province: Annotated[
        str | None,
        Query(
            max_length=20,
            description="优先该省的地方性法规",
            json_schema_extra=vocab.province_schema(),
        ),
    ] = None,
    p: Principal = Depends(principal),
) -> dict[str, Any]:
    return FastJSON(await run_in_threadpool(articles.search, rt, q, limit, province, p))


@router.post("/law/reindex", summary="重建法规索引 Reindex the regulation files")
async def reindex(
    rt: Runtime = Depends(runtime), p: Principal = Depends(principal)
) -> dict[str, Any]:
    result = await run_in_threadpool(index_store.reindex, rt, p)
    assert result is not None
    return result


@router.get("/cases", summary="案例库 Case library (search with q)")
async def cases(
    rt: Runtime = Depends(runtime),
    q: Annotated[str | None, Query(max_length=500)] = None,
    category: Annotated[
        str | None, Query(max_length=40, json_schema_extra={"enum": list(vocab.CATEGORIES)})
    ] = None,
    source: Annotated[
        str | None, Query(max_length=20, json_schema_extra={"enum": list(case_data.SOURCES)})
    ] = None,
    article: Annotated[
        str | None, Query(max_length=100, description="引用的条文，如：电信条例 32")
    ] = None,
    lesson: Annotated[str | None, Query(max_length=100, description="教训/要点中的词")] = None,
    verdict: Annotated[
        str | None,
        Query(max_length=8, json_schema_extra={"enum": list(case_data.VERDICTS)}),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    p: Principal = Depends(principal),
) -> dict[str, Any]:
    return await run_in_threadpool(
        lambda: library.list_cases(
            rt, q, category, source, limit, p, article=article, lesson=lesson, verdict=verdict
        )
    )


@router.get("/cases/{case_id}", summary="案例 One case")
async def case(
    case_id: Annotated[str, Field(max_length=40)],
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
) -> dict[str, Any]:
    return await run_in_threadpool(library.get_case, rt, case_id, p)


class PromoteIn(BaseModel):
    """A closed complaint to add to the case library (personal data is removed)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    complaint: Annotated[str, Field(min_length=1, max_length=20)]
    title: Annotated[str, Field(max_length=200)] | None = None
    facts: Annotated[str, Field(max_length=5000)] | None = None
    outcome: Text | None = None
    lessons: Annotated[list[Text], Field(max_length=10)] = []
    tags: Annotated[list[Annotated[str, Field(max_length=20)]], Field(max_length=10)] = []
    articles: Annotated[list[Citation], Field(max_length=8)] = []
    # Quality staff: a good or bad example to learn from (a lesson is then required).
    verdict: Literal["good", "bad"] | None = None


@router.post("/cases", status_code=201, summary="收入案例库 Promote a closed complaint")
async def promote(
    body: PromoteIn, rt: Runtime = Depends(runtime), p: Principal = Depends(principal)
) -> dict[str, Any]:
    data = body.model_dump()
    return await run_in_threadpool(promotion.promote, rt, data.pop("complaint"), data, p)


@router.get(
    "/complaints/{number}/obligations", summary="适用条文与义务 Obligations for a complaint"
)
async def obligations(
    number: str, rt: Runtime = Depends(runtime), p: Principal = Depends(principal)
) -> dict[str, Any]:
    return await run_in_threadpool(advice.obligations, rt, number, p)


class DraftIn(BaseModel):
    """What the handler decided; anything left out is taken from the complaint."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    outcome: Literal["upheld", "partial", "not_upheld", "explained"] | None = None
    findings: Text | None = None
    remedy: Text | None = None
    # What the remedy is when `remedy` is not typed (else the one proposed): it words the
    # complaint's amount (退费/减免/赔偿/补偿).
    remedy_kind: (
        Annotated[str, Field(json_schema_extra={"enum": list(vocab.REMEDY_KINDS)})] | None
    ) = None
    salutation: Annotated[str, Field(max_length=20)] | None = None
    citations: Annotated[list[Citation], Field(max_length=8)] = []


@router.post("/complaints/{number}/reply-draft", summary="答复函草稿 Draft a reply")
async def reply_draft(
    number: str,
    body: DraftIn | None = None,
    rt: Runtime = Depends(runtime),
    p: Principal = Depends(principal),
) -> dict[str, Any]:
    data = body.model_dump() if body else {}
    return await run_in_threadpool(advice.reply_draft, rt, number, data, p)
