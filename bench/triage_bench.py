"""Triage classifier: dev-split and K-fold figures, and texts classified per second.

    .venv/bin/python bench/triage_bench.py [--folds 5] [--n 5000]

Quality: macro-F1 of the shipped model on the project corpus's dev split (held
out of training), and K-fold cross-validation of the training pipeline on the
whole corpus. Speed: the shipped model classifies N corpus texts (cycled) in
batches of 500 in this one process (one core), after a warm-up; texts/s.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

from kesu.triage import model


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--n", type=int, default=5000)
    args = ap.parse_args()
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in open("/proc/cpuinfo")
            if line.startswith("model name")
        ),
        "?",
    )
    print(f"machine: {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}")
    examples = model.project_corpus()
    clf = model.shipped()
    print(
        f"corpus: {len(examples)} examples; shipped model {clf.meta['version']} "
        f"({clf.meta['examples']} training examples, {len(clf.vocab)} features)"
    )
    _, dev = model.split(examples, model.config()["dev_share"])
    preds = clf.predict([e.text for e in dev], threshold=0)
    rep = model.report([e.category for e in dev], [p.category for p in preds])
    kind_acc = sum(p.kind == e.kind for p, e in zip(preds, dev, strict=True)) / len(dev)
    print(
        f"dev split: {len(dev)} texts, category macro-F1 {rep['macro_f1']:.3f}, "
        f"accuracy {rep['accuracy']:.3f}; kind accuracy {kind_acc:.3f}"
    )
    cv = model.cross_validate(examples, args.folds)
    print(
        f"{args.folds}-fold cross-validation: macro-F1 {cv['macro_f1']:.3f}, "
        f"accuracy {cv['accuracy']:.3f}"
    )
    texts = [examples[i % len(examples)].text for i in range(args.n)]
    clf.predict(texts[:500])
    start = time.perf_counter()
    for i in range(0, len(texts), 500):
        clf.predict(texts[i : i + 500])
    elapsed = time.perf_counter() - start
    print(
        f"classified {len(texts)} texts in {elapsed:.2f} s = {len(texts) / elapsed:,.0f} texts/s "
        f"(one process, batches of 500)"
    )


if __name__ == "__main__":
    main()
