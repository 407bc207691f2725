"""Okapi BM25 over token lists: the ranking function of article, case and synonym search.

Pure. Documents are lists of tokens (words, character bigrams, notes); a query is
a weight per token, and scores accumulate into a dict so that several fields
(and several indexes) can add up into one ranking.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence


class BM25:
    def __init__(self, docs: Sequence[Sequence[str]], k1: float = 1.2, b: float = 0.75):
        self.n = len(docs)
        self.k1, self.b = k1, b
        lengths = [len(d) for d in docs]
        self.avgdl = (sum(lengths) / self.n) if self.n else 1.0
        self.postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for i, doc in enumerate(docs):
            norm = k1 * (1 - b + b * lengths[i] / (self.avgdl or 1.0))
            for term, tf in Counter(doc).items():
                self.postings[term].append((i, tf * (k1 + 1) / (tf + norm)))
        self.idf = {
            term: math.log(1 + (self.n - len(p) + 0.5) / (len(p) + 0.5))
            for term, p in self.postings.items()
        }

    def scores(self, query: dict[str, float], into: dict[int, float], weight: float = 1.0) -> None:
        for term, w in query.items():
            postings = self.postings.get(term)
            if not postings:
                continue
            f = self.idf[term] * w * weight
            for doc, part in postings:
                into[doc] = into.get(doc, 0.0) + f * part
