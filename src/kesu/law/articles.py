"""Reading the regulations: what is held, one article by its citation, search.

Served from the process's state (law/index_store.py). Search adds the case
library's closest cases to the text match (law/search.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kesu.accounts.roles import Actor, as_principal, require
from kesu.complaints import vocabulary as vocab
from kesu.law.citations import CitationError, Ref
from kesu.law.index_store import state, with_cases
from kesu.law.search import MAX_QUERY
from kesu.problems import Problem

if TYPE_CHECKING:
    from kesu.runtime import Runtime


def regulations(rt: Runtime, actor: Actor = "system") -> list[dict[str, Any]]:
    require(as_principal(actor), "law.read")
    corpus = state(rt).corpus
    return [
        {
            "id": reg.id,
            "title": reg.title,
            "short_title": reg.short_title,
            "province": reg.province,
            "complete": reg.complete,
            "articles": len(reg.articles),
            "partial_articles": sum(1 for a in reg.articles.values() if a.partial),
            "annex_items": len(reg.annex),
            "held": reg.held,
            "issuer": reg.meta.get("issuer"),
            "document_number": reg.meta.get("document_number"),
            "effective": reg.meta.get("effective"),
            "files": reg.files,
        }
        for reg in corpus.regulations.values()
    ]


def article(rt: Runtime, citation: str, actor: Actor = "system") -> dict[str, Any]:
    require(as_principal(actor), "law.read")
    corpus = state(rt).corpus
    try:
        ref = corpus.resolve(citation)
    except CitationError as err:
        status = 404 if err.code == "not_held" else 422
        detail = str(err)
        if err.code == "not_held":
            detail += "。系统只引用已收录原文的条文，不凭记忆补写。"
        raise Problem(status, f"article_{err.code}", "Article not found", detail) from None
    out = corpus.quote(ref)
    reg = corpus.regulations[ref.regulation]
    if ref.article is not None:
        art = reg.articles[ref.article]
        out["chapter"] = art.chapter
        out["paragraphs"] = [
            {
                "number": p.number,
                "citation": corpus.format(Ref(reg.id, art.number, p.number)),
                "text": p.text,
                "items": [
                    {
                        "number": it.number,
                        "citation": corpus.format(Ref(reg.id, art.number, p.number, it.number)),
                        "text": it.text,
                    }
                    for it in p.items
                ],
            }
            for p in art.paragraphs
        ]
    out["regulation_held"] = reg.held
    out["regulation_complete"] = reg.complete
    return out


def search(
    rt: Runtime, q: str, limit: int = 10, province: str | None = None, actor: Actor = "system"
) -> dict[str, Any]:
    require(as_principal(actor), "law.read")
    q = (q or "").strip()
    if not q:
        raise Problem(422, "empty_query", "Empty query", "请输入要查找的问题或关键词。")
    if len(q) > MAX_QUERY:
        raise Problem(422, "query_too_long", "Query too long", f"查询不能超过{MAX_QUERY}个字。")
    if province is not None:
        name = vocab.normalize_province(province)
        if name is None:
            raise Problem(422, "unknown_province", "Unknown province", f"未知的省份“{province}”。")
        province = name
    st = with_cases(rt)
    out = st.articles.search(q, limit=limit, province=province, cases=st.cases_index)
    out["notice"] = (
        "结果只来自系统收录的法规原文；节录文本中未收录的条文不会出现，"
        "标记为“不完整”的条文请核对全文后再引用。"
    )
    return out
