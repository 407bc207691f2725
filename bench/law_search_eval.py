"""Legal search quality and latency on a labelled set of colloquial questions.

    python bench/law_search_eval.py      # the development set, tests/law/questions.yaml
    python bench/law_search_eval.py bench/law_questions_holdout.yaml --misses

A question is a hit at k when one of its answer articles is among the first k
results. recall@k is the share of all answer articles found in the first k.
Latency is measured in-process over every question, repeated.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import yaml

from kesu.complaints import vocabulary as vocab
from kesu.law import cases as case_data
from kesu.law import loader
from kesu.law.search import ArticleIndex, CaseIndex

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "tests" / "law" / "questions.yaml"


def evaluate(index: ArticleIndex, questions: list[dict], k: int = 3, cases=None) -> dict:
    c = index.corpus
    hits1 = hitsk = found = total = 0
    rr = 0.0
    misses = []
    for q in questions:
        answers = {c.resolve(a).id for a in q["answers"]}
        results = index.search(q["q"], limit=10, cases=cases)["results"]
        ids = [r["id"] for r in results]
        total += len(answers)
        found += len(answers & set(ids[:k]))
        if ids[:1] and ids[0] in answers:
            hits1 += 1
        if answers & set(ids[:k]):
            hitsk += 1
        else:
            misses.append((q["q"], q["answers"], [r["citation"] for r in results[:k]]))
        rank = next((i for i, x in enumerate(ids, 1) if x in answers), None)
        rr += 1 / rank if rank else 0.0
    n = len(questions)
    return {
        "questions": n,
        "hit@1": hits1 / n,
        f"hit@{k}": hitsk / n,
        f"recall@{k}": found / total,
        "mrr@10": rr / n,
        "misses": misses,
    }


def latency(index: ArticleIndex, questions: list[dict], repeat: int = 20, cases=None) -> dict:
    times = []
    for _ in range(repeat):
        for q in questions:
            t0 = time.perf_counter()
            index.search(q["q"], limit=10, cases=cases)
            times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return {
        "searches": len(times),
        "p50_ms": statistics.median(times),
        "p99_ms": times[int(len(times) * 0.99) - 1],
        "max_ms": times[-1],
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="*", type=Path, default=[DEV])
    ap.add_argument("--misses", action="store_true", help="print the questions missed at 3")
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--no-cases", action="store_true", help="without case priors")
    ap.add_argument("--no-notes", action="store_true", help="without the articles' notes")
    args = ap.parse_args()
    c = loader.load()
    t0 = time.perf_counter()
    index = ArticleIndex(c, notes=None if args.no_notes else loader.load_notes(c))
    built = time.perf_counter() - t0
    cases = None if args.no_cases else CaseIndex(case_data.load_packaged(c, vocab.CATEGORIES))
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; index built in {built:.2f} s"
    )
    for path in args.files:
        questions = yaml.safe_load(path.read_text(encoding="utf-8"))
        res = evaluate(index, questions, cases=cases)
        lat = latency(index, questions, args.repeat, cases=cases)
        name = path.relative_to(ROOT) if path.is_absolute() else path
        print(
            f"{name}: {res['questions']} questions  hit@1 {res['hit@1']:.3f}  "
            f"hit@3 {res['hit@3']:.3f}  recall@3 {res['recall@3']:.3f}  MRR@10 {res['mrr@10']:.3f}"
        )
        print(
            f"  latency over {lat['searches']} searches: p50 {lat['p50_ms']:.2f} ms, "
            f"p99 {lat['p99_ms']:.2f} ms, max {lat['max_ms']:.2f} ms"
        )
        if args.misses:
            for q, answers, got in res["misses"]:
                print(f"  MISS {q}\n       want {answers}\n       got  {got}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
