"""The tables of file imports (owned by channels/): one row per import job (a file of
work orders checked and, unless a dry run, registered), and the column mappings admins
saved beside the packaged ones. Declared on the one MetaData and gathered by
kesu.store.tables."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Index, Integer, String, Table

from kesu.accounts.crypto import EncryptedText
from kesu.store.meta import metadata
from kesu.store.types import UTCDateTime

# An import job: the CLI's and the page's. The page's runs in a background thread and
# the page polls this row (state, counts); `report` holds the file's problems and the
# first bad rows; `error_file` the workbook of the bad rows with an error column (base64,
# encrypted: it holds customers' numbers), dropped after a few days.
import_jobs = Table(
    "import_jobs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("created_by", String(64), nullable=False),
    Column("file_name", String(200), nullable=False),
    Column("file_sha256", String(64), nullable=False),
    Column("mapping", String(40), nullable=False),
    Column("source", String(40), nullable=False),
    Column("dry_run", Boolean, nullable=False),
    # queued | checking | importing | done | refused (the file as a whole) | failed
    Column("state", String(20), nullable=False),
    Column("total_rows", Integer, nullable=False, server_default="0"),
    Column("bad_rows", Integer, nullable=False, server_default="0"),
    Column("done_rows", Integer, nullable=False, server_default="0"),
    Column("created", Integer, nullable=False, server_default="0"),
    Column("skipped", Integer, nullable=False, server_default="0"),
    Column("report", JSON, nullable=False),
    Column("error_file", EncryptedText),
    Index("ix_import_jobs_created", "created_at"),
)

# Mappings admins saved on the import page (the packaged ones are in
# data/channels/import_mappings.yaml and cannot be overwritten).
import_mappings = Table(
    "import_mappings",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("label", String(100), nullable=False),
    Column("source", String(40), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("columns", JSON, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_by", String(64), nullable=False),
)
