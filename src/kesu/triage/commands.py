"""The triage commands: `kesu triage train|classify|export-corrections|eval` (the
classifier's training, batch classification, corrections for retraining, evaluation).
kesu/cli.py registers them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from kesu.cli_common import cli_actor, console, open_runtime, progress

triage_app = typer.Typer(help="投诉文本分类 Complaint text triage", no_args_is_help=True)


def _examples(path: Path | None):
    from kesu.triage import model

    try:
        return model.read_examples(path) if path else model.project_corpus()
    except (ValueError, UnicodeDecodeError) as err:
        console.print(f"[red]训练数据有误[/]：{err}")
        raise typer.Exit(2) from None


def _print_report(title: str, rep: dict) -> None:
    console.print(
        f"[bold]{title}[/]：macro-F1 [bold]{rep['macro_f1']:.3f}[/]，"
        f"准确率 {rep['accuracy']:.3f}，样本 {rep['n']} 条"
    )
    table = Table(show_edge=False)
    for col in ("类别", "精确率", "召回率", "F1", "样本"):
        table.add_column(col, justify="right" if col != "类别" else "left")
    for label, m in rep["per_class"].items():
        table.add_row(
            label,
            f"{m['precision']:.3f}",
            f"{m['recall']:.3f}",
            f"{m['f1']:.3f}",
            str(m["support"]),
        )
    console.print(table)
    labels = list(rep["confusion"])
    matrix = Table(title="混淆矩阵（行：真实，列：预测）", show_edge=False)
    matrix.add_column("")
    for label in labels:
        matrix.add_column(label[:6], justify="right")
    for t in labels:
        matrix.add_row(t, *(str(rep["confusion"][t][p]) for p in labels))
    console.print(matrix)


@triage_app.command("train")
def triage_train(
    data: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="训练数据 CSV：text,category[,kind]；默认用项目语料 Training data",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="模型目录；默认 KESU_TRIAGE_MODEL_DIR 或 $KESU_HOME/triage-model "
            "Where to save the model"
        ),
    ] = None,
) -> None:
    """训练分类模型，存入运营商模型目录（不写入安装包）。Train the classifier.

    The same data gives the same model. Triage uses the model in the operator's model
    directory when there is one, else the model shipped with kesu.
    """
    from kesu.triage import model

    examples = _examples(data)
    share = model.config()["dev_share"]
    train_set, dev = model.split(examples, share)
    if len({e.category for e in train_set}) < 2:
        console.print("[red]训练数据至少需要两个类别。[/]")
        raise typer.Exit(2)
    target = (out or model.operator_dir()).resolve()
    if target.is_relative_to(Path(model.__file__).resolve().parents[1]):  # src/kesu
        console.print(
            f"[red]不能写入安装包内的模型目录[/]：{target}。请用 --out 或 KESU_TRIAGE_MODEL_DIR。"
        )
        raise typer.Exit(2)
    # The dev split stays out of the model, so that its figures stay honest.
    console.print(f"训练样本 {len(train_set)} 条；开发集 {len(dev)} 条留作评估。")
    with progress("训练分类模型 Training") as meter:
        clf = model.train(
            train_set, progress=lambda stage, done, total: _stage(meter, stage, done, total)
        )
    if dev:
        preds = clf.predict([e.text for e in dev], threshold=0)
        _print_report(
            f"开发集（{share:.0%}，按文本散列划分，未参与训练）",
            model.report([e.category for e in dev], [p.category for p in preds]),
        )
    clf.save(target)
    console.print(
        f"[green]模型已保存[/]：{target}（版本 {clf.meta['version']}，特征 {len(clf.vocab)} 个）"
    )
    if out is not None and target != model.operator_dir().resolve():
        console.print(
            "[yellow]注意[/]：分诊只使用 KESU_TRIAGE_MODEL_DIR（或 $KESU_HOME/triage-model）"
            "中的模型；要使用这个模型，请把 KESU_TRIAGE_MODEL_DIR 设为该目录。"
        )


def _stage(meter, stage: str, done: int, total: int | None) -> None:
    if stage != meter.text:
        meter.step(stage, total)
    meter.update(done, total)


@triage_app.command("classify")
def triage_classify(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="CSV：id,text 要分类的文本")
    ],
) -> None:
    """对 CSV 中的文本分类，结果 CSV 写到标准输出。Classify texts; CSV to stdout."""
    import csv
    import sys

    from kesu.triage import model

    try:
        clf = model.shipped()
    except model.ModelMissing as err:
        Console(stderr=True).print(f"[red]{err}[/]")
        raise typer.Exit(2) from None
    with file.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        if not {"id", "text"} <= set(reader.fieldnames or ()):
            Console(stderr=True).print("[red]输入须有 id,text 两列[/]")
            raise typer.Exit(2)
        rows = list(reader)
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["id", "category", "kind", "confidence"])
    with progress("分类 Classifying", len(rows)) as meter:
        for start in range(0, len(rows), 500):
            chunk = rows[start : start + 500]
            for row, p in zip(chunk, clf.predict([r["text"] or "" for r in chunk]), strict=True):
                category = model.NEEDS_REVIEW if p.needs_review else p.category
                writer.writerow([row["id"], category, p.kind or "", f"{p.confidence:.4f}"])
            meter.advance(len(chunk))


@triage_app.command("export-corrections")
def triage_export_corrections() -> None:
    """导出人工更正过分类的投诉（text,category,kind），可用于再训练。Corrections as CSV."""
    import csv
    import sys

    from kesu.triage import corrections

    rows = corrections.corrections(open_runtime(), cli_actor())
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["text", "category", "kind"])
    for r in rows:
        writer.writerow([r["text"], r["category"], r["kind"]])
    Console(stderr=True).print(f"已导出 {len(rows)} 条人工更正。")


@triage_app.command("eval")
def triage_eval(
    data: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="评估数据 CSV：text,category[,kind]；默认用项目语料的开发集 Evaluation data",
        ),
    ] = None,
    folds: Annotated[
        int | None,
        typer.Option(min=2, max=20, help="K 折交叉验证训练流程 Cross-validate in K folds"),
    ] = None,
) -> None:
    """评估：所用模型在数据上的表现，或 --folds 交叉验证。Evaluate the classifier."""
    from kesu.triage import model

    examples = _examples(data)
    if folds:
        with progress(f"{folds} 折交叉验证 Cross-validating", folds) as meter:
            rep = model.cross_validate(
                examples, folds, progress=lambda _s, done, _t: meter.update(done)
            )
        _print_report(f"{folds} 折交叉验证（{len(examples)} 条）", rep)
        return
    if data is None:
        _, examples = model.split(examples, model.config()["dev_share"])
    try:
        model.shipped()
    except model.ModelMissing as err:
        console.print(f"[red]{err}[/]")
        raise typer.Exit(2) from None
    preds = model.shipped().predict([e.text for e in examples], threshold=0)
    _print_report(
        f"所用模型 {model.shipped().meta['version']}（{model.active_dir()}）",
        model.report([e.category for e in examples], [p.category for p in preds]),
    )
