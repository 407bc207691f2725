"""Files of work orders in: read, check every row, then register the good rows in batches.

`run(rt, path, actor, mapping, dry_run)` reads the file (channels.workorder_file), maps
its columns (channels.file_mapping), checks every row (channels.workorder_rows) before
anything is written, and, unless a dry run, hands the good rows to the one registration
in batches (channels.intake.receive_many → complaints.registration.bulk_import), each
with the idempotency key `import:<source>:<工单号>`: a work order registered before is
skipped, so importing the same file again creates nothing new. Bad rows write nothing;
the report names each (row, column, problem) and `error_workbook` gives them back as an
xlsx with an error column, to be corrected and imported again.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kesu.accounts.roles import Actor, as_principal, require
from kesu.channels import file_mapping, import_mappings, import_pipeline, intake
from kesu.channels.workorder_file import Cell, FileError, open_sheet
from kesu.channels.workorder_rows import BadRow, Checker, Good, RowError, extra_of
from kesu.complaints import import_history
from kesu.problems import Problem
from kesu.store.db import read

if TYPE_CHECKING:
    from kesu.runtime import Runtime

BATCH = 2000
MAX_FILE_BYTES = 64 * 1024 * 1024  # an uploaded file (the page); 100,000 rows is ~15 MB of csv
MAX_ROWS = 500_000
REPORT_ERRORS = 500  # the bad rows a report lists; the error workbook has them all

# progress(stage, done, total): stage "check" (rows read and checked) or "import"
Progress = Callable[[str, int, int | None], None]


@dataclass
class Outcome:
    """What an import found and did."""

    file_name: str
    sha256: str
    mapping: str
    source: str
    dry_run: bool
    kind: str = ""
    encoding: str | None = None
    headers: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    unmapped: list[str] = field(default_factory=list)
    total: int = 0
    good: int = 0
    created: int = 0
    skipped: int = 0
    bad: list[BadRow] = field(default_factory=list)

    def errors(self) -> list[RowError]:
        return [e for b in self.bad for e in b.errors]

    def report(self, limit: int = REPORT_ERRORS) -> dict[str, Any]:
        errors = self.errors()
        return {
            "file_name": self.file_name,
            "kind": self.kind,
            "encoding": self.encoding,
            "mapping": self.mapping,
            "source": self.source,
            "dry_run": self.dry_run,
            "columns": self.columns,
            "unmapped": self.unmapped,
            "total": self.total,
            "good": self.good,
            "bad": len(self.bad),
            "created": self.created,
            "skipped": self.skipped,
            "errors": [
                {"row": e.row, "column": e.column, "detail": e.detail} for e in errors[:limit]
            ],
            "errors_left_out": max(0, len(errors) - limit),
        }


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def run(
    rt: Runtime,
    path: Path,
    actor: Actor,
    mapping_name: str | None = None,
    dry_run: bool = False,
    file_name: str | None = None,
    progress: Progress | None = None,
    batch: int = BATCH,
    pipeline: bool | None = None,
) -> Outcome:
    """Check the file, then (unless `dry_run`) register its good rows; the outcome.

    A file that cannot be read or lacks a required column is refused as a whole
    (Problem 422, nothing written); bad rows are reported and left out. `pipeline`: read
    and check in a second process while this one writes (channels.import_pipeline;
    None: as its PIPELINE_BYTES says)."""
    p = as_principal(actor)
    require(p, "complaint.import")
    say = progress or (lambda _stage, _done, _total: None)
    mapping = import_mappings.get(rt, mapping_name)
    name = file_name or path.name
    out = Outcome(name, sha256_of(path), mapping.name, mapping.source, dry_run)
    try:
        sheet = open_sheet(path, name)
    except FileError as err:
        raise Problem(422, "unreadable_file", "Unreadable file", str(err)) from None
    try:
        cols = file_mapping.plan(mapping, sheet.headers)
        if cols.missing:
            raise Problem(
                422,
                "missing_columns",
                "Missing columns",
                file_mapping.describe_missing(mapping, cols),
            )
        out.kind, out.encoding, out.headers = sheet.kind, sheet.encoding, sheet.headers
        out.columns = {file_mapping.FIELDS[k]: cols.headers[i] for k, i in cols.index.items()}
        out.unmapped = cols.unmapped
        if pipeline is None:
            least = import_pipeline.PIPELINE_BYTES
            if least is None:
                least = rt.settings.import_pipeline_bytes
            pipeline = least is not None and path.stat().st_size >= least
        if pipeline and not dry_run:
            sheet.close()
            import_pipeline.run(rt, path, name, mapping, cols, p, out, say, batch, MAX_ROWS)
            return out
        good = _check(rt, mapping, cols, sheet, name, out, say)
    except FileError as err:
        raise Problem(422, "unreadable_file", "Unreadable file", str(err)) from None
    finally:
        sheet.close()
    out.good = len(good)
    if dry_run:
        out.skipped = _already(rt, good)
        return out
    done = 0
    say("import", 0, len(good))
    for start in range(0, len(good), batch):
        part = good[start : start + batch]
        numbers = intake.receive_many(rt, [g.complaint for g in part], p, [_extra(g) for g in part])
        out.created += len(numbers)
        out.skipped += len(part) - len(numbers)
        done += len(part)
        say("import", done, len(good))
    return out


def _check(rt, mapping, cols, sheet, name, out: Outcome, say: Progress) -> list[Good]:
    checker = Checker(mapping, cols, rt.clock(), name)
    good: list[Good] = []
    say("check", 0, None)
    for number, values in sheet.rows:
        out.total += 1
        if out.total > MAX_ROWS:
            raise FileError(f"文件超过 {MAX_ROWS:,} 行，请拆分后分批导入。")
        found = checker.check(number, values)
        if isinstance(found, Good):
            good.append(found)
        else:
            out.bad.append(BadRow(number, values, found))
        if out.total % 5000 == 0:
            say("check", out.total, None)
    say("check", out.total, out.total)
    return good


_extra = extra_of


def _already(rt: Runtime, good: list[Good]) -> int:
    """How many good rows were imported before (a dry run says they would be skipped)."""
    items = [{"idempotency_key": g.key} for g in good]
    with read(rt.engine) as conn:
        left = import_history.unregistered(conn, items)
    return len(items) - len(left)


def error_workbook(out: Outcome) -> bytes:
    """The bad rows as they were, with their row number and an error column (xlsx)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("错误行")
    red = Font(color="C00000")
    head = []
    for text in ["原行号", *out.headers, "错误说明"]:
        c = WriteOnlyCell(ws, value=text)
        c.font = Font(bold=True)
        c.fill = PatternFill("solid", fgColor="F2F2F2")
        head.append(c)
    ws.append(head)
    width = len(out.headers)
    for bad in out.bad:
        values = (list(bad.values) + [None] * width)[:width]
        note = WriteOnlyCell(ws, value="；".join(f"{e.column}：{e.detail}" for e in bad.errors))
        note.font = red
        ws.append([bad.row, *(_safe(ws, v) for v in values), note])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _safe(ws, value: Cell) -> Any:
    """A text starting with "=" stays text (openpyxl would write it as a formula)."""
    if isinstance(value, str) and value.startswith("="):
        from openpyxl.cell import WriteOnlyCell

        c = WriteOnlyCell(ws, value=value)
        c.data_type = "s"
        return c
    return value
