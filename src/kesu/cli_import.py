"""`kesu import FILE [--mapping NAME] [--dry-run]`: a file of work orders (csv or xlsx)
checked row by row and its good rows registered in batches (kesu.channels.file_import).

Exit status: 0 every row good; 3 some rows were bad (reported, left out; the good ones
imported unless --dry-run); 1 the file was refused as a whole (nothing written).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from kesu.cli_common import cli_actor, console, open_runtime, problem_exit, progress

EXIT_BAD_ROWS = 3


def import_file(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="工单文件（.csv 或 .xlsx）")
    ],
    mapping: Annotated[
        str | None, typer.Option("--mapping", help="列映射名称（默认 hotline）")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="只检查并报告，不写入任何数据")
    ] = False,
    errors: Annotated[
        Path | None, typer.Option("--errors", help="把错误行（附错误说明列）写入此 xlsx 文件")
    ] = None,
    show: Annotated[int, typer.Option("--show", help="最多列出多少处问题")] = 100,
    batch: Annotated[int, typer.Option("--batch", min=100, help="每批写入的行数")] = 2000,
) -> None:
    """导入热线工单文件（CSV/Excel）：逐行检查，合格行分批登记，重复导入不会重复登记。"""
    from kesu.channels import file_import, import_jobs
    from kesu.problems import Problem

    rt = open_runtime()
    actor = cli_actor()
    job = None
    if not dry_run:  # a dry run leaves no trace; an import is recorded as the page's are
        try:
            job = import_jobs.create(
                rt, actor, file.name, file_import.sha256_of(file), mapping or "", dry_run
            )
        except Problem as err:
            problem_exit(err)
    with progress("导入工单文件 Importing work orders") as meter:
        stage = [""]

        def step(name: str, done: int, total: int | None) -> None:
            if name != stage[0]:
                stage[0] = name
                meter.step("检查各行" if name == "check" else "分批写入", total)
            meter.update(done, total)
            if name == "import" and done and not meter.tty:  # a line per batch in a log
                print(f"  已写入 {done}/{total} 行", file=sys.stderr, flush=True)

        try:
            if job is None:
                out = file_import.run(rt, file, actor, mapping, True, file.name, step, batch)
            else:
                out = import_jobs.execute(rt, job, file, actor, file.name, step, batch)
        except Problem as err:
            problem_exit(err)
    _report(out, show, errors)
    if out.bad:
        raise typer.Exit(EXIT_BAD_ROWS)


def _report(out, show: int, errors: Path | None) -> None:
    from kesu.channels import file_import

    how = out.kind + (f"，编码 {out.encoding}" if out.encoding else "")
    console.print(
        f"文件：{out.file_name}（{how}）  映射：{out.mapping}  来源：{out.source}", soft_wrap=True
    )
    console.print("列：" + "；".join(f"{k} ← {v}" for k, v in out.columns.items()), soft_wrap=True)
    if out.unmapped:
        console.print("未识别的列（已忽略）：" + "、".join(out.unmapped), soft_wrap=True)
    console.print(
        f"检查：共 {out.total} 行，合格 {out.good} 行，有问题 {len(out.bad)} 行。", soft_wrap=True
    )
    found = out.errors()
    for e in found[:show]:
        console.print(f"  {e.text()}", markup=False, highlight=False, soft_wrap=True)
    if len(found) > show:
        console.print(
            f"  ……另有 {len(found) - show} 处问题（用 --errors 文件.xlsx 取得全部错误行）。",
            soft_wrap=True,
        )
    if out.dry_run:
        console.print(
            f"[yellow]试运行（--dry-run）：未写入任何数据。[/]合格行中 {out.skipped} 行此前已导入，"
            f"正式导入时将跳过；将新建 {out.good - out.skipped} 件。",
            soft_wrap=True,
        )
    else:
        console.print(
            f"[green]导入完成[/]：新建 {out.created} 件，此前已导入而跳过 {out.skipped} 件"
            + (f"，有问题未导入 {len(out.bad)} 行。" if out.bad else "。"),
            soft_wrap=True,
        )
    if errors is not None and out.bad:
        errors.write_bytes(file_import.error_workbook(out))
        console.print(
            f"错误行已写入：{errors}（改正后可再次导入，已导入的行会被跳过）", soft_wrap=True
        )
