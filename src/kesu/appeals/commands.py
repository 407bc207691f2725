"""`kesu appeals …`: the appeal centre's commands. `import FILE [--dry-run]` (the ministry
platform's file, appeals.file_import) and `operator add CODE NAME` (an operator the centre
takes appeals against, appeals.operators). kesu/cli.py registers them.

Exit status of import: 0 every row good (and registered unless --dry-run); 3 some rows
are bad (listed; nothing written); 1 the file was refused as a whole."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from kesu.cli_common import cli_actor, console, open_runtime, problem_exit, progress

appeals_app = typer.Typer(help="申诉受理中心 The appeal centre", no_args_is_help=True)
operator_app = typer.Typer(help="被申诉企业 Operators", no_args_is_help=True)
appeals_app.add_typer(operator_app, name="operator")
EXIT_BAD_ROWS = 3


@appeals_app.command(name="import")
def import_appeals(
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, help="部平台导出的申诉文件（.xlsx 或 .csv）"),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="只检查并报告，不写入任何数据")
    ] = False,
    show: Annotated[int, typer.Option("--show", help="最多列出多少行问题")] = 100,
) -> None:
    """导入部申诉平台的申诉文件：先逐行检查，全部合格才登记；按申诉编号去重，重复导入不会重复登记。"""
    from kesu.appeals import file_import
    from kesu.problems import Problem

    rt = open_runtime()
    with progress("导入申诉文件 Importing appeals") as meter:
        stage = [""]

        def step(name: str, done: int, total: int | None) -> None:
            if name != stage[0]:
                stage[0] = name
                meter.step("检查各行" if name == "check" else "逐件登记", total)
            meter.update(done, total)
            if name == "import" and not meter.tty and done % 100 == 0:
                print(f"  已登记 {done}/{total} 件", file=sys.stderr, flush=True)

        try:
            out = file_import.run(rt, file, cli_actor(), dry_run, step)
        except Problem as err:
            problem_exit(err)
    how = out.kind + (f"，编码 {out.encoding}" if out.encoding else "")
    console.print(f"文件：{out.file_name}（{how}）", soft_wrap=True)
    console.print("列：" + "；".join(f"{k} ← {v}" for k, v in out.columns.items()), soft_wrap=True)
    if out.unknown:
        console.print("未识别的列（已忽略）：" + "、".join(out.unknown), soft_wrap=True)
    console.print(
        f"检查：共 {out.total} 行，合格 {out.good} 行，有问题 {len(out.bad)} 行。", soft_wrap=True
    )
    for row in out.bad[:show]:
        console.print(
            f"  第{row.number}行"
            + (f"（{row.ref}）" if row.ref else "")
            + "："
            + "；".join(row.errors),
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    if len(out.bad) > show:
        console.print(f"  ……另有 {len(out.bad) - show} 行有问题。", soft_wrap=True)
    if out.bad:
        console.print("[red]有问题的行未改正前，本文件不导入任何申诉（未写入任何数据）。[/]")
        raise typer.Exit(EXIT_BAD_ROWS)
    if out.dry_run:
        console.print(
            f"[yellow]试运行（--dry-run）：未写入任何数据。[/]其中 {out.skipped} 件此前已导入，"
            f"正式导入时将跳过；将新登记 {out.good - out.skipped} 件。",
            soft_wrap=True,
        )
        return
    console.print(
        f"[green]导入完成[/]：新登记 {len(out.created)} 件，此前已导入而跳过 {out.skipped} 件。",
        soft_wrap=True,
    )
    if out.created:
        console.print(
            "申诉编号：" + "、".join(out.created[:20]) + ("……" if len(out.created) > 20 else "")
        )


@operator_app.command(name="add")
def add_operator(
    code: Annotated[str, typer.Argument(help="企业代码（小写字母开头，如 mobile）")],
    name: Annotated[str, typer.Argument(help="企业名称（全称）")],
    address: Annotated[str | None, typer.Option("--address", help="企业地址")] = None,
    users: Annotated[
        int | None, typer.Option("--users", min=0, help="用户数（百万用户申诉率的分母）")
    ] = None,
    referral_url: Annotated[
        str | None, typer.Option("--referral-url", help="企业 kesu 的转办地址 …/api/v1/referrals")
    ] = None,
) -> None:
    """添加或修改被申诉企业（代码、名称、地址、用户数、转办地址）。"""
    from kesu.appeals import operators
    from kesu.problems import Problem

    rt = open_runtime()
    try:
        saved = operators.save(rt, cli_actor(), code, name, address, users, referral_url)
    except Problem as err:
        problem_exit(err)
    console.print(
        f"[green]已保存被申诉企业[/]：{saved['code']} {saved['name']}"
        + (f"，用户数 {saved['users']:,}" if saved["users"] is not None else ""),
        soft_wrap=True,
    )
    if saved.get("secret"):
        console.print(
            "转办签名密钥（只显示这一次，请在企业的 kesu 中把本中心配置为转办来源并填入）："
            f"\n{saved['secret']}",
            soft_wrap=True,
        )
