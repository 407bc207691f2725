"""attachments: evidence files on complaints (images, PDFs, audio), kept in the database

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

from kesu.store.types import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "complaint_attachments",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column(
            "complaint_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.ForeignKey("complaints.id", name="fk_complaint_attachments_complaint_id_complaints"),
            nullable=False,
        ),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        # BYTEA on PostgreSQL, BLOB on SQLite.
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("uploaded_by", sa.String(64), nullable=False),
        sa.Column("uploaded_at", UTCDateTime, nullable=False),
        sa.Column("deleted_at", UTCDateTime),
    )
    op.create_index("ix_complaint_attachments_complaint", "complaint_attachments", ["complaint_id"])


def downgrade() -> None:
    op.drop_index("ix_complaint_attachments_complaint", table_name="complaint_attachments")
    op.drop_table("complaint_attachments")
