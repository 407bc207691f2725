"""Ranking articles (and cases) for a colloquial Chinese query: BM25 on two fields.

Pure. Field one is jieba words, field two character bigrams (robust to words
jieba splits differently). The query is expanded with the legal wording of the
colloquial expressions it contains (data/law/synonyms.yaml) before scoring.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kesu.law import text as lt
from kesu.law.bm25 import BM25
from kesu.law.citations import Ref
from kesu.law.corpus import Article, Corpus

MAX_QUERY = 500  # the longest query (characters) the law services search for


@dataclass(frozen=True)
class Weights:
    expansion: float = 0.3  # a legal word added for a colloquial one
    bigram: float = 0.35  # the character-bigram field against the word field
    notes: float = 1.0  # the colloquial notes written for an article
    province_match: float = 1.5
    province_other: float = 0.3
    cases: float = 0.4  # articles cited by the closest cases, against the best text match
    case_neighbours: int = 3


@dataclass
class Query:
    words: dict[str, float]
    bigrams: dict[str, float]
    expansions: list[lt.Expansion]
    province: str | None
    terms: list[str]  # for highlighting, longest first


def _add(target: dict[str, float], tokens: Sequence[str], weight: float) -> None:
    for tok in tokens:
        target[tok] = max(target.get(tok, 0.0), weight)


def build_query(
    q: str, provinces: Sequence[tuple[str, str]], province: str | None, weights: Weights
) -> Query:
    words: dict[str, float] = {}
    grams: dict[str, float] = {}
    _add(words, lt.words(q), 1.0)
    _add(grams, lt.bigrams(q), 1.0)
    expansions = lt.expand(q)
    for exp in expansions:
        w = weights.expansion * exp.strength
        for legal in exp.legal:
            _add(words, lt.words(legal), w)
            _add(grams, lt.bigrams(legal), w)
    if province is None:
        norm = lt.normalize(q)
        province = next((name for name, short in provinces if short in norm), None)
    terms = sorted(
        {t for t in words if len(t) > 1},
        key=len,
        reverse=True,
    )
    return Query(words, grams, expansions, province, terms)


@dataclass
class Doc:
    ref: Ref
    article: Article | None
    regulation_title: str
    province: str | None


class ArticleIndex:
    """Every article (and annex item) of a corpus, searchable."""

    def __init__(
        self,
        corpus: Corpus,
        tokens: dict[str, list[str]] | None = None,
        weights: Weights | None = None,
        notes: Mapping[str, Sequence[str]] | None = None,
    ):
        self.corpus = corpus
        self.weights = weights or Weights()
        self.docs: list[Doc] = []
        word_docs: list[list[str]] = []
        gram_docs: list[list[str]] = []
        note_docs: list[list[str]] = []
        notes = notes or {}
        for reg in corpus.regulations.values():
            head = f"{reg.short_title} "
            for art in reg.articles.values():
                ref = Ref(reg.id, art.number)
                body = f"{head}{art.chapter} {art.text}"
                self.docs.append(Doc(ref, art, reg.title, reg.province))
                word_docs.append(tokens[ref.id] if tokens and ref.id in tokens else lt.words(body))
                gram_docs.append(lt.bigrams(body))
                note_docs.append(_note_tokens(notes.get(ref.id, ())))
            for item in reg.annex.values():
                ref = Ref(reg.id, annex=item.label)
                body = f"{head}{item.text}"
                self.docs.append(Doc(ref, None, reg.title, reg.province))
                word_docs.append(tokens[ref.id] if tokens and ref.id in tokens else lt.words(body))
                gram_docs.append(lt.bigrams(body))
                note_docs.append(_note_tokens(notes.get(ref.id, ())))
        self.words = BM25(word_docs)
        self.grams = BM25(gram_docs)
        self.notes = BM25(note_docs)
        self.has_notes = any(note_docs)
        self.provinces = sorted(
            {
                (r.province, r.province.removesuffix("省").removesuffix("市"))
                for r in corpus.regulations.values()
                if r.province
            }
        )

        self.position = {doc.ref.id: i for i, doc in enumerate(self.docs)}

    def search(
        self,
        q: str,
        limit: int = 10,
        province: str | None = None,
        cases: CaseIndex | None = None,
    ) -> dict[str, Any]:
        """Articles for a query, best first.

        With `cases`, the articles cited by the cases closest to the query add
        to the text match (scaled to it), which carries what the synonym list
        does not know of how people tell a situation.
        """
        query = build_query(q, self.provinces, province, self.weights)
        scores: dict[int, float] = {}
        self.words.scores(query.words, scores)
        self.grams.scores(query.bigrams, scores, self.weights.bigram)
        if self.has_notes and self.weights.notes:
            self.notes.scores(query.words, scores, self.weights.notes)
            self.notes.scores(query.bigrams, scores, self.weights.notes * self.weights.bigram)
        if cases is not None and self.weights.cases:
            top = max(scores.values(), default=0.0) or 1.0
            for article_id, prior in cases.article_prior(q, self.weights.case_neighbours).items():
                i = self.position.get(article_id)
                if i is not None:
                    scores[i] = scores.get(i, 0.0) + self.weights.cases * prior * top
        for i in list(scores):
            doc_province = self.docs[i].province
            if doc_province:
                scores[i] *= (
                    self.weights.province_match
                    if doc_province == query.province
                    else self.weights.province_other
                )
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
        results = []
        for i, score in ranked:
            doc = self.docs[i]
            quoted = self.corpus.quote(doc.ref)
            results.append(
                {
                    **quoted,
                    "highlight": highlight(quoted["text"], query.terms),
                    "score": round(score, 4),
                }
            )
        return {
            "query": q,
            "province": query.province,
            "understood_as": [
                {"said": e.colloquial, "law_terms": list(e.legal)} for e in query.expansions
            ],
            "results": results,
        }


def highlight(text: str, terms: Sequence[str], width: int = 120) -> str:
    """The best line of `text`, HTML-escaped, with the matched terms in <mark>."""
    lines = [ln for ln in text.split("\n") if ln.strip()] or [text]
    terms = [t for t in terms if t.strip()]

    def hits(line: str) -> int:
        low = lt.normalize(line)
        return sum(len(t) for t in terms if t in low)

    best = max(lines, key=hits)
    low = lt.normalize(best)
    positions = [low.find(t) for t in terms if t in low]
    start = max(0, min(positions) - 20) if positions else 0
    snippet = best[start : start + width]
    prefix = "…" if start > 0 else ""
    suffix = "…" if start + width < len(best) else ""
    if not terms:
        return prefix + html.escape(snippet) + suffix
    pattern = re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)))
    out, last = [], 0
    low_snip = lt.normalize(snippet)
    if len(low_snip) != len(snippet):  # normalisation changed lengths: mark nothing
        return prefix + html.escape(snippet) + suffix
    for m in pattern.finditer(low_snip):
        out.append(html.escape(snippet[last : m.start()]))
        out.append(f"<mark>{html.escape(snippet[m.start() : m.end()])}</mark>")
        last = m.end()
    out.append(html.escape(snippet[last:]))
    return prefix + "".join(out) + suffix


def _note_tokens(notes: Sequence[str]) -> list[str]:
    out: list[str] = []
    for note in notes:
        out += lt.words(note) + lt.bigrams(note)
    return out


class CaseIndex:
    """Cases searchable by their title, facts and tags; and the articles they cite."""

    def __init__(self, cases: Sequence[Mapping[str, Any]]):
        self.cases = list(cases)
        docs = []
        for c in self.cases:
            text = " ".join([c["title"], c["title"], c["facts"], " ".join(c.get("tags") or [])])
            docs.append(lt.words(text) + lt.bigrams(c["title"] + c["facts"]))
        self.bm25 = BM25(docs)

    def query(self, q: str, limit: int = 10) -> list[tuple[int, float]]:
        weights: dict[str, float] = {w: 1.0 for w in [*lt.words(q), *lt.bigrams(q)]}
        for e in lt.expand(q):
            for legal in e.legal:
                for w in lt.words(legal):
                    weights.setdefault(w, 0.6 * e.strength)
        scores: dict[int, float] = {}
        self.bm25.scores(weights, scores)
        return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]

    def article_prior(self, q: str, neighbours: int = 5) -> dict[str, float]:
        """Article id → weight from the closest cases (their share of the top score)."""
        top = self.query(q, neighbours)
        if not top:
            return {}
        best = top[0][1]
        prior: dict[str, float] = {}
        for i, score in top:
            for a in self.cases[i]["articles"]:
                article_id = _article_of(a["id"])
                prior[article_id] = prior.get(article_id, 0.0) + score / best / len(top)
        return prior


def _article_of(provision_id: str) -> str:
    """dianxin-tiaoli/a34/p4 → dianxin-tiaoli/a34 (annex ids stay)."""
    parts = provision_id.split("/")
    return "/".join(parts[:2])
