"""How alike two complaint texts are (pure): the cosine of their classifier vectors
(character 1–3-grams and jieba words, tf·idf weighted as the shipped model weighs them).
1.0 for the same text, about 0.2–0.3 for the same matter told in other words, near 0
for different matters. Used to tell a likely duplicate across channels
(complaints.lookups.likely_duplicates)."""

from __future__ import annotations

from kesu.triage.model import Classifier


def similarity(clf: Classifier, a: str, b: str) -> float:
    """Cosine similarity of the two texts' vectors, 0.0–1.0."""
    (ia, va), (ib, vb) = clf.vectors([a, b])
    weights = dict(zip(ia.tolist(), va.tolist(), strict=True))
    score = sum(weights.get(i, 0.0) * w for i, w in zip(ib.tolist(), vb.tolist(), strict=True))
    return round(min(max(float(score), 0.0), 1.0), 4)
