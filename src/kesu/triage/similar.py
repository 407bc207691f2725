"""Similar past complaints: cosine similarity over the classifier's character n-grams.

Each process keeps a sparse matrix of the complaints' texts (title + description),
built on first use and extended with the complaints registered since (by id) at
every query. Texts are weighted with the shipped model's idf, so no second
vocabulary is kept. Only character features are used here (no word
segmentation), which keeps indexing a hundred thousand complaints to seconds.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import sparse

from kesu.complaints import lookups
from kesu.store.db import read
from kesu.triage.features import normalize
from kesu.triage.model import Classifier

if TYPE_CHECKING:
    from kesu.runtime import Runtime

_BATCH = 20_000


def _char_features(text: str, vocab: dict[str, int]) -> Counter[int]:
    compact = normalize(text).replace(" ", "")
    grams = (f"c:{compact[i : i + n]}" for n in (2, 3) for i in range(len(compact) - n + 1))
    return Counter(i for g in grams if (i := vocab.get(g)) is not None)


class SimilarIndex:
    def __init__(self, clf: Classifier) -> None:
        self.clf = clf
        self.ids: list[int] = []
        self.numbers: list[str] = []
        self.matrix = sparse.csr_matrix((0, len(clf.vocab)), dtype=np.float32)
        self.last_id = 0
        self._lock = threading.Lock()

    def _rows(self, texts: list[str]) -> sparse.csr_matrix:
        data, indices, indptr = [], [], [0]
        idf = self.clf.idf
        for text in texts:
            counts = _char_features(text, self.clf.vocab)
            if counts:
                idx = np.fromiter(counts.keys(), dtype=np.int32, count=len(counts))
                val = (
                    1.0 + np.log(np.fromiter(counts.values(), dtype=np.float32, count=len(counts)))
                ) * idf[idx]
                val /= np.linalg.norm(val)
                indices.append(idx)
                data.append(val.astype(np.float32))
                indptr.append(indptr[-1] + len(idx))
            else:
                indptr.append(indptr[-1])
        return sparse.csr_matrix(
            (
                np.concatenate(data) if data else np.zeros(0, np.float32),
                np.concatenate(indices) if indices else np.zeros(0, np.int32),
                np.array(indptr, dtype=np.int64),
            ),
            shape=(len(texts), len(self.clf.vocab)),
        )

    def refresh(self, rt: Runtime) -> None:
        """Add the complaints registered since the last refresh."""
        with self._lock:
            while True:
                with read(rt.engine) as conn:
                    rows = lookups.texts_after(conn, self.last_id, _BATCH)
                if not rows:
                    return
                block = self._rows([f"{r.title or ''}{r.description}" for r in rows])
                self.matrix = sparse.vstack([self.matrix, block], format="csr")
                self.ids += [r.id for r in rows]
                self.numbers += [r.number for r in rows]
                self.last_id = rows[-1].id
                if len(rows) < _BATCH:
                    return

    def query(
        self, rt: Runtime, text: str, k: int = 5, exclude: str | None = None
    ) -> list[dict[str, Any]]:
        self.refresh(rt)
        q = self._rows([text])
        if q.nnz == 0 or not self.ids:
            return []
        dense = np.zeros(q.shape[1], dtype=np.float32)
        dense[q.indices] = q.data
        scores = self.matrix @ dense  # sparse × dense vector: one pass over the index
        top = (
            np.argsort(-scores)[: k + 1]
            if len(scores) <= 4 * (k + 1)
            else (np.argpartition(-scores, k + 1)[: k + 1])
        )
        top = [i for i in sorted(top, key=lambda i: -scores[i]) if scores[i] > 0]
        picked = [(self.ids[i], float(scores[i])) for i in top if self.numbers[i] != exclude][:k]
        if not picked:
            return []
        with read(rt.engine) as conn:
            found = lookups.outcomes(conn, [i for i, _ in picked])
        return [
            {
                "number": found[i].number,
                "category": found[i].category,
                "outcome": {"status": found[i].status, "resolution": found[i].resolution},
                "similarity": round(score, 4),
            }
            for i, score in picked
            if i in found
        ]


_GUARD = threading.Lock()


def index_for(rt: Runtime, clf: Classifier) -> SimilarIndex:
    """The runtime's index (one per database and process), rebuilt when the model changes."""
    with _GUARD:
        idx = getattr(rt, "_similar_index", None)
        if idx is None or idx.clf is not clf:
            idx = SimilarIndex(clf)
            rt._similar_index = idx  # type: ignore[attr-defined]
        return idx
