"""Evidence on complaints: images, PDFs and audio recordings, with size and type limits.

A file's type is decided by its first bytes (its "magic"), never by the name or the
content type the client sent; anything else is refused. The files are kept in the
database (`complaint_attachments`), written with their event and audit entry in one
transaction. Retention empties them when the complaint is anonymised
(`kesu.complaints.retention`), unless a legal hold keeps them.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from datetime import datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from kesu.accounts import masking
from kesu.accounts.audit import audit
from kesu.accounts.roles import Actor, as_principal, require, require_any
from kesu.clock import to_beijing
from kesu.complaints import events, queries
from kesu.complaints import vocabulary as vocab
from kesu.problems import Problem
from kesu.store import tables as t
from kesu.store.db import read, write

if TYPE_CHECKING:
    from kesu.runtime import Runtime

A = t.complaint_attachments.c

# -- operator policy ------------------------------------------------------------------
# Large enough for phone photos, scanned bills and call recordings of a few minutes;
# small enough that the database (which holds the files) stays manageable.
MAX_FILE_BYTES = 10 * 1024 * 1024  # one file: 10 MB
MAX_BYTES = MAX_FILE_BYTES  # the name the pages use
MAX_FILES = 20  # files on one complaint
MAX_TOTAL_BYTES = 50 * 1024 * 1024  # all files of one complaint together: 50 MB
# The largest request body an upload may send: one file plus the multipart framing.
UPLOAD_BODY_MAX = MAX_FILE_BYTES + 1024 * 1024
MAX_FILENAME = 200

# Staff may add evidence when they may register, handle or answer complaints.
UPLOAD_PERMISSIONS = ("complaint.register", "complaint.handle", "complaint.answer")
SOURCES = ("staff", "customer")
ORIGINAL = "original"  # a channel's original message (an email as received)
CUSTOMER_LABEL = "客户"

# The canonical content type of each type accepted → its name and file extensions
# (the first one is added to a name that does not end in one of them).
TYPES: dict[str, tuple[str, tuple[str, ...]]] = {
    "image/jpeg": ("JPEG", (".jpg", ".jpeg", ".jpe")),
    "image/png": ("PNG", (".png",)),
    "image/gif": ("GIF", (".gif",)),
    "image/webp": ("WebP", (".webp",)),
    "application/pdf": ("PDF", (".pdf",)),
    "audio/mpeg": ("MP3", (".mp3",)),
    "audio/wav": ("WAV", (".wav",)),
    "audio/amr": ("AMR", (".amr",)),
    "audio/amr-wb": ("AMR-WB", (".awb", ".amr")),
    "audio/mp4": ("M4A", (".m4a", ".mp4")),
}
ALLOWED_TEXT = "JPEG、PNG、GIF、WebP 图片，PDF 文档，MP3、WAV、AMR、M4A 录音"
_MP4_AUDIO_BRANDS = (b"M4A ", b"mp42", b"isom")


def _mp3_frame(head: bytes) -> bool:
    """An MPEG audio layer III frame header (a file without an ID3 tag)."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version = (head[1] >> 3) & 0b11  # 01 is reserved
    layer = (head[1] >> 1) & 0b11  # 01 is layer III
    bitrate = head[2] >> 4  # 1111 is invalid
    rate = (head[2] >> 2) & 0b11  # 11 is reserved
    return version != 0b01 and layer == 0b01 and bitrate != 0b1111 and rate != 0b11


def sniff(data: bytes) -> str | None:
    """The canonical content type of an accepted file, from its first bytes; else None."""
    head = data[:16]
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "audio/wav"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"ID3") or _mp3_frame(head):
        return "audio/mpeg"
    if head.startswith(b"#!AMR-WB"):
        return "audio/amr-wb"
    if head.startswith(b"#!AMR"):
        return "audio/amr"
    if head[4:8] == b"ftyp" and head[8:12] in _MP4_AUDIO_BRANDS:
        return "audio/mp4"
    return None


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f}".rstrip("0").rstrip(".") + " MB"


def check(data: bytes) -> str:
    """The content type of an acceptable file; a problem for an empty, too big or refused one."""
    if not data:
        raise Problem(422, "attachment_empty", "Empty file", "文件为空，请重新选择要上传的文件。")
    if len(data) > MAX_FILE_BYTES:
        raise Problem(
            413,
            "attachment_too_large",
            "Attachment too large",
            f"文件过大：单个附件最大 {_mb(MAX_FILE_BYTES)}。",
            max_bytes=MAX_FILE_BYTES,
        )
    content_type = sniff(data)
    if content_type is None:
        raise Problem(
            415,
            "attachment_type_refused",
            "Attachment type refused",
            f"不支持该文件类型（按文件内容识别，与文件名无关）。可上传：{ALLOWED_TEXT}。",
            allowed=sorted(TYPES),
        )
    return content_type


_PATH_SEPARATORS = re.compile(r"[\\/]")
_WINDOWS_RESERVED = re.compile(r'[<>:"|?*]')
# Control characters, invisible formatting (bidi overrides that turn "gpj.exe" around),
# surrogates and line or paragraph separators.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def clean_filename(name: str | None, content_type: str) -> str:
    """A safe file name: no path, no control characters, at most 200 characters, Chinese
    kept; ending in an extension of the type found in the file (added when missing)."""
    name = unicodedata.normalize("NFC", name or "")
    name = _PATH_SEPARATORS.split(name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in _DROPPED_CATEGORIES)
    name = _WINDOWS_RESERVED.sub("_", name)
    name = " ".join(name.split()).strip(" .")
    extensions = TYPES[content_type][1]
    stem, ext = os.path.splitext(name)
    if ext.lower() not in extensions:
        stem, ext = name, extensions[0]
    stem = stem.strip(" .") or "附件"
    return stem[: MAX_FILENAME - len(ext)] + ext


def _iso(value: datetime | None) -> str | None:
    return None if value is None else to_beijing(value).isoformat()


def view(number: str, row: Any) -> dict[str, Any]:
    """An attachment's metadata as the API shows it (the name masked like other texts)."""
    return {
        "id": row.id,
        "filename": masking.text(row.filename),
        "content_type": row.content_type,
        "size": row.size,
        "sha256": row.sha256,
        "source": row.source,
        "uploaded_by": CUSTOMER_LABEL if row.source == "customer" else row.uploaded_by,
        "uploaded_at": _iso(row.uploaded_at),
        "url": f"/api/v1/complaints/{number}/attachments/{row.id}",
    }


_METADATA = [c for c in t.complaint_attachments.columns if c.name != "data"]


def _not_found(number: str, attachment_id: int) -> Problem:
    return Problem(
        404,
        "attachment_not_found",
        "Attachment not found",
        f"投诉单“{number}”没有编号为 {attachment_id} 的附件（或已按保存期限删除）。",
    )


def add(
    rt: Runtime,
    number: str,
    filename: str,
    data: bytes,
    actor: Actor,
    source: str = "staff",
) -> dict[str, Any]:
    """Add a file to a complaint; returns its metadata. Nothing is stored when refused.

    Staff need to be able to register, handle or answer complaints; a customer adds
    to their own complaints while they are open. A customer's upload is always
    `source` customer.
    """
    p = as_principal(actor)
    if p.kind == "customer":
        source = "customer"
    else:
        require_any(p, UPLOAD_PERMISSIONS, "添加投诉附件")
        if source not in SOURCES:
            raise Problem(
                422,
                "invalid_value",
                "Invalid source",
                f"附件来源（source）的取值无效，可选：{'、'.join(SOURCES)}。",
            )
    data = bytes(data)
    content_type = check(data)
    name = clean_filename(filename, content_type)
    now = rt.clock()
    with write(rt.engine) as conn:
        # Locked (PostgreSQL): concurrent uploads to one complaint count one after another.
        row = queries.load_visible(conn, number, p, lock=True)
        if row.anonymised_at is not None:
            raise Problem(
                409,
                "already_anonymised",
                "Already anonymised",
                f"投诉单 {number} 的个人信息已按保存期限匿名化，不能再添加附件。",
            )
        if p.kind == "customer" and not row.is_open:
            raise Problem(
                409,
                "complaint_closed",
                "Complaint closed",
                f"投诉单 {number} 已{vocab.STATUSES[row.status]['name']}，不能再补充材料；"
                "如有新的问题，请重新投诉。",
            )
        _within_limits(conn, row.id, number, len(data))
        values, aid = _store(conn, row, p, now, name, data, content_type, source)
    return view(number, SimpleNamespace(**values, id=aid))


def _within_limits(conn, complaint_id: int, number: str, size: int) -> None:
    """Files and bytes on one complaint (a channel's original message is not counted)."""
    files, total = conn.execute(
        select(func.count(), func.coalesce(func.sum(A.size), 0)).where(
            A.complaint_id == complaint_id, A.deleted_at.is_(None), A.source != ORIGINAL
        )
    ).one()
    if files >= MAX_FILES:
        raise Problem(
            409,
            "attachment_limit",
            "Too many attachments",
            f"每张投诉单最多 {MAX_FILES} 个附件，投诉单 {number} 已有 {files} 个。",
            max_files=MAX_FILES,
        )
    if total + size > MAX_TOTAL_BYTES:
        raise Problem(
            409,
            "attachment_limit",
            "Attachments too large in total",
            f"每张投诉单的附件合计最大 {_mb(MAX_TOTAL_BYTES)}，投诉单 {number} 已用 "
            f"{_mb(total)}，本文件 {_mb(size)}。",
            max_total_bytes=MAX_TOTAL_BYTES,
        )


def _store(conn, row, p, now, name, data, content_type, source) -> tuple[dict[str, Any], int]:
    digest = hashlib.sha256(data).hexdigest()
    values = {
        "complaint_id": row.id,
        "filename": name,
        "content_type": content_type,
        "size": len(data),
        "sha256": digest,
        "data": data,
        "source": source,
        "uploaded_by": p.name[:64],
        "uploaded_at": now,
        "deleted_at": None,
    }
    aid = conn.execute(t.complaint_attachments.insert().values(values).returning(A.id)).scalar_one()
    # complaint_events is append-only and outlives anonymisation: the name goes in masked.
    events.record_event(
        conn,
        row,
        now,
        "attachment_added",
        p.name,
        {
            "attachment_id": aid,
            "filename": masking.text(name),
            "size": len(data),
            "content_type": content_type,
        },
    )
    audit(
        conn,
        p,
        now,
        "attachment.add",
        "complaint",
        row.number,
        {
            "attachment_id": aid,
            "content_type": content_type,
            "size": len(data),
            "sha256": digest,
            "source": source,
        },
    )
    return values, aid


def keep(conn, row, now: datetime, actor: Actor, filename: str | None, data: bytes) -> int:
    """A channel's evidence file on a complaint, in the caller's transaction (the mail's
    attachments): the same checks as an upload (type by its bytes, size, limits), from
    the customer; raises the upload's Problem when refused. Its id."""
    data = bytes(data)
    content_type = check(data)
    _within_limits(conn, row.id, row.number, len(data))
    name = clean_filename(filename, content_type)
    return _store(conn, row, as_principal(actor), now, name, data, content_type, "customer")[1]


def keep_original(
    conn, row, now: datetime, actor: Actor, filename: str, data: bytes, content_type: str
) -> int:
    """The message a complaint arrived in, as received (an email's `original.eml`): kept
    as evidence in the caller's transaction, emptied by retention like every file; not
    counted against the customer's limits. Its id."""
    p, name = as_principal(actor), filename[:MAX_FILENAME]
    return _store(conn, row, p, now, name, bytes(data), content_type, ORIGINAL)[1]


def list_for(rt: Runtime, number: str, actor: Actor) -> list[dict[str, Any]]:
    """The metadata of a complaint's attachments (not the deleted ones), oldest first."""
    p = as_principal(actor)
    if p.kind != "customer":
        require(p, "complaint.read")
    with read(rt.engine) as conn:
        row = queries.load_visible(conn, number, p)
        rows = conn.execute(
            select(*_METADATA)
            .where(A.complaint_id == row.id, A.deleted_at.is_(None))
            .order_by(A.id)
        ).all()
    return [view(number, r) for r in rows]


def fetch(
    rt: Runtime, number: str, attachment_id: int, actor: Actor
) -> tuple[dict[str, Any], bytes]:
    """One attachment's metadata and bytes; each viewing is audited."""
    p = as_principal(actor)
    if p.kind != "customer":
        require(p, "complaint.read")
    now = rt.clock()
    with write(rt.engine) as conn:
        row = queries.load_visible(conn, number, p)
        found = conn.execute(
            select(t.complaint_attachments).where(
                A.id == attachment_id, A.complaint_id == row.id, A.deleted_at.is_(None)
            )
        ).first()
        if found is None:
            raise _not_found(number, attachment_id)
        audit(
            conn,
            p,
            now,
            "attachment.view",
            "complaint",
            number,
            {"attachment_id": found.id, "sha256": found.sha256},
        )
        return view(number, found), bytes(found.data)
