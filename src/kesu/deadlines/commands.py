"""The deadlines' commands: `kesu calendar load|show|workdays` (the working-day calendar)
and `kesu rules` (the time-limit rules and their basis). kesu/cli.py registers them."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.table import Table

from kesu.cli_common import cli_actor, console, open_runtime, progress
from kesu.clock import OUT_OF_RANGE, in_supported_range

calendar_app = typer.Typer(help="工作日日历 Working-day calendar", no_args_is_help=True)


@calendar_app.command("load")
def calendar_load(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="YAML 或 JSON 文件 Year file")
    ],
) -> None:
    """载入某年日历（国务院放假安排或运营商调整），并重算受影响的时限。"""
    from kesu.deadlines import calendar_years
    from kesu.deadlines.calendar_store import parse_year_file

    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("日历文件应为一个映射（year、holidays、workdays ...）。")
        override = parse_year_file(data)
    except (ValueError, yaml.YAMLError) as err:
        console.print(f"[red]日历文件有误[/]：{err}")
        raise typer.Exit(2) from None
    rt = open_runtime()
    with progress("载入日历并重算时限 Loading the calendar, recomputing deadlines"):
        result = calendar_years.load_year(rt, override, cli_actor())
    console.print(
        f"[green]已载入 {result['year']} 年日历[/]"
        f"（{'官方完整安排' if result['official'] else '局部调整'}），"
        f"日历版本 {result['calendar_version']}，"
        f"重算了 {result['complaints_recomputed']} 件投诉的时限。"
    )


@calendar_app.command("show")
def calendar_show(
    year: Annotated[int, typer.Argument(help="年份，如 2026 Year")],
) -> None:
    """显示某年的节假日与调休上班日。"""
    rt = open_runtime()
    cal = rt.calendar()
    table = Table(title=f"{year} 年（{'推定' if cal.is_estimated(year) else '已公布'}）")
    table.add_column("日期")
    table.add_column("星期")
    table.add_column("安排")
    weekdays = "一二三四五六日"
    for d in cal.year_days(year):
        weekend = d.day.weekday() >= 5
        if (d.working and weekend) or (not d.working and (d.name or not weekend)):
            kind = "调休上班" if d.working else (d.name or "休息")
            table.add_row(d.day.isoformat(), "周" + weekdays[d.day.weekday()], kind)
    console.print(table)
    console.print(f"全年工作日 {sum(1 for d in cal.year_days(year) if d.working)} 天。")


@calendar_app.command("workdays")
def calendar_workdays(
    start: Annotated[str, typer.Argument(help="起始日期 YYYY-MM-DD Start date")],
    add: Annotated[int, typer.Argument(help="工作日数 Working days to add")],
) -> None:
    """START 之后第 ADD 个工作日。"""
    try:
        day = date.fromisoformat(start)
    except ValueError:
        console.print("[red]日期格式应为 YYYY-MM-DD[/]")
        raise typer.Exit(2) from None
    if not in_supported_range(day):
        console.print(f"[red]{OUT_OF_RANGE}[/]")
        raise typer.Exit(2)
    cal = open_runtime().calendar()
    result = cal.add_working_days(day, add)
    estimated = "（含推定年份）" if cal.estimated_between(day, result) else ""
    console.print(f"{day} 之后第 {add} 个工作日：[bold]{result}[/]{estimated}")


def rules(
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON Print JSON")] = False,
) -> None:
    """列出时限规则及其依据。"""
    from kesu.complaints import vocabulary as vocab
    from kesu.runtime import load_rules

    loaded = load_rules()
    if as_json:
        console.print_json(
            json.dumps(
                [
                    {
                        "id": r.id,
                        "name": r.name,
                        "length": r.length,
                        "unit": r.unit,
                        "basis": [b.citation for b in r.basis],
                    }
                    for r in loaded.values()
                ],
                ensure_ascii=False,
            )
        )
        return
    units = {"hours": "小时", "calendar_days": "日", "working_days": "个工作日"}
    kinds = {k: v["name"] for k, v in vocab.KINDS.items()}
    console.print("[bold]时限规则[/]（法定时限引用所持条文；运营商政策另行注明）\n")
    for r in loaded.values():
        scope = "、".join(kinds[k] for k in sorted(r.kinds))
        when = "；".join("、".join(sorted(v)) for v in r.when.values())
        tag = "[green]法定[/]" if r.statutory else "[yellow]政策[/]"
        console.print(
            f"{tag} [bold]{r.id}[/]  {r.name}  {r.length}{units[r.unit]}  "
            f"适用：{scope}{'（' + when + '）' if when else ''}"
        )
        for b in r.basis:
            console.print(f"      依据：{b.citation}", soft_wrap=True)
    console.print()
