"""Import jobs: each file checked or imported, its progress and its report (import_jobs).

`execute` runs channels.file_import for a job and keeps its row current (state, rows
checked and imported), so the page can poll it; at the end it stores the report and the
workbook of the bad rows. `start` does the same in a background thread, so an upload of
100,000 rows does not hold a web worker for minutes. The CLI runs `execute` in its own
process and leaves the same record.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from kesu.accounts.audit import audit
from kesu.accounts.roles import Actor, Principal, as_principal, require
from kesu.channels import file_import, import_mappings
from kesu.channels.file_import import Outcome, Progress
from kesu.problems import Problem, not_found
from kesu.store import tables as t
from kesu.store.db import read, write

if TYPE_CHECKING:
    from kesu.runtime import Runtime

log = logging.getLogger("kesu.import")
J = t.import_jobs.c
RUNNING = ("queued", "checking", "importing")
# A running job whose row has not moved for this long died with its process.
STALE = timedelta(minutes=15)
ERROR_FILE_DAYS = 7  # the bad rows' workbook (customers' numbers in it) is kept this long
_EVERY = 0.5  # seconds between progress writes


def create(rt: Runtime, actor: Actor, file_name: str, sha256: str, mapping: str, dry_run: bool):
    p = as_principal(actor)
    require(p, "complaint.import")
    found = import_mappings.get(rt, mapping)
    now = rt.clock()
    with write(rt.engine) as conn:
        return conn.execute(
            t.import_jobs.insert()
            .values(
                created_at=now,
                updated_at=now,
                created_by=p.name,
                file_name=file_name[:200],
                file_sha256=sha256,
                mapping=found.name,
                source=found.source,
                dry_run=dry_run,
                state="queued",
                report={},
            )
            .returning(J.id)
        ).scalar_one()


def _set(rt: Runtime, job_id: int, **values: Any) -> None:
    with write(rt.engine) as conn:
        conn.execute(
            update(t.import_jobs).where(J.id == job_id).values(updated_at=rt.clock(), **values)
        )


def execute(
    rt: Runtime,
    job_id: int,
    path: Path,
    actor: Actor,
    file_name: str,
    progress: Progress | None = None,
    batch: int = file_import.BATCH,
) -> Outcome:
    """Run job `job_id` on the file at `path`; its row follows. A refused file: Problem."""
    p = as_principal(actor)
    with read(rt.engine) as conn:
        job = conn.execute(select(t.import_jobs).where(J.id == job_id)).one()
    last = [0.0]

    def step(stage: str, done: int, total: int | None) -> None:
        if progress is not None:
            progress(stage, done, total)
        now = time.monotonic()
        if now - last[0] < _EVERY and done != total:
            return
        last[0] = now
        state = "checking" if stage == "check" else "importing"
        counts = {"total_rows": done} if stage == "check" else {"done_rows": done}
        _set(rt, job_id, state=state, **counts)

    try:
        out = file_import.run(rt, path, p, job.mapping, job.dry_run, file_name, step, batch)
    except Problem as problem:
        state = "refused" if problem.status == 422 else "failed"
        _finish(rt, job_id, p, state, {"problem": problem.detail, "code": problem.code}, None)
        raise
    except Exception:
        log.exception("import job %s failed", job_id)
        detail = "导入中断：服务器内部错误，已记录。已导入的批次保留，再次导入同一文件会跳过它们。"
        _finish(rt, job_id, p, "failed", {"problem": detail, "code": "internal_error"}, None)
        raise
    errors = file_import.error_workbook(out) if out.bad else None
    _finish(rt, job_id, p, "done", out.report(), errors, out)
    return out


def _finish(rt, job_id, p: Principal, state, report, errors: bytes | None, out=None) -> None:
    now = rt.clock()
    counts: dict[str, Any] = {}
    if out is not None:
        counts = {
            "total_rows": out.total,
            "bad_rows": len(out.bad),
            "done_rows": out.created + out.skipped,
            "created": out.created,
            "skipped": out.skipped,
        }
    encoded = base64.b64encode(errors).decode() if errors else None
    with write(rt.engine) as conn:
        _drop_old_error_files(conn, now)
        conn.execute(
            update(t.import_jobs)
            .where(J.id == job_id)
            .values(
                state=state,
                report=report,
                error_file=encoded,
                updated_at=now,
                finished_at=now,
                **counts,
            )
        )
        audit(conn, p, now, "import.file", "import_job", str(job_id), {"state": state, **counts})


def _drop_old_error_files(conn, now) -> None:
    """The bad rows' workbooks are kept ERROR_FILE_DAYS days (they hold customers' data)."""
    conn.execute(
        update(t.import_jobs)
        .where(J.finished_at < now - timedelta(days=ERROR_FILE_DAYS), J.error_file.isnot(None))
        .values(error_file=None)
    )


def start(rt: Runtime, actor: Actor, path: Path, file_name: str, mapping: str, dry_run: bool):
    """A job for the file at `path` run in a background thread (the file is removed after)."""
    p = as_principal(actor)
    job_id = create(rt, p, file_name, file_import.sha256_of(path), mapping, dry_run)

    def work() -> None:
        try:
            execute(rt, job_id, path, p, file_name)
        except Exception:  # recorded on the job row
            pass
        finally:
            path.unlink(missing_ok=True)

    threading.Thread(target=work, name=f"kesu-import-{job_id}", daemon=True).start()
    return job_id


def _present(rt: Runtime, row) -> dict[str, Any]:
    job = {k: v for k, v in row._mapping.items() if k != "error_file"}
    job["has_error_file"] = bool(row._mapping.get("error_file"))
    if job["state"] in RUNNING and rt.clock() - row.updated_at > STALE:
        job["state"] = "interrupted"
    job["running"] = job["state"] in RUNNING
    return job


def get(rt: Runtime, actor: Actor, job_id: int) -> dict[str, Any]:
    p = as_principal(actor)
    require(p, "complaint.import")
    job_id = job_id if 0 < job_id < 2**62 else 0  # no such job (and no overflow in SQL)
    with read(rt.engine) as conn:
        cols = [c for c in t.import_jobs.c if c.name != "error_file"]
        row = conn.execute(
            select(*cols, J.error_file.isnot(None).label("error_file")).where(J.id == job_id)
        ).first()
    if row is None:
        raise not_found("导入任务", str(job_id))
    return _present(rt, row)


def recent(rt: Runtime, actor: Actor, limit: int = 20) -> list[dict[str, Any]]:
    p = as_principal(actor)
    require(p, "complaint.import")
    cols = [c for c in t.import_jobs.c if c.name not in ("error_file", "report")]
    with read(rt.engine) as conn:
        rows = conn.execute(
            select(*cols, J.error_file.isnot(None).label("error_file"))
            .order_by(J.id.desc())
            .limit(limit)
        ).all()
    return [_present(rt, r) for r in rows]


def error_file(rt: Runtime, actor: Actor, job_id: int) -> tuple[str, bytes]:
    """The workbook of a job's bad rows (file name, bytes); audited: it holds customers' data."""
    p = as_principal(actor)
    require(p, "complaint.import")
    job_id = job_id if 0 < job_id < 2**62 else 0  # no such job (and no overflow in SQL)
    now = rt.clock()
    with write(rt.engine) as conn:  # its own transaction: a refusal below keeps it
        _drop_old_error_files(conn, now)
    with write(rt.engine) as conn:
        row = conn.execute(select(J.file_name, J.error_file).where(J.id == job_id)).first()
        if row is None or not row.error_file:
            raise Problem(
                404, "no_error_file", "No error file", f"导入任务 {job_id} 没有可下载的错误行文件。"
            )
        audit(conn, p, now, "import.error_file", "import_job", str(job_id), {})
    stem = Path(row.file_name).stem or "import"
    return f"{stem}-错误行.xlsx", base64.b64decode(row.error_file)
