"""The ministry platform's appeal file imported (`kesu appeals import FILE`): csv or xlsx
(channels.workorder_file reads either), every row checked first (appeals.import_rows);
one bad row and nothing is written, every problem reported with its row; otherwise each
row registered through appeals.service.receive with channel "import", idempotent by its
appeal number (external_ref): a file imported twice registers nothing the second time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kesu.accounts.roles import Actor, as_principal, require
from kesu.appeals import import_rows, records, service
from kesu.appeals.schemas import AppealIn
from kesu.channels.workorder_file import FileError, open_sheet
from kesu.clock import to_beijing
from kesu.problems import Problem
from kesu.store.db import read

if TYPE_CHECKING:
    from kesu.runtime import Runtime

Step = Callable[[str, int, "int | None"], None]


@dataclass
class Result:
    file_name: str
    kind: str
    encoding: str | None
    columns: dict[str, str]  # report name → the file's header
    unknown: list[str]
    total: int = 0
    bad: list[import_rows.Row] = field(default_factory=list)
    created: list[str] = field(default_factory=list)  # the new appeals' numbers
    skipped: int = 0  # imported before (the same 申诉编号)
    dry_run: bool = False

    @property
    def good(self) -> int:
        return self.total - len(self.bad)


def _refused(detail: str) -> Problem:
    return Problem(422, "unreadable_file", "File refused", detail)


def check(rt: Runtime, path: Path, step: Step | None = None) -> tuple[Result, list]:
    """Every row read and checked; nothing written."""
    try:
        sheet = open_sheet(path)
    except FileError as err:
        raise _refused(str(err)) from None
    try:
        found = import_rows.plan(sheet.headers)
        if found.missing:
            raise Problem(
                422,
                "missing_columns",
                "Missing columns",
                f"文件缺少必需的列：{'、'.join(found.missing)}（表头在第{sheet.header_row}行）。",
            )
        columns = {import_rows.COLUMNS[f][0]: sheet.headers[i] for f, i in found.columns.items()}
        result = Result(path.name, sheet.kind, sheet.encoding, columns, found.unknown)
        with read(rt.engine) as conn:
            known = records.operators(conn)
        today = to_beijing(rt.clock()).date()
        rows: list[import_rows.Row] = []
        seen: dict[str, int] = {}
        for number, cells in sheet.rows:
            row = import_rows.read_row(number, cells, found.columns, known, today)
            ref = row.ref
            if ref and ref in seen:
                row.errors.append(f"申诉编号“{ref}”与第{seen[ref]}行重复")
            elif ref:
                seen[ref] = number
            rows.append(row)
            result.total += 1
            if row.errors:
                result.bad.append(row)
            if step is not None and result.total % 50 == 0:
                step("check", result.total, None)
    finally:
        sheet.close()
    if step is not None:
        step("check", result.total, result.total)
    return result, rows


def run(
    rt: Runtime, path: Path, actor: Actor, dry_run: bool = False, step: Step | None = None
) -> Result:
    """Check the file; register its rows when every one is good (and not a dry run)."""
    p = as_principal(actor)
    require(p, "appeal.register")
    result, rows = check(rt, path, step)
    result.dry_run = dry_run
    if result.bad or not rows:
        return result
    if dry_run:
        with read(rt.engine) as conn:
            result.skipped = sum(1 for r in rows if records.by_external_ref(conn, r.ref))
        return result
    for done, row in enumerate(rows, start=1):
        view, created = service.receive(rt, AppealIn.model_validate(row.values), p)
        if created:
            result.created.append(view["number"])
        else:
            result.skipped += 1
        if step is not None:
            step("import", done, len(rows))
    return result
