"""The complaint classifier: trained with scikit-learn, shipped as plain arrays.

Training fits TF-IDF over `features.tokens` and two logistic regressions
(category and kind). The shipped artefact is data, not a pickle: the
vocabulary, the idf weights and the coefficients (model.json + model.npz), so
prediction needs only numpy and gives the same answer on every machine.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from kesu.data_files import DATA_DIR, load_yaml
from kesu.settings import default_triage_model_dir
from kesu.triage.features import FEATURE_VERSION, tokens

# The model shipped in the package (never written at run time). An operator's own model,
# trained with `kesu triage train` on its work orders, lives in the operator's model
# directory (settings.default_triage_model_dir) and is used instead when present.
PACKAGED_DIR = DATA_DIR / "triage" / "model"
CORPUS_DIR = DATA_DIR / "triage" / "corpus"
NEEDS_REVIEW = "需人工确认"


def config() -> dict[str, Any]:
    return load_yaml("triage/config.yaml")


@dataclass(frozen=True)
class Example:
    text: str
    category: str
    kind: str | None = None


def read_examples(path: Path) -> list[Example]:
    """Rows of a CSV with columns text,category[,kind]."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = {"text", "category"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(
                f"{path.name} 缺少列：{'、'.join(sorted(missing))}（需要 text,category[,kind]）"
            )
        out = []
        for line, row in enumerate(reader, start=2):
            text, category = (row.get("text") or "").strip(), (row.get("category") or "").strip()
            if not text or not category:
                raise ValueError(f"{path.name} 第 {line} 行缺少 text 或 category")
            out.append(Example(text, category, (row.get("kind") or "").strip() or None))
        return out


def project_corpus() -> list[Example]:
    rows: list[Example] = []
    for path in sorted(CORPUS_DIR.glob("*.csv")):
        rows += read_examples(path)
    return rows


def is_dev(text: str, share: float) -> bool:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < share


@dataclass(frozen=True)
class Head:
    classes: tuple[str, ...]
    coef: np.ndarray  # (n_classes, n_features)
    intercept: np.ndarray  # (n_classes,)

    def proba(self, rows: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        scores = np.empty((len(rows), len(self.classes)), dtype=np.float64)
        for i, (idx, val) in enumerate(rows):
            scores[i] = self.coef[:, idx] @ val + self.intercept
        scores -= scores.max(axis=1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=1, keepdims=True)
        return scores


@dataclass(frozen=True)
class Prediction:
    category: str
    confidence: float
    alternatives: list[tuple[str, float]]
    kind: str | None
    kind_confidence: float | None
    needs_review: bool


@dataclass(frozen=True)
class Classifier:
    vocab: dict[str, int]
    idf: np.ndarray
    category: Head
    kind: Head | None
    meta: dict[str, Any]

    def vectors(self, texts: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        rows = []
        for text in texts:
            counts = Counter(i for t in tokens(text) if (i := self.vocab.get(t)) is not None)
            if not counts:
                rows.append((np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)))
                continue
            idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            tf = np.fromiter(
                (1.0 + math.log(c) for c in counts.values()), dtype=np.float32, count=len(counts)
            )
            val = tf * self.idf[idx]
            val /= np.linalg.norm(val)
            rows.append((idx, val))
        return rows

    def predict(
        self, texts: Sequence[str], threshold: float | None = None, top: int = 3
    ) -> list[Prediction]:
        threshold = config()["confidence_threshold"] if threshold is None else threshold
        rows = self.vectors(texts)
        cat_p = self.category.proba(rows)
        kind_p = self.kind.proba(rows) if self.kind else None
        out = []
        for i in range(len(texts)):
            order = np.argsort(-cat_p[i])[:top]
            alts = [(self.category.classes[j], round(float(cat_p[i, j]), 4)) for j in order]
            kind = kind_conf = None
            if kind_p is not None:
                k = int(np.argmax(kind_p[i]))
                kind, kind_conf = self.kind.classes[k], round(float(kind_p[i, k]), 4)
            out.append(
                Prediction(alts[0][0], alts[0][1], alts, kind, kind_conf, alts[0][1] < threshold)
            )
        return out

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        ordered = sorted(self.vocab, key=self.vocab.__getitem__)
        meta = {
            **self.meta,
            "category_classes": list(self.category.classes),
            "kind_classes": list(self.kind.classes) if self.kind else None,
            "vocabulary": ordered,
        }
        (directory / "model.json").write_text(
            json.dumps(meta, ensure_ascii=False, separators=(",", ":")), encoding="utf-8"
        )
        arrays = {
            "idf": self.idf,
            "cat_coef": self.category.coef,
            "cat_intercept": self.category.intercept,
        }
        if self.kind:
            arrays.update(kind_coef=self.kind.coef, kind_intercept=self.kind.intercept)
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        (directory / "model.npz").write_bytes(buf.getvalue())

    @classmethod
    def load(cls, directory: Path = PACKAGED_DIR) -> Classifier:
        meta = json.loads((directory / "model.json").read_text(encoding="utf-8"))
        arrays = np.load(directory / "model.npz")
        vocab = {t: i for i, t in enumerate(meta.pop("vocabulary"))}
        cat = Head(tuple(meta["category_classes"]), arrays["cat_coef"], arrays["cat_intercept"])
        kind = None
        if meta.get("kind_classes"):
            kind = Head(tuple(meta["kind_classes"]), arrays["kind_coef"], arrays["kind_intercept"])
        return cls(vocab, arrays["idf"], cat, kind, meta)


class ModelMissing(RuntimeError):
    pass


def operator_dir() -> Path:
    """Where `kesu triage train` saves the operator's model (never inside the package)."""
    return default_triage_model_dir()


def active_dir() -> Path:
    """The model triage uses: the operator's when one was trained, else the packaged one."""
    own = operator_dir()
    return own if (own / "model.json").exists() else PACKAGED_DIR


def shipped() -> Classifier:
    """The classifier in use (the operator's or the packaged one), loaded once per file:
    a model trained while the server runs is picked up at the next prediction."""
    directory = active_dir()
    try:
        stamp = (directory / "model.json").stat().st_mtime_ns
    except FileNotFoundError:
        raise ModelMissing("还没有训练好的分类模型，请先运行 kesu triage train。") from None
    return _load(str(directory), stamp)


@lru_cache(maxsize=1)
def _load(directory: str, stamp: int) -> Classifier:
    return Classifier.load(Path(directory))


def _fit_head(x, labels: Sequence[str], c: float) -> Head:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, max_iter=3000)
    model.fit(x, labels)
    coef = model.coef_.astype(np.float32)
    intercept = model.intercept_.astype(np.float32)
    if len(model.classes_) == 2:  # binary: sklearn keeps one row; make it two-sided
        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2], dtype=np.float32)
    return Head(tuple(str(c_) for c_ in model.classes_), coef, intercept)


# What training reports as it goes: (stage, done, total); total None when unknown.
Progress = Callable[[str, int, int | None], None]


def train(
    examples: Sequence[Example],
    c: float | None = None,
    min_df: int | None = None,
    progress: Progress | None = None,
) -> Classifier:
    """Fit the classifier; the same examples give the same model."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    say: Progress = progress or (lambda _stage, _done, _total: None)
    cfg = config()
    c = cfg["C"] if c is None else c
    min_df = cfg["min_df"] if min_df is None else min_df
    texts = [e.text for e in examples]
    seen = [0]

    def counted(text: str) -> list[str]:
        seen[0] += 1
        if seen[0] % 100 == 0 or seen[0] == len(texts):
            say("分词", seen[0], len(texts))
        return tokens(text)

    say("分词", 0, len(texts))
    vectorizer = TfidfVectorizer(
        analyzer=counted, sublinear_tf=True, min_df=min_df, dtype=np.float32
    )
    x = vectorizer.fit_transform(texts)
    say("拟合分类模型", 0, None)
    category = _fit_head(x, [e.category for e in examples], c)
    with_kind = [i for i, e in enumerate(examples) if e.kind]
    kind = None
    if with_kind and len({examples[i].kind for i in with_kind}) > 1:
        say("拟合类型模型", 0, None)
        kind = _fit_head(x[with_kind], [examples[i].kind for i in with_kind], c)
    digest = hashlib.sha256()
    for e in examples:
        digest.update(f"{e.text}\t{e.category}\t{e.kind or ''}\n".encode())
    digest.update(f"{c}|{min_df}|{FEATURE_VERSION}".encode())
    meta = {
        "version": f"triage-{digest.hexdigest()[:12]}",
        "examples": len(examples),
        "feature_version": FEATURE_VERSION,
        "C": c,
        "min_df": min_df,
    }
    vocab = {str(k): int(v) for k, v in vectorizer.vocabulary_.items()}
    return Classifier(vocab, vectorizer.idf_.astype(np.float32), category, kind, meta)


def report(truth: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    """Macro-F1, per-class precision and recall, and the confusion matrix."""
    labels = sorted(set(truth) | set(predicted))
    per_class = {}
    for label in labels:
        tp = sum(t == label and p == label for t, p in zip(truth, predicted, strict=True))
        fp = sum(t != label and p == label for t, p in zip(truth, predicted, strict=True))
        fn = sum(t == label and p != label for t, p in zip(truth, predicted, strict=True))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}
    present = [lab for lab in labels if per_class[lab]["support"]]
    confusion = {t: {p: 0 for p in labels} for t in labels}
    for t, p in zip(truth, predicted, strict=True):
        confusion[t][p] += 1
    return {
        "macro_f1": sum(per_class[lab]["f1"] for lab in present) / max(len(present), 1),
        "accuracy": sum(t == p for t, p in zip(truth, predicted, strict=True)) / max(len(truth), 1),
        "per_class": per_class,
        "confusion": confusion,
        "n": len(truth),
    }


def cross_validate(
    examples: Sequence[Example], folds: int, progress: Progress | None = None
) -> dict[str, Any]:
    """K-fold cross-validation of the training pipeline (folds by a hash of the text)."""
    say: Progress = progress or (lambda _stage, _done, _total: None)
    buckets = [int(hashlib.sha256(e.text.encode()).hexdigest(), 16) % folds for e in examples]
    truth: list[str] = []
    predicted: list[str] = []
    for k in range(folds):
        train_set = [e for e, b in zip(examples, buckets, strict=True) if b != k]
        test_set = [e for e, b in zip(examples, buckets, strict=True) if b == k]
        say("交叉验证", k, folds)
        if not test_set:
            continue
        model = train(train_set)
        truth += [e.category for e in test_set]
        predicted += [p.category for p in model.predict([e.text for e in test_set], threshold=0)]
    return report(truth, predicted)


def split(examples: Iterable[Example], share: float) -> tuple[list[Example], list[Example]]:
    train_set, dev = [], []
    for e in examples:
        (dev if is_dev(e.text, share) else train_set).append(e)
    return train_set, dev
