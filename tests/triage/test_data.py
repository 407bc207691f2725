"""The triage slice's data files (taxonomy, labelled corpus) are consistent.

The classifier itself is not built yet (issue 3); these tests keep its data honest.
"""

import csv
from collections import Counter

from kesu.complaints import vocabulary as vocab
from kesu.data_files import DATA_DIR, load_yaml

TAXONOMY = load_yaml("triage/taxonomy.yaml")


def test_taxonomy_matches_the_categories_and_rolls_up_to_regulator_classes():
    cats = TAXONOMY["categories"]
    assert set(cats) == set(vocab.CATEGORIES)
    for code, cat in cats.items():
        assert cat["name"] == vocab.CATEGORIES[code]["name"]
        assert cat["regulator_class"] in TAXONOMY["regulator_classes"]
        assert cat["definition"] and cat["examples"]
    assert {c["regulator_class"] for c in cats.values()} == set(TAXONOMY["regulator_classes"])
    subs = [s for c in cats.values() for s in c["subcategories"]]
    assert len(subs) >= 30 and len(subs) == len(set(subs))


def corpus_rows():
    rows = []
    for path in sorted((DATA_DIR / "triage" / "corpus").glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            rows += list(csv.DictReader(fh))
    return rows


def test_corpus_rows_are_labelled_distinct_and_cover_every_category():
    rows = corpus_rows()
    assert rows, "the corpus is empty"
    kinds = {"inquiry", "consultation", "fault", "complaint"}
    for row in rows:
        assert row["category"] in vocab.CATEGORIES, row
        assert row["kind"] in kinds, row
        assert 8 <= len(row["text"]) <= 400, row
    texts = [r["text"] for r in rows]
    assert len(texts) == len(set(texts))
    per_category = Counter(r["category"] for r in rows)
    assert set(per_category) == set(vocab.CATEGORIES)
    assert max(per_category.values()) <= 1.5 * min(per_category.values())
