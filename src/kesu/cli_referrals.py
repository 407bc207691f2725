"""`kesu referrals`: import the administration's referral list (xlsx) and configure the
referral sources (a regulator's office; where its kesu takes the operator's answers)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kesu.cli_common import cli_actor, console, open_runtime, problem_exit, progress
from kesu.problems import Problem


def say(text: str) -> None:
    console.print(text, soft_wrap=True)  # one line per row, whatever the terminal's width


referrals_app = typer.Typer(help="管局转办 Regulator referrals", no_args_is_help=True)


@referrals_app.command("import")
def import_file(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="转办清单 .xlsx Referral list")
    ],
    source: Annotated[
        str | None, typer.Option(help="转办来源代码（未在表中写明时）Referral source code")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="只检查，不写入 Check only")] = False,
) -> None:
    """导入管局转办清单：逐行检查，有误的行列出原因且不写入。"""
    from kesu.channels import referral_import

    rt = open_runtime()
    try:
        with progress("导入转办 Importing referrals") as meter:
            report = referral_import.import_list(
                rt, file.read_bytes(), cli_actor(), source, dry_run, progress=meter.update
            )
    except Problem as e:
        problem_exit(e)
        return
    finally:
        rt.close()
    for entry in report["created"]:
        say(f"第 {entry['row']} 行 {entry['ref']}：已登记 {entry['complaint']}")
    for entry in report["existing"]:
        say(f"第 {entry['row']} 行 {entry['ref']}：已登记过（{entry['complaint']}）")
    for e in report["errors"]:
        say(f"[red]第 {e['row']} 行 {e['ref'] or ''}：{e['detail']}[/]")
    if report["ignored_columns"]:
        console.print(f"未识别的列（已忽略）：{'、'.join(report['ignored_columns'])}")
    console.print(referral_import.summary(report))
    if report["errors"]:
        raise typer.Exit(1)


@referrals_app.command("source")
def source(
    code: Annotated[str, typer.Argument(help="来源代码，如 henan-ca Source code")],
    name: Annotated[str, typer.Option(help="名称，如 河南省通信管理局 Name")],
    callback_url: Annotated[
        str | None, typer.Option(help="对方 kesu 接收答复的地址 Callback URL")
    ] = None,
    new_secret: Annotated[bool, typer.Option("--new-secret", help="重新生成签名密钥")] = False,
) -> None:
    """添加或修改转办来源；设置回调地址时生成签名密钥（只显示这一次）。"""
    from kesu.channels import referral_sources

    rt = open_runtime()
    try:
        saved = referral_sources.save(rt, cli_actor(), code, name, callback_url, new_secret)
    except Problem as e:
        problem_exit(e)
        return
    finally:
        rt.close()
    console.print(f"转办来源 {saved['code']}（{saved['name']}）已保存。")
    if saved.get("callback_url"):
        console.print(f"回调地址：{saved['callback_url']}")
    if saved.get("secret"):
        console.print(f"签名密钥（请交给对方，只显示这一次）：{saved['secret']}")
