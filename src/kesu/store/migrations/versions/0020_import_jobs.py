"""file imports: import_jobs (one per file checked or imported: state, counts, report,
the bad rows' workbook) and import_mappings (column mappings saved by admins)

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

import kesu.accounts.crypto
import kesu.store.types

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_jobs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", kesu.store.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", kesu.store.types.UTCDateTime(), nullable=False),
        sa.Column("finished_at", kesu.store.types.UTCDateTime(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("mapping", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("total_rows", sa.Integer(), server_default="0", nullable=False),
        sa.Column("bad_rows", sa.Integer(), server_default="0", nullable=False),
        sa.Column("done_rows", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created", sa.Integer(), server_default="0", nullable=False),
        sa.Column("skipped", sa.Integer(), server_default="0", nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("error_file", kesu.accounts.crypto.EncryptedText(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_jobs")),
    )
    op.create_index("ix_import_jobs_created", "import_jobs", ["created_at"])
    op.create_table(
        "import_mappings",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("updated_at", kesu.store.types.UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_import_mappings")),
    )


def downgrade() -> None:
    op.drop_table("import_mappings")
    op.drop_index("ix_import_jobs_created", "import_jobs")
    op.drop_table("import_jobs")
