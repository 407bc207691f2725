"""What every `kesu` command shares: the console, opening the runtime, the name the CLI acts
under, printing a refused request (a Problem) and exiting, making sure the regulations
index is current before a command needs it, and the progress of long commands."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

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
    from kesu.store.db import read

    with read(rt.engine) as conn:
        current = law.stored_fingerprint(conn) == law.files_fingerprint(rt)
    if current:
        return
    with progress("建立法规索引 Indexing the regulations") as meter:
        result = law.reindex(rt, "system", only_if_changed=True, progress=meter.step)
    if result:
        console.print(
            f"[green]法规索引已更新[/]：{result['regulations']} 部法规、"
            f"{result['articles']} 条条文、{result['cases']} 个案例。"
        )


def problem_exit(err) -> None:
    console.print(f"[red]{err.detail}[/]")
    raise typer.Exit(1)


# -- progress of long commands ---------------------------------------------------------------
# On a terminal: a progress bar (or a spinner when the size is unknown) on stderr. Otherwise
# (a pipe, a log file, a cron job): plain lines on stderr, one at each tenth of the way and
# at least one every KESU_PROGRESS_SECONDS (default 10) while the work goes on, so a log
# shows the command is alive and how far it got. stdout stays for the command's output.

err_console = Console(stderr=True)


def _every() -> float:
    try:
        return max(float(os.environ.get("KESU_PROGRESS_SECONDS", "10")), 0.05)
    except ValueError:
        return 10.0


class Meter:
    """What a long command reports: `update(done, total)`, `advance(n)`, `step(text)`."""

    def __init__(self, label: str, total: int | None, tty: bool) -> None:
        self.label, self.total, self.done, self.text = label, total, 0, ""
        self.tty = tty
        self.started = time.monotonic()
        self._lock = threading.Lock()
        self._said_at = self.started
        self._tenth = 0
        self._bar: Any = None
        self._task: Any = None

    # what the command calls
    def update(self, done: int, total: int | None = None) -> None:
        with self._lock:
            self.done = done
            if total is not None:
                self.total = total
        self._show(tenth_step=True)

    def advance(self, n: int = 1) -> None:
        self.update(self.done + n)

    def step(self, text: str, total: int | None = None) -> None:
        """A new stage of the work (its own count starts again when it has a total)."""
        with self._lock:
            self.text, self.done, self.total, self._tenth = text, 0, total, 0
        self._show(force=True)

    # how it is shown
    def _line(self, final: bool = False) -> str:
        head = f"{self.label}" + (f"（{self.text}）" if self.text and not final else "")
        took = int(time.monotonic() - self.started)
        if final:
            count = f" {self.done}/{self.total}" if self.total else ""
            return f"{head}：完成{count}，用时 {took} 秒"
        if self.total:
            pct = 100 * self.done // max(self.total, 1)
            return f"{head}：已处理 {self.done}/{self.total}（{pct}%），已用 {took} 秒"
        return f"{head}：进行中，已用 {took} 秒"

    def _show(self, force: bool = False, tenth_step: bool = False) -> None:
        if self.tty:
            if self._bar is not None:
                desc = self.label + (f"：{self.text}" if self.text else "")
                self._bar.update(
                    self._task, completed=self.done, total=self.total, description=desc
                )
            return
        with self._lock:
            tenth = 10 * self.done // self.total if self.total else 0
            crossed = tenth_step and tenth > self._tenth and tenth < 10
            due = time.monotonic() - self._said_at >= _every()
            if not (force or crossed or due):
                return
            self._tenth = max(self._tenth, tenth)
            self._said_at = time.monotonic()
            line = self._line()
        print(line, file=sys.stderr, flush=True)

    def _heartbeat(self, stop: threading.Event) -> None:
        while not stop.wait(min(_every(), 1.0)):
            self._show()


@contextmanager
def progress(label: str, total: int | None = None) -> Iterator[Meter]:
    """A long command's progress: `with progress("载入演示数据", 2000) as m: … m.update(n)`."""
    tty = err_console.is_terminal
    meter = Meter(label, total, tty)
    if tty:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err_console,
            transient=True,
        ) as bar:
            meter._bar, meter._task = bar, bar.add_task(label, total=total)
            yield meter
        return
    print(f"{label}：开始", file=sys.stderr, flush=True)
    stop = threading.Event()
    beat = threading.Thread(target=meter._heartbeat, args=(stop,), daemon=True)
    beat.start()
    try:
        yield meter
    finally:
        stop.set()
        beat.join()
    print(meter._line(final=True), file=sys.stderr, flush=True)
