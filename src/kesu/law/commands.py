"""The law commands: `kesu law reindex|list|show|search` (the regulations held, one
article, colloquial search). kesu/cli.py registers them."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from kesu.cli_common import console, ensure_law_index, open_runtime, problem_exit, progress

law_app = typer.Typer(help="法规条文、检索与案例 Regulations, search, cases", no_args_is_help=True)


def _law_runtime():
    from kesu.law import articles as law

    rt = open_runtime()
    ensure_law_index(rt)
    return rt, law


@law_app.command("reindex")
def law_reindex() -> None:
    """重建法规索引（放入新的法规文件后运行）。Re-read the regulation files and cases."""
    from kesu.law import index_store as law
    from kesu.law.loader import REGULATIONS_DIR

    rt = open_runtime()
    console.print(f"法规目录：{REGULATIONS_DIR}（随包） 与 {rt.settings.law_dir}（本地）")
    with progress("建立法规索引 Indexing") as meter:
        result = law.reindex(rt, "cli", progress=meter.step)
    assert result is not None
    console.print(
        f"[green]完成[/]：{result['regulations']} 部法规、{result['articles']} 条条文、"
        f"{result['cases']} 个案例（指纹 {result['fingerprint'][:12]}）。"
    )


@law_app.command("list")
def law_list(
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON Print JSON")] = False,
) -> None:
    """列出收录的法规及完整程度。List the regulations held and how complete they are."""
    rt, law = _law_runtime()
    regs = law.regulations(rt)
    if as_json:
        console.print_json(json.dumps(regs, ensure_ascii=False))
        return
    table = Table(title="收录的法规 Regulations held")
    table.add_column("法规", overflow="fold")
    table.add_column("地域", no_wrap=True)
    table.add_column("收录情况", overflow="fold")
    for r in regs:
        table.add_row(
            f"{r['title']}\n[dim]简称：{r['short_title']}[/]",
            r["province"] or "全国",
            r["held"] if r["complete"] else f"[yellow]{r['held']}[/]",
        )
    console.print(table)
    console.print(
        "[dim]节录：系统只收录了部分条文，未收录的条文不会被引用。"
        "kesu law show 法规 条号 查看原文。[/]"
    )


@law_app.command("show")
def law_show(
    regulation: Annotated[str, typer.Argument(help="法规名称或简称，如 电信条例、消法")],
    article: Annotated[str, typer.Argument(help="条号，如 32、第三十二条、32条第1款")],
) -> None:
    """显示一条条文。Print one article, e.g. `kesu law show 电信条例 32`."""
    from kesu.problems import Problem

    rt, law = _law_runtime()
    try:
        a = law.article(rt, f"{regulation} {article}")
    except Problem as err:
        problem_exit(err)
        return
    console.print(
        f"[bold]{a['citation']}[/]"
        + ("  [yellow]（不完整：仅收录部分原文）[/]" if a["partial"] else "")
    )
    if a.get("chapter"):
        console.print(f"[dim]{a['regulation']} › {a['chapter']}[/]")
    console.print(a["text"], markup=False, highlight=False)


@law_app.command("search")
def law_search(
    query: Annotated[str, typer.Argument(help="口语化的问题，如：宽带坏了三天没人修")],
    limit: Annotated[int, typer.Option(help="条数 Results")] = 5,
    province: Annotated[str | None, typer.Option(help="省份 Province")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON Print JSON")] = False,
) -> None:
    """用大白话查找适用的条文。Find the governing articles from colloquial Chinese."""
    from kesu.problems import Problem

    rt, law = _law_runtime()
    try:
        result = law.search(rt, query, limit, province)
    except Problem as err:
        problem_exit(err)
        return
    if as_json:
        console.print_json(json.dumps(result, ensure_ascii=False))
        return
    if result["understood_as"]:
        said = "；".join(
            f"“{u['said']}”→{'、'.join(u['law_terms'])}" for u in result["understood_as"]
        )
        console.print(f"[dim]理解为：{said}[/]")
    if not result["results"]:
        console.print(
            "[yellow]没有找到相关条文。换个说法试试，或用 kesu law list 查看收录范围。[/]"
        )
    for i, r in enumerate(result["results"], 1):
        flag = " [yellow]（不完整）[/]" if r["partial"] else ""
        console.print(f"[bold]{i}. {r['citation']}[/]{flag}  [dim]相关度 {r['score']:.2f}[/]")
        console.print("   " + _marked(r["highlight"]))


def _marked(highlight: str) -> str:
    """The search highlight (escaped HTML with <mark>) as Rich markup."""
    import html
    import re

    from rich.markup import escape

    out = []
    for part in re.split(r"(<mark>.*?</mark>)", highlight):
        if part.startswith("<mark>"):
            out.append(f"[reverse]{escape(html.unescape(part[6:-7]))}[/reverse]")
        else:
            out.append(escape(html.unescape(part)))
    return "".join(out)
