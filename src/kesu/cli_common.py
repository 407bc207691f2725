"""What every `kesu` command shares: the console, opening the runtime, the name the CLI acts
under, printing a refused request (a Problem) and exiting, and making sure the regulations
index is current before a command needs it."""

from __future__ import annotations

import typer
from rich.console import Console

from kesu.settings import Settings

console = Console()


def open_runtime():
    from kesu.runtime import Runtime

    return Runtime.start(Settings.from_env())


def describe_db(url: str) -> str:
    if url.startswith("sqlite"):
        return f"SQLite（{url.split(':///', 1)[-1]}）"
    return "PostgreSQL"


def cli_actor() -> str:
    import getpass

    try:
        return f"cli:{getpass.getuser()}"[:64]
    except Exception:
        return "cli"


def ensure_law_index(rt) -> None:
    from kesu.law import index_store as law

    with console.status("检查法规索引 Checking the regulations index…"):
        result = law.ensure_indexed(rt)
    if result:
        console.print(
            f"[green]法规索引已更新[/]：{result['regulations']} 部法规、"
            f"{result['articles']} 条条文、{result['cases']} 个案例。"
        )


def problem_exit(err) -> None:
    console.print(f"[red]{err.detail}[/]")
    raise typer.Exit(1)
