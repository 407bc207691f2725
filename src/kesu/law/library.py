"""The case library: listing and searching cases, one case.

Packaged cases (data/law/cases/) and cases promoted from closed complaints
(law/promotion.py) live in law_cases; search ranks them with the process's
case index (law/index_store.py, law/search.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from kesu.accounts.roles import Actor, as_principal, require
from kesu.complaints import vocabulary as vocab
from kesu.law import cases as case_data
from kesu.law.citations import CitationError
from kesu.law.index_store import with_cases
from kesu.law.search import MAX_QUERY
from kesu.problems import Problem
from kesu.store import tables as t
from kesu.store.db import read

if TYPE_CHECKING:
    from kesu.runtime import Runtime


def _case_view(row: Mapping[str, Any], score: float | None = None) -> dict[str, Any]:
    out = {
        "id": row["id"],
        "source": row["source"],
        "source_name": case_data.SOURCE_NAMES.get(row["source"], row["source"]),
        "title": row["title"],
        "category": row["category"],
        "category_name": vocab.CATEGORIES.get(row["category"], {}).get("name"),
        "province": row["province"],
        "court": row["court"],
        "case_no": row["case_no"],
        "date": row["date"],
        "facts": row["facts"],
        "articles": row["articles"],
        "outcome": row["outcome"],
        "lessons": row["lessons"],
        "tags": row["tags"],
        "complaint_number": row["complaint_number"],
        "verdict": row.get("verdict"),
        "verdict_name": case_data.VERDICTS.get(row.get("verdict") or ""),
    }
    if score is not None:
        out["score"] = round(score, 4)
    return out


def list_cases(
    rt: Runtime,
    q: str | None = None,
    category: str | None = None,
    source: str | None = None,
    limit: int = 20,
    actor: Actor = "system",
    article: str | None = None,
    lesson: str | None = None,
    verdict: str | None = None,
) -> dict[str, Any]:
    """Cases by category, source, an article they cite (a citation: a case citing the
    article or one of its paragraphs matches), a word of their lessons, the verdict of
    quality staff (good/bad); ranked by `q` when given."""
    require(as_principal(actor), "law.read")
    if category is not None and category not in vocab.CATEGORIES:
        raise Problem(
            422,
            "unknown_category",
            "Unknown category",
            f"未知的分类“{category}”，可选：{'、'.join(vocab.CATEGORIES)}",
        )
    if source is not None and source not in case_data.SOURCES:
        raise Problem(
            422,
            "unknown_case_source",
            "Unknown source",
            f"未知的案例来源“{source}”，可选：{'、'.join(case_data.SOURCES)}",
        )
    if q is not None and len(q) > MAX_QUERY:
        raise Problem(422, "query_too_long", "Query too long", f"查询不能超过{MAX_QUERY}个字。")
    if verdict is not None and verdict not in case_data.VERDICTS:
        raise Problem(
            422,
            "unknown_verdict",
            "Unknown verdict",
            f"未知的案例评价“{verdict}”，可选：{'、'.join(case_data.VERDICTS)}",
        )
    st = with_cases(rt)
    assert st.cases_index is not None
    article_id = _article_id(st.corpus, article) if article and article.strip() else None
    word = (lesson or "").strip().lower() or None
    rows = st.cases_index.cases
    keep = [
        i
        for i, r in enumerate(rows)
        if (category is None or r["category"] == category)
        and (source is None or r["source"] == source)
        and (verdict is None or r.get("verdict") == verdict)
        and (article_id is None or case_data.cites(r["articles"], article_id))
        and (word is None or any(word in str(x).lower() for x in r["lessons"] or []))
    ]
    if q and q.strip():
        allowed = set(keep)
        ranked = [(i, s) for i, s in st.cases_index.query(q, len(rows)) if i in allowed][:limit]
        results = [_case_view(rows[i], s) for i, s in ranked]
    else:
        results = [_case_view(rows[i]) for i in keep[:limit]]
    return {"query": q, "total": len(keep), "results": results}


def _article_id(corpus, citation: str) -> str:
    try:
        return corpus.resolve(citation.strip()).id
    except CitationError as err:
        raise Problem(
            422,
            f"citation_{err.code}",
            "Citation not held",
            f"{err}。请按“法规简称 + 条号”填写，如：电信条例 32。",
        ) from None


def practice_pool(rt: Runtime) -> list[dict[str, Any]]:
    """Every case as the practice round needs it (id, source, category, title, facts,
    outcome, lessons, articles, verdict), reviewed examples (with a verdict) first."""
    st = with_cases(rt)
    assert st.cases_index is not None
    keys = ("id", "source", "category", "title", "facts", "outcome", "lessons", "articles")
    rows = [{**{k: r[k] for k in keys}, "verdict": r.get("verdict")} for r in st.cases_index.cases]
    return sorted(rows, key=lambda r: r["verdict"] is None)


def get_case(rt: Runtime, case_id: str, actor: Actor = "system") -> dict[str, Any]:
    require(as_principal(actor), "law.read")
    with read(rt.engine) as conn:
        row = conn.execute(select(t.law_cases).where(t.law_cases.c.id == case_id)).first()
    if row is None:
        raise Problem(404, "case_not_found", "Not found", f"案例 {case_id} 不存在。")
    return _case_view(row._mapping)
