"""The classifier pipeline: training, the shipped-array inference, the CLI."""

import csv
import io

import numpy as np
import pytest
from typer.testing import CliRunner

from kesu.cli import app
from kesu.data_files import load_yaml
from kesu.triage import model
from kesu.triage.features import normalize, tokens

DEMO = [
    model.Example(e["description"], e["category"], e["kind"])
    for e in load_yaml("demo/texts.yaml")["entries"]
]


@pytest.fixture(scope="module")
def trained():
    return model.train(DEMO, min_df=1)


def test_tokens_fold_digits_and_widths():
    assert normalize("２０２６年１１月扣了39元") == "0年0月扣了0元"
    toks = tokens("宽带断网三天")
    assert "c:断网" in toks and "w:宽带" in toks and "w:断网" in toks


def test_array_inference_matches_scikit_learn(trained):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    texts = [e.text for e in DEMO]
    vec = TfidfVectorizer(analyzer=tokens, sublinear_tf=True, min_df=1, dtype=np.float32)
    x = vec.fit_transform(texts)
    lr = LogisticRegression(C=model.config()["C"], max_iter=3000).fit(x, [e.category for e in DEMO])
    sample = ["我家宽带又断了，修了三次都没好", "上个月被扣了一笔不明的视频会员费", "无关内容"]
    expected = lr.predict_proba(vec.transform(sample))
    got = trained.category.proba(trained.vectors(sample))
    assert list(trained.category.classes) == list(lr.classes_)
    assert np.allclose(got, expected, atol=1e-4)


def test_training_is_deterministic_and_survives_a_round_trip(trained, tmp_path):
    again = model.train(DEMO, min_df=1)
    assert again.meta["version"] == trained.meta["version"]
    assert np.array_equal(again.category.coef, trained.category.coef)
    trained.save(tmp_path)
    loaded = model.Classifier.load(tmp_path)
    texts = ["手机信号差经常掉线", "积分兑换不了"]
    assert loaded.predict(texts) == trained.predict(texts)


def test_low_confidence_needs_a_person(trained):
    [p] = trained.predict(["嗯"], threshold=0.99)
    assert p.needs_review and p.alternatives[0][0] == p.category
    [q] = trained.predict(["嗯"], threshold=0.0)
    assert not q.needs_review


def test_report_counts_precision_recall_and_confusion():
    rep = model.report(["a", "a", "b", "b"], ["a", "b", "b", "b"])
    assert rep["per_class"]["a"] == {
        "precision": 1.0,
        "recall": 0.5,
        "f1": pytest.approx(2 / 3),
        "support": 2,
    }
    assert rep["confusion"]["a"]["b"] == 1 and rep["accuracy"] == 0.75


def _write(path, rows, header):
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def test_cli_train_classify_eval(tmp_path, monkeypatch):
    runner = CliRunner()
    data = tmp_path / "train.csv"
    _write(data, [(e.text, e.category, e.kind) for e in DEMO], ["text", "category", "kind"])
    out = tmp_path / "model"
    r = runner.invoke(app, ["triage", "train", "--data", str(data), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "macro-F1" in r.output and "模型已保存" in r.output
    monkeypatch.setenv("KESU_TRIAGE_MODEL_DIR", str(out))
    texts = tmp_path / "in.csv"
    _write(texts, [("1", "宽带断网两天了光猫红灯"), ("2", "嗯")], ["id", "text"])
    r = runner.invoke(app, ["triage", "classify", str(texts)])
    assert r.exit_code == 0, r.output
    rows = list(csv.reader(io.StringIO(r.stdout)))
    assert rows[0] == ["id", "category", "kind", "confidence"]
    assert [row[0] for row in rows[1:]] == ["1", "2"]
    assert rows[1][1] in ("network", model.NEEDS_REVIEW)
    r = runner.invoke(app, ["triage", "eval", "--data", str(data), "--folds", "3"])
    assert r.exit_code == 0 and "3 折交叉验证" in r.output and "混淆矩阵" in r.output
    bad = tmp_path / "bad.csv"
    _write(bad, [("x",)], ["words"])
    r = runner.invoke(app, ["triage", "train", "--data", str(bad)])
    assert r.exit_code == 2 and "缺少列" in r.output
