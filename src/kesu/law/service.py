"""The law slice's service: index, search, articles, obligations, cases, reply drafts.

The regulations are indexed into the database (`kesu law reindex`, and at
start-up when the files changed), so every process serves the same version;
each process keeps an in-memory search index built from those rows and
rebuilt when the stored fingerprint changes.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, insert, select, text, update

from kesu.accounts import masking
from kesu.accounts.audit import audit
from kesu.accounts.roles import Actor, as_principal, require, require_any
from kesu.clock import BEIJING
from kesu.complaints import vocabulary as vocab
from kesu.data_files import DATA_DIR, load_yaml
from kesu.law import cases as case_data
from kesu.law import corpus as law_corpus
from kesu.law import obligations as ob
from kesu.law import replies
from kesu.law import text as lt
from kesu.law.corpus import (
    AnnexItem,
    Article,
    CitationError,
    Corpus,
    Item,
    Paragraph,
    Regulation,
)
from kesu.law.search import ArticleIndex, CaseIndex
from kesu.problems import Problem
from kesu.store import tables as t
from kesu.store.db import read, write

if TYPE_CHECKING:
    from kesu.runtime import Runtime

LAW_DATA = DATA_DIR / "law"
_SEARCH_DATA = ("userdict.txt", "synonyms.yaml", "titles.yaml")
CHECK_TTL = 10.0
MAX_QUERY = 500


# -- indexing -----------------------------------------------------------------


def regulation_dirs(rt: Runtime) -> list[Path]:
    return [law_corpus.REGULATIONS_DIR, Path(rt.settings.law_dir)]


def files_fingerprint(rt: Runtime) -> str:
    h = hashlib.sha256()
    h.update(law_corpus.fingerprint_input(regulation_dirs(rt)))
    for name in _SEARCH_DATA:
        path = LAW_DATA / name
        if path.exists():
            h.update(name.encode() + path.read_bytes())
    for path in [*case_data.case_files(), *law_corpus.notes_files()]:
        h.update(path.name.encode() + path.read_bytes())
    return h.hexdigest()[:32]


def stored_fingerprint(conn) -> str | None:
    return conn.execute(select(t.law_index.c.fingerprint).where(t.law_index.c.id == 1)).scalar()


def reindex(
    rt: Runtime,
    actor: Actor = "system",
    progress: Callable[[str], None] | None = None,
    only_if_changed: bool = False,
) -> dict[str, Any] | None:
    """Parse the regulation files and packaged cases and store them; returns a summary.

    Concurrent reindexes (several processes starting) are serialised; with
    `only_if_changed` the later ones find the work done and return None.
    """
    p = as_principal(actor)
    require(p, "law.reindex")
    say = progress or (lambda _msg: None)
    say("读取法规文件")
    fingerprint = files_fingerprint(rt)
    corpus, article_rows, packaged_cases = _prepare(fingerprint, tuple(regulation_dirs(rt)), say)
    now = rt.clock()
    with write(rt.engine) as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(7303)"))
        if only_if_changed and stored_fingerprint(conn) == fingerprint:
            return None
        conn.execute(delete(t.law_articles))
        conn.execute(delete(t.law_regulations))
        conn.execute(
            insert(t.law_regulations),
            [
                {
                    "id": reg.id,
                    "position": i,
                    "title": reg.title,
                    "short_title": reg.short_title,
                    "aliases": list(reg.aliases),
                    "province": reg.province,
                    "complete": reg.complete,
                    "files": reg.files,
                    "meta": reg.meta,
                }
                for i, reg in enumerate(corpus.regulations.values())
            ],
        )
        if article_rows:
            conn.execute(insert(t.law_articles), article_rows)
        conn.execute(delete(t.law_cases).where(t.law_cases.c.source != "promoted"))
        if packaged_cases:
            conn.execute(
                insert(t.law_cases),
                [
                    {**c, "complaint_number": None, "created_at": now, "created_by": "kesu"}
                    for c in packaged_cases
                ],
            )
        # Promoted cases cite articles too: flag those we no longer hold.
        cases_total = conn.execute(select(func.count()).select_from(t.law_cases)).scalar() or 0
        values = {
            "fingerprint": fingerprint,
            "indexed_at": now,
            "indexed_by": p.name,
            "regulations": len(corpus.regulations),
            "articles": len(article_rows),
            "cases": cases_total,
        }
        audit(
            conn,
            p,
            now,
            "law.reindex",
            None,
            None,
            {"regulations": len(corpus.regulations), "articles": len(article_rows)},
        )
        if (
            conn.execute(update(t.law_index).where(t.law_index.c.id == 1).values(**values)).rowcount
            == 0
        ):
            conn.execute(insert(t.law_index).values(id=1, **values))
    invalidate(rt)
    say("完成")
    return {
        "fingerprint": fingerprint,
        "regulations": len(corpus.regulations),
        "articles": len(article_rows),
        "cases": cases_total,
        "indexed_at": now.astimezone(BEIJING).isoformat(),
    }


_prepared: dict[str, tuple[Corpus, list[dict[str, Any]], list[dict[str, Any]]]] = {}


def _prepare(
    fingerprint: str, dirs: tuple[Path, ...], say: Callable[[str], None]
) -> tuple[Corpus, list[dict[str, Any]], list[dict[str, Any]]]:
    """Parsed regulations, their rows and the packaged cases for one set of files.

    Kept per process by fingerprint: the same files give the same rows.
    """
    hit = _prepared.get(fingerprint)
    if hit is not None:
        return hit
    corpus = law_corpus.load(list(dirs))
    say(f"已解析 {len(corpus.regulations)} 部法规，正在分词")
    notes = law_corpus.load_notes(corpus)
    article_rows: list[dict[str, Any]] = []
    for reg in corpus.regulations.values():
        position = 0
        for art in reg.articles.values():
            position += 1
            article_rows.append(_article_row(reg, art, position, notes.get(art.id, [])))
        for item in reg.annex.values():
            position += 1
            article_rows.append(_annex_row(reg, item, position, notes.get(item.id, [])))
    say("校验案例库")
    packaged_cases = case_data.load_packaged(corpus, vocab.CATEGORIES)
    _prepared.clear()
    _prepared[fingerprint] = (corpus, article_rows, packaged_cases)
    return _prepared[fingerprint]


def _article_row(reg: Regulation, art: Article, position: int, notes: list[str]) -> dict[str, Any]:
    body = f"{reg.short_title} {art.chapter} {art.text}"
    return {
        "id": art.id,
        "regulation_id": reg.id,
        "position": position,
        "kind": "article",
        "number": art.number,
        "label": art.label,
        "note": art.note,
        "chapter": art.chapter,
        "paragraphs": [
            {"text": p.text, "items": [[it.number, it.text] for it in p.items]}
            for p in art.paragraphs
        ],
        "partial": art.partial,
        "tokens": _tokens(body),
        "notes": notes,
    }


@lru_cache(maxsize=8192)
def _tokens_cached(body: str) -> tuple[str, ...]:
    return tuple(lt.words(body))


def _tokens(body: str) -> list[str]:
    return list(_tokens_cached(body))


def _annex_row(reg: Regulation, item: AnnexItem, position: int, notes: list[str]) -> dict[str, Any]:
    return {
        "id": item.id,
        "regulation_id": reg.id,
        "position": position,
        "kind": "annex",
        "number": None,
        "label": item.label,
        "note": "",
        "chapter": item.heading,
        "paragraphs": [{"text": item.text, "items": []}],
        "partial": item.partial,
        "tokens": _tokens(f"{reg.short_title} {item.text}"),
        "notes": notes,
    }


def ensure_indexed(rt: Runtime, actor: Actor = "system") -> dict[str, Any] | None:
    """Reindex when the files differ from what the database holds (start-up)."""
    with read(rt.engine) as conn:
        stored = stored_fingerprint(conn)
    if stored == files_fingerprint(rt):
        return None
    return reindex(rt, actor, only_if_changed=True)


# -- the per-process state ----------------------------------------------------


@dataclass
class LawState:
    key: tuple[Any, ...]
    corpus: Corpus
    articles: ArticleIndex
    obligations: list[ob.Rule]
    templates: replies.Templates
    cases_key: tuple[Any, ...] = ()
    cases_index: CaseIndex | None = None
    cases_checked: float = 0.0


_lock = threading.Lock()
# What the stored index builds into, per fingerprint: the same rows give the same
# search index, so runtimes on several databases (tests) or restarts share it.
_built: dict[str, tuple[Corpus, ArticleIndex, list[ob.Rule], replies.Templates]] = {}


def _corpus_from_db(conn) -> tuple[Corpus, dict[str, list[str]], dict[str, list[str]]]:
    fingerprint = stored_fingerprint(conn) or ""
    regs: dict[str, Regulation] = {}
    for r in conn.execute(select(t.law_regulations).order_by(t.law_regulations.c.position)):
        regs[r.id] = Regulation(
            id=r.id,
            title=r.title,
            short_title=r.short_title,
            aliases=tuple(r.aliases),
            province=r.province,
            complete=r.complete,
            files=list(r.files),
            meta=dict(r.meta),
        )
    tokens: dict[str, list[str]] = {}
    notes: dict[str, list[str]] = {}
    rows = conn.execute(
        select(t.law_articles).order_by(t.law_articles.c.regulation_id, t.law_articles.c.position)
    )
    for a in rows:
        reg = regs[a.regulation_id]
        tokens[a.id] = list(a.tokens)
        if a.notes:
            notes[a.id] = list(a.notes)
        if a.kind == "annex":
            p = a.paragraphs[0]
            reg.annex[a.label] = AnnexItem(reg.id, a.label, a.chapter, p["text"], a.partial)
            continue
        paragraphs = tuple(
            Paragraph(i + 1, p["text"], tuple(Item(n, txt) for n, txt in p["items"]))
            for i, p in enumerate(a.paragraphs)
        )
        reg.articles[a.number] = Article(
            reg.id, a.number, a.label, a.chapter, paragraphs, a.partial, a.note
        )
    return Corpus(regs.values(), fingerprint), tokens, notes


def state(rt: Runtime) -> LawState:
    now = time.monotonic()
    current: LawState | None = getattr(rt, "_law_state", None)
    if current is not None and now - getattr(rt, "_law_checked", 0.0) < CHECK_TTL:
        return current
    with _lock:
        with read(rt.engine) as conn:
            row = conn.execute(
                select(t.law_index.c.fingerprint, t.law_index.c.indexed_at).where(
                    t.law_index.c.id == 1
                )
            ).first()
        if row is None:
            ensure_indexed(rt)
            with read(rt.engine) as conn:
                row = conn.execute(
                    select(t.law_index.c.fingerprint, t.law_index.c.indexed_at).where(
                        t.law_index.c.id == 1
                    )
                ).first()
        key = (row.fingerprint, row.indexed_at) if row else ()
        current = getattr(rt, "_law_state", None)
        if current is None or current.key != key:
            built = _built.get(key[0] if key else "")
            if built is None:
                with read(rt.engine) as conn:
                    corpus, tokens, notes = _corpus_from_db(conn)
                built = (
                    corpus,
                    ArticleIndex(corpus, tokens, notes=notes),
                    ob.parse_rules(
                        load_yaml("law/obligations.yaml"),
                        corpus,
                        list(rt.rules),
                        list(vocab.CATEGORIES),
                    ),
                    replies.parse_templates(
                        load_yaml("law/replies.yaml"), corpus, list(vocab.CATEGORIES)
                    ),
                )
                _built.clear()
                _built[key[0] if key else ""] = built
            corpus, articles, rules, templates = built
            current = LawState(
                key=key, corpus=corpus, articles=articles, obligations=rules, templates=templates
            )
            rt._law_state = current  # type: ignore[attr-defined]
        rt._law_checked = now  # type: ignore[attr-defined]
        return current


def invalidate(rt: Runtime) -> None:
    rt._law_checked = 0.0  # type: ignore[attr-defined]


# -- regulations and articles -------------------------------------------------


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
                "citation": corpus.format(law_corpus.Ref(reg.id, art.number, p.number)),
                "text": p.text,
                "items": [
                    {
                        "number": it.number,
                        "citation": corpus.format(
                            law_corpus.Ref(reg.id, art.number, p.number, it.number)
                        ),
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
    st = _cases(rt)
    out = st.articles.search(q, limit=limit, province=province, cases=st.cases_index)
    out["notice"] = (
        "结果只来自系统收录的法规原文；节录文本中未收录的条文不会出现，"
        "标记为“不完整”的条文请核对全文后再引用。"
    )
    return out


# -- obligations ----------------------------------------------------------------


def _complaint(conn, number: str, p=None):
    row = conn.execute(select(t.complaints).where(t.complaints.c.number == number)).first()
    hidden = p is not None and (
        (p.scope == "org" and row is not None and row.reseller != p.org)
        or (p.scope == "own" and row is not None and row.customer_phone_hash != p.phone_hash)
    )
    if row is None or hidden:
        raise Problem(404, "complaint_not_found", "Not found", f"投诉单 {number} 不存在。")
    return row


def _facts(conn, row) -> ob.Facts:
    from kesu.triage.extract import extract

    text = " ".join(x for x in (row.title, row.description, row.demands) if x)
    durations = tuple(
        float(d["hours"]) for d in extract(text)["durations"] if d.get("hours") is not None
    )
    deadlines = {
        d.rule: bool(d.breached)
        for d in conn.execute(
            select(t.deadlines.c.rule, t.deadlines.c.breached).where(
                t.deadlines.c.complaint_id == row.id
            )
        )
    }
    return ob.Facts(
        category=row.category,
        kind=row.kind,
        text=text,
        flags=frozenset(row.risk_flags or ()),
        province=row.customer_province,
        area=row.customer_area or "urban",
        channel_level=row.channel_level,
        durations_hours=durations,
        deadlines=deadlines,
        category_name=vocab.CATEGORIES.get(row.category or "", {}).get("name"),
    )


def obligations(rt: Runtime, number: str, actor: Actor = "system") -> dict[str, Any]:
    p = as_principal(actor)
    require(p, "law.read")
    st = state(rt)
    with read(rt.engine) as conn:
        row = _complaint(conn, number, p)
        facts = _facts(conn, row)
        due = {
            d.rule: d
            for d in conn.execute(select(t.deadlines).where(t.deadlines.c.complaint_id == row.id))
        }
    applied = ob.evaluate(st.obligations, facts)
    now = rt.clock()
    items = []
    for a in applied:
        rule = a.rule
        duties = []
        for duty in rule.duties:
            linked = []
            for rid in duty.get("deadline_rules", []):
                r = rt.rules.get(rid)
                d = due.get(rid)
                linked.append(
                    {
                        "rule": rid,
                        "name": r.name if r else rid,
                        "on_this_complaint": d is not None,
                        "due_at": d.due_at.astimezone(BEIJING).isoformat()
                        if d is not None
                        else None,
                        "state": None if d is None else _deadline_state(d, now),
                    }
                )
            duties.append({"text": duty["text"], "deadlines": linked})
        reason = rule.reason
        if a.evidence:
            reason += "（" + "；".join(a.evidence) + "）"
        items.append(
            {
                "id": rule.id,
                "title": rule.title,
                "reason": reason,
                "evidence": list(a.evidence),
                "risk": rule.risk,
                "risk_name": ob.RISK_NAMES[rule.risk],
                "articles": [st.corpus.quote(c) for c in rule.articles],
                "duties": duties,
                "remedies": list(rule.remedies),
            }
        )
    level = ob.legal_risk(applied, facts.flags)
    return {
        "number": number,
        "legal_risk": level,
        "legal_risk_name": ob.RISK_NAMES[level],
        "obligations": items,
    }


def _deadline_state(d, now: datetime) -> str:
    if d.met_at is not None:
        return "met"
    if d.breached or d.due_at < now:
        return "breached"
    return "open"


# -- cases -----------------------------------------------------------------------


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
    }
    if score is not None:
        out["score"] = round(score, 4)
    return out


def _cases(rt: Runtime) -> LawState:
    """The state with a case index that reflects the library (re-read when it changed)."""
    st = state(rt)
    now = time.monotonic()
    if st.cases_index is not None and now - st.cases_checked < CHECK_TTL:
        return st
    with read(rt.engine) as conn:
        key = tuple(
            conn.execute(
                select(func.count(), func.max(t.law_cases.c.created_at)).select_from(t.law_cases)
            ).one()
        )
        if key != st.cases_key or st.cases_index is None:
            rows = [
                dict(r._mapping)
                for r in conn.execute(select(t.law_cases).order_by(t.law_cases.c.id))
            ]
            index = CaseIndex(rows)
            with _lock:
                st.cases_index, st.cases_key = index, key
    st.cases_checked = now
    return st


def list_cases(
    rt: Runtime,
    q: str | None = None,
    category: str | None = None,
    source: str | None = None,
    limit: int = 20,
    actor: Actor = "system",
) -> dict[str, Any]:
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
    st = _cases(rt)
    assert st.cases_index is not None
    rows = st.cases_index.cases
    keep = [
        i
        for i, r in enumerate(rows)
        if (category is None or r["category"] == category)
        and (source is None or r["source"] == source)
    ]
    if q and q.strip():
        allowed = set(keep)
        ranked = [(i, s) for i, s in st.cases_index.query(q, len(rows)) if i in allowed][:limit]
        results = [_case_view(rows[i], s) for i, s in ranked]
    else:
        results = [_case_view(rows[i]) for i in keep[:limit]]
    return {"query": q, "total": len(keep), "results": results}


def get_case(rt: Runtime, case_id: str, actor: Actor = "system") -> dict[str, Any]:
    require(as_principal(actor), "law.read")
    with read(rt.engine) as conn:
        row = conn.execute(select(t.law_cases).where(t.law_cases.c.id == case_id)).first()
    if row is None:
        raise Problem(404, "case_not_found", "Not found", f"案例 {case_id} 不存在。")
    return _case_view(row._mapping)


def promote(rt: Runtime, number: str, body: Mapping[str, Any], actor: Actor) -> dict[str, Any]:
    """Add a closed complaint to the case library, personal data stripped."""
    p = as_principal(actor)
    require(p, "case.promote")
    st = state(rt)
    now = rt.clock()
    citations = []
    for c in body.get("articles") or []:
        try:
            ref = st.corpus.resolve(c)
        except CitationError as err:
            raise Problem(
                422,
                f"citation_{err.code}",
                "Citation not held",
                f"{err}。案例只能引用系统已收录原文的条文。",
            ) from None
        citations.append({"citation": st.corpus.format(ref), "id": ref.id, "why": None})
    with write(rt.engine) as conn:
        row = _complaint(conn, number, p)
        if row.status != "closed":
            raise Problem(
                409,
                "case_needs_closed_complaint",
                "Not closed",
                f"投诉单 {number} 尚未归档（当前状态：{vocab.STATUSES[row.status]['name']}），"
                "只有已归档的投诉可以收入案例库。",
            )
        if conn.execute(
            select(t.law_cases.c.id).where(t.law_cases.c.complaint_number == number)
        ).first():
            raise Problem(
                409, "case_exists", "Already in the library", f"投诉单 {number} 已收入案例库。"
            )
        if not citations:
            facts = _facts(conn, row)
            seen: set[str] = set()
            for a in ob.evaluate(st.obligations, facts):
                for c in a.rule.articles:
                    ref = st.corpus.resolve(c)
                    if ref.id not in seen and len(citations) < 4:
                        seen.add(ref.id)
                        citations.append(
                            {"citation": st.corpus.format(ref), "id": ref.id, "why": a.rule.title}
                        )
        names = [n for n in (row.customer_name,) if n]
        extra = [x for x in (row.customer_phone, row.customer_account) if x]

        def clean(text: str | None) -> str:
            return case_data.scrub(text or "", names=names, extra=extra)

        outcome = body.get("outcome") or row.resolution or "【请补充处理结果】"
        if row.compensation:
            outcome = f"{outcome}（补偿 {Decimal(row.compensation):.2f} 元）"
        case = {
            "id": f"cmp-{number}",
            "source": "promoted",
            "title": clean(body.get("title") or row.title or row.description[:30]),
            "category": row.category or "other",
            "province": row.customer_province,
            "court": None,
            "case_no": None,
            "date": row.closed_at.astimezone(BEIJING).date().isoformat() if row.closed_at else None,
            "facts": clean(body.get("facts") or row.description),
            "articles": citations,
            "outcome": clean(outcome),
            "lessons": [clean(x) for x in body.get("lessons") or []],
            "tags": [clean(x) for x in body.get("tags") or []],
            "complaint_number": number,
            "created_at": now,
            "created_by": p.name,
        }
        conn.execute(insert(t.law_cases).values(**case))
        audit(conn, p, now, "case.promote", "complaint", number, {"case": case["id"]})
        from kesu.complaints.service import record_event

        record_event(conn, row, now, "promoted_to_case", p.name, {"case": case["id"]})
    st.cases_checked = 0.0  # this process sees the new case at once; others within CHECK_TTL
    return get_case(rt, case["id"])


# -- reply drafts -------------------------------------------------------------------


def _salutation(name: str | None) -> str:
    return "客户"


def reply_draft(rt: Runtime, number: str, body: Mapping[str, Any], actor: Actor) -> dict[str, Any]:
    p = as_principal(actor)
    st = state(rt)
    extra = tuple(body.get("citations") or ())
    for c in extra:
        try:
            st.corpus.resolve(c)
        except CitationError as err:
            raise Problem(
                422,
                f"citation_{err.code}",
                "Citation not held",
                f"{err}。草稿只引用系统已收录原文的条文。",
            ) from None
    now = rt.clock()
    with write(rt.engine) as conn:
        row = _complaint(conn, number, p)  # out of scope: 404 before anything else
        # Drafting a reply is part of handling (it is recorded on the complaint).
        require_any(p, ["complaint.handle", "complaint.answer"], "起草答复函")
        outcome = body.get("outcome") or ("upheld" if row.compensation else "explained")
        remedy = masking.text(body.get("remedy") or "") or ""
        if not remedy and row.compensation:
            remedy = f"给予您补偿 {Decimal(row.compensation):.2f} 元。"
        findings = masking.text(body.get("findings") or row.resolution or "") or ""
        problem = masking.text((row.description or "").strip()) or ""
        if len(problem) > 300:
            problem = problem[:300] + "……"
        draft = replies.render(
            st.templates,
            st.corpus,
            replies.DraftInput(
                number=row.number,
                category=row.category,
                outcome=outcome,
                customer=body.get("salutation") or _salutation(row.customer_name),
                received_date=_cn_date(row.received_at),
                problem=problem,
                demands=masking.text((row.demands or "").strip()) or "",
                findings=findings,
                remedy=remedy,
                company=rt.settings.company_name,
                hotline=rt.settings.hotline,
                extra_citations=extra,
                province=row.customer_province,
            ),
        )
        from kesu.complaints.service import record_event

        record_event(
            conn,
            row,
            now,
            "reply_drafted",
            p.name,
            {
                "template": draft["template"],
                "outcome": outcome,
                "citations": [c["citation"] for c in draft["citations"]],
            },
        )
    draft["number"] = number
    return draft


def _cn_date(value: datetime) -> str:
    d = value.astimezone(BEIJING)
    return f"{d.year}年{d.month}月{d.day}日"
