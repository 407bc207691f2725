"""A large file imported on two cores: a reader process checks and builds, this one writes.

channels.file_import uses it when told (`pipeline=True`) or for a file of PIPELINE_BYTES
or more (None: only when told). The reader process
(`_reader`: forked when this process has no other thread, else spawned) reads the file,
checks each row (channels.workorder_rows) and, while this process is busy writing,
builds the good rows' complaint, deadline and history rows too
(complaints.bulk_rows.prepare); it sends them a batch at a time. This process first reads
the whole file through (workorder_file.scan: the zip's checksum, the XML or CSV syntax,
the number of rows), so a file refused as a whole still writes nothing; then it
registers each batch as it comes (channels.intake.receive_prepared: the same checks,
idempotency keys, numbers and rows as receive_many), building those the reader left
unbuilt because this process was waiting. Every bad row is reported and writes nothing.

One case differs from the one-process import: an xlsx cell the scan cannot judge (a
number that is not one, a shared string that does not exist — no Excel writes those)
stops the import where the reader meets it; the batches before are kept, and importing
the corrected file again skips them.
"""

from __future__ import annotations

import multiprocessing
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kesu.accounts import crypto
from kesu.accounts.roles import Principal
from kesu.channels.file_mapping import ColumnPlan, Mapping
from kesu.channels.workorder_file import FileError, open_sheet, scan
from kesu.channels.workorder_rows import BadRow, Checker, Good, item_of
from kesu.complaints.bulk_rows import Basis, Prepared, prepare_many
from kesu.problems import Problem

if TYPE_CHECKING:
    from kesu.runtime import Runtime

# A file of this size or more is imported on two processes when file_import.run is not
# told; None: the installation's setting decides (Settings.import_pipeline_bytes,
# KESU_IMPORT_PIPELINE_BYTES; 4 MiB on a machine with two cores or more). Measured on a
# quiet 2-core machine faster than bulk_import (bench/RESULTS.md, issue 16, 2026-12-08);
# on a machine busy with other sessions slower than one process (2026-12-07: the
# kernel's autogroup gives a session one share of the CPU however many processes it runs).
PIPELINE_BYTES: int | None = None


@dataclass(frozen=True)
class Job:
    """What the reader process needs (picklable, for a spawned process)."""

    path: str
    name: str
    mapping: Mapping
    columns: ColumnPlan
    basis: Basis
    keyring: crypto.Keyring
    batch: int
    max_rows: int


def _reader(job: Job, conn, written) -> None:
    """The reader process: ("rows", bad rows, items or built rows, built?, rows) per batch,
    then ("done",); ("refused", why) for a file it cannot read, ("error", trace)."""
    try:
        crypto.configure(job.keyring)
        checker = Checker(job.mapping, job.columns, job.basis.now, job.name)
        sent = total = 0
        sheet = open_sheet(Path(job.path), job.name)
        try:
            rows = iter(sheet.rows)
            while True:
                goods: list[dict[str, Any]] = []
                bads: list[BadRow] = []
                n = 0
                for number, values in rows:
                    total += 1
                    if total > job.max_rows:
                        raise FileError(f"文件超过 {job.max_rows:,} 行，请拆分后分批导入。")
                    found = checker.check(number, values)
                    if isinstance(found, Good):
                        goods.append(item_of(found))
                    else:
                        bads.append(BadRow(number, values, found))
                    n += 1
                    if n == job.batch:
                        break
                if n == 0:
                    break
                # The writer has work queued: build the rows here. Waiting: it builds them.
                built = sent - written.value >= 1
                payload: Any = goods
                if built:  # as plain lists: a dataclass per row costs more to unpickle
                    done = prepare_many(job.basis, goods)
                    payload = [[(x.item, x.row, x.planned, x.history) for x in done]]
                conn.send(("rows", bads, payload, built, n))
                sent += 1
        finally:
            sheet.close()
        conn.send(("done",))
    except FileError as err:
        conn.send(("refused", str(err)))
    except BaseException:  # noqa: BLE001 - told to the writer, which raises it
        conn.send(("error", traceback.format_exc()))
    finally:
        conn.close()


def run(
    rt: Runtime,
    path: Path,
    name: str,
    mapping: Mapping,
    columns: ColumnPlan,
    p: Principal,
    out: Any,
    say: Callable[[str, int, int | None], None],
    batch: int,
    max_rows: int,
) -> None:
    """Import the file (its columns planned, `out` the file_import.Outcome filled in)."""
    from kesu.channels import intake

    dialect = rt.engine.dialect.name  # rows built in the form its insert sends them
    basis = Basis(rt.rules, rt.calendar(), rt.sla_policies(), p.name, rt.clock(), dialect)
    keys = crypto.keyring()
    job = Job(
        str(path),
        name,
        mapping,
        columns,
        basis,
        crypto.Keyring(keys.keys, keys.hash_key, keys.source),
        batch,
        max_rows,
    )
    # A fork copies only the thread that forks: with others running (a server), spawn.
    ctx: Any = multiprocessing.get_context("fork" if threading.active_count() == 1 else "spawn")
    inbox, outbox = ctx.Pipe(duplex=False)
    written = ctx.Value("i", 0, lock=False)
    reader = ctx.Process(target=_reader, args=(job, outbox, written), daemon=True)
    reader.start()
    outbox.close()
    try:
        say("check", 0, None)
        try:
            total = scan(path, name)
        except FileError as err:
            raise Problem(422, "unreadable_file", "Unreadable file", str(err)) from None
        if total > max_rows:
            detail = f"文件超过 {max_rows:,} 行，请拆分后分批导入。"
            raise Problem(422, "unreadable_file", "Unreadable file", detail)
        say("check", total, total)
        say("import", 0, total)
        done = 0
        while True:
            try:
                message = inbox.recv()
            except EOFError:
                raise RuntimeError("导入的读取进程意外退出。") from None
            if message[0] == "done":
                break
            if message[0] == "refused":
                raise Problem(422, "unreadable_file", "Unreadable file", message[1])
            if message[0] == "error":
                raise RuntimeError("导入的读取进程出错：\n" + message[1])
            _, bads, items, built, n = message
            out.total += n
            out.bad.extend(bads)
            prepared = [Prepared(*x) for x in items[0]] if built else prepare_many(basis, items)
            out.good += len(prepared)
            if prepared:
                numbers = intake.receive_prepared(rt, prepared, p, basis)
                out.created += len(numbers)
                out.skipped += len(prepared) - len(numbers)
            written.value += 1
            done += n
            say("import", done, max(total, done))
    finally:
        if reader.is_alive():
            reader.terminate()
        reader.join()
        inbox.close()
