"""The law slice's store and per-process state: files → law_* tables → search index.

The regulations, article notes and packaged cases are indexed into the
database (`kesu law reindex`, and at start-up when the files changed; the
reindex holds an advisory lock on PostgreSQL), so every process serves the
same version. Each process keeps what it builds from those rows — the corpus,
the article search index, the obligation rules, the reply templates, and the
case index — and rebuilds it when the stored fingerprint changes (checked at
most every CHECK_TTL seconds).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, insert, select, text, update

from kesu.accounts.audit import audit
from kesu.accounts.roles import Actor, as_principal, require
from kesu.clock import BEIJING
from kesu.complaints import vocabulary as vocab
from kesu.data_files import DATA_DIR, load_yaml
from kesu.law import cases as case_data
from kesu.law import loader, replies
from kesu.law import obligations as ob
from kesu.law import text as lt
from kesu.law.corpus import AnnexItem, Article, Corpus, Item, Paragraph, Regulation
from kesu.law.search import ArticleIndex, CaseIndex
from kesu.store import tables as t
from kesu.store.db import read, write

if TYPE_CHECKING:
    from kesu.runtime import Runtime

LAW_DATA = DATA_DIR / "law"
_SEARCH_DATA = ("userdict.txt", "synonyms.yaml", "titles.yaml")
CHECK_TTL = 10.0


# -- indexing -----------------------------------------------------------------


def regulation_dirs(rt: Runtime) -> list[Path]:
    return [loader.REGULATIONS_DIR, Path(rt.settings.law_dir)]


def files_fingerprint(rt: Runtime) -> str:
    h = hashlib.sha256()
    h.update(loader.fingerprint_input(regulation_dirs(rt)))
    for name in _SEARCH_DATA:
        path = LAW_DATA / name
        if path.exists():
            h.update(name.encode() + path.read_bytes())
    for path in [*case_data.case_files(), *loader.notes_files()]:
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
    corpus = loader.load(list(dirs))
    say(f"已解析 {len(corpus.regulations)} 部法规，正在分词")
    notes = loader.load_notes(corpus)
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
                        load_yaml("law/replies.yaml"),
                        corpus,
                        list(vocab.CATEGORIES),
                        list(vocab.REMEDY_KINDS),
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


# -- the case index ------------------------------------------------------------


def with_cases(rt: Runtime) -> LawState:
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
