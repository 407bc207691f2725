"""customer notification templates edited in the database, with their history
(notification_template_versions); supervisors' daily digests sent (staff_digests)

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

import kesu.store.types

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notification_template_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", kesu.store.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_template_versions")),
    )
    op.create_index(
        "ix_notification_template_versions_key",
        "notification_template_versions",
        ["key", "id"],
    )
    op.create_table(
        "staff_digests",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("sent_at", kesu.store.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("username", "day", name=op.f("pk_staff_digests")),
    )


def downgrade() -> None:
    op.drop_table("staff_digests")
    op.drop_index("ix_notification_template_versions_key", "notification_template_versions")
    op.drop_table("notification_template_versions")
