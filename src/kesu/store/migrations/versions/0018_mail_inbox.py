"""mail in: mail_inbox (every mail received by SMTP or IMAP, one row per Message-ID; the
raw mail until processed or while held for an agent)

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

import kesu.store.types

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mail_inbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("received_at", kesu.store.types.UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=True),
        sa.Column("complaint_number", sa.String(length=40), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("processed_at", kesu.store.types.UTCDateTime(), nullable=True),
        sa.Column("raw", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_inbox")),
        sa.UniqueConstraint("message_id", name=op.f("uq_mail_inbox_message_id")),
    )
    op.create_index("ix_mail_inbox_status", "mail_inbox", ["status"])


def downgrade() -> None:
    op.drop_index("ix_mail_inbox_status", "mail_inbox")
    op.drop_table("mail_inbox")
