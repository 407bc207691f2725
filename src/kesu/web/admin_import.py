"""The import page for admins (/admin/import): upload a file of work orders (csv or
xlsx), follow its job while it runs (htmx polls the job's row, the work is done in a
background thread: channels.import_jobs), read the report, download the bad rows as an
xlsx with an error column; the column mappings, and a form to save one.
Everything goes through the services (permission complaint.import, audit)."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from kesu.accounts import roles as r
from kesu.channels import file_mapping, import_jobs, import_mappings
from kesu.channels.file_import import MAX_FILE_BYTES
from kesu.complaints import vocabulary as vocab
from kesu.problems import Problem
from kesu.web.pages import Page, PageRoute, redirect, render, staff

router = APIRouter(route_class=PageRoute, include_in_schema=False)
IMPORT_BODY_MAX = MAX_FILE_BYTES + 1024 * 1024  # the file and the form around it
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _allowed(pg: Page) -> None:
    if not pg.can("complaint.import"):
        raise r.forbidden(pg.p, r.permissions()["complaint.import"]["name"])


def _page(pg: Page, status: int = 200, form: dict[str, Any] | None = None) -> Response:
    return render(
        pg,
        "admin/import.html",
        status=status,
        jobs=import_jobs.recent(pg.rt, pg.p),
        mappings=import_mappings.listing(pg.rt),
        default=file_mapping.default_name(),
        fields=file_mapping.FIELDS,
        form=form or {},
        max_mb=MAX_FILE_BYTES // (1024 * 1024),
        channels=vocab.CHANNELS,
    )


@router.get("/admin/import")
async def import_page(pg: Page = Depends(staff)) -> Response:
    _allowed(pg)
    return await run_in_threadpool(_page, pg)


@router.post("/admin/import")
async def import_upload(pg: Page = Depends(staff)) -> Response:
    _allowed(pg)  # before the file is read
    form = await pg.form()
    upload = form.get("file")
    raw_name = Path(str(getattr(upload, "filename", "") or "")).name
    name = "".join(ch for ch in raw_name if ch.isprintable())[:200]  # cleaned, not refused
    mapping = str(form.get("mapping") or "")
    dry_run = bool(form.get("dry_run"))
    if upload is None or not hasattr(upload, "read") or not name:
        pg.flash.append(("error", pg.t("import.no_file")))
        return await run_in_threadpool(_page, pg, 422)
    suffix = Path(name).suffix.lower()
    if suffix not in (".csv", ".xlsx", ".txt"):
        pg.flash.append(("error", pg.t("import.bad_type")))
        return await run_in_threadpool(_page, pg, 422)
    with tempfile.NamedTemporaryFile("wb", suffix=suffix, delete=False) as tmp:
        size = 0
        while chunk := await upload.read(1 << 20):
            size += len(chunk)
            if size > MAX_FILE_BYTES:
                break
            tmp.write(chunk)
    path = Path(tmp.name)
    if size > MAX_FILE_BYTES or size == 0:
        path.unlink(missing_ok=True)
        pg.flash.append(("error", pg.t("import.too_big" if size else "import.empty")))
        return await run_in_threadpool(_page, pg, 422)
    try:
        job = await run_in_threadpool(import_jobs.start, pg.rt, pg.p, path, name, mapping, dry_run)
    except Problem as problem:
        path.unlink(missing_ok=True)
        if problem.status == 403:
            raise
        pg.flash.append(("error", problem.detail))
        return await run_in_threadpool(_page, pg, problem.status)
    return redirect(f"/admin/import/{job}", pg.request)


@router.get("/admin/import/{job_id}")
async def import_job(job_id: int, pg: Page = Depends(staff)) -> Response:
    """The job: its progress while it runs (the fragment polls itself), then its report."""
    _allowed(pg)
    job = await run_in_threadpool(import_jobs.get, pg.rt, pg.p, job_id)
    fragment = pg.request.query_params.get("part") == "status"
    template = "admin/_import_job.html" if fragment else "admin/import_job.html"
    return render(pg, template, job=job, report=job["report"] or {})


@router.get("/admin/import/{job_id}/errors.xlsx")
async def import_errors(job_id: int, pg: Page = Depends(staff)) -> Response:
    _allowed(pg)
    name, data = await run_in_threadpool(import_jobs.error_file, pg.rt, pg.p, job_id)
    return Response(
        data,
        media_type=XLSX,
        headers={
            "Content-Disposition": "attachment; filename*=UTF-8''" + quote(name),
            "Cache-Control": "no-store",
        },
    )


_LINE = re.compile(r"^\s*([^:：]+)[:：](.*)$")


def parse_columns(text: str) -> dict[str, list[str]]:
    """`字段: 列名1、列名2` per line (the field's key or its Chinese name) → columns."""
    by_name = {v: k for k, v in file_mapping.FIELDS.items()}
    out: dict[str, list[str]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        m = _LINE.match(line)
        if m is None:
            raise ValueError(f"第 {number} 行应写成“字段: 列名1、列名2”。")
        key = m.group(1).strip()
        key = by_name.get(key, key)
        if key not in file_mapping.FIELDS:
            raise ValueError(f"第 {number} 行：未知的字段“{m.group(1).strip()}”。")
        out[key] = [h.strip() for h in re.split(r"[,，、;；]", m.group(2)) if h.strip()]
    return out


@router.post("/admin/import/mappings")
async def mapping_save(pg: Page = Depends(staff)) -> Response:
    _allowed(pg)
    form = {k: str(v) for k, v in (await pg.form()).items() if isinstance(v, str)}
    try:
        columns = parse_columns(form.get("columns", ""))
    except ValueError as err:
        pg.flash.append(("error", str(err)))
        return await run_in_threadpool(_page, pg, 422, form)
    spec = {
        "label": form.get("label") or form.get("name"),
        "source": form.get("source"),
        "channel": form.get("channel") or "hotline",
        "province": form.get("province") or None,
        "columns": columns,
    }
    name = form.get("name", "").strip()
    try:
        await run_in_threadpool(import_mappings.save, pg.rt, pg.p, name, spec)
    except Problem as problem:
        if problem.status == 403:
            raise
        pg.flash.append(("error", problem.detail))
        return await run_in_threadpool(_page, pg, 422, form)
    pg.flash.append(("ok", pg.t("import.mapping_saved", name=name)))
    return await run_in_threadpool(_page, pg)
