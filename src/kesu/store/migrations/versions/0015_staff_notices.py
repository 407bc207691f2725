"""staff are told: users.email (nullable); staff_notices (what a user was told: kind,
complaint, text, read or not); staff_notice_prefs (per user and kind: switched off, email
or not)

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

import kesu.store.types

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("email", sa.String(length=200), nullable=True))
    op.create_table(
        "staff_notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("complaint_number", sa.String(length=40), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", kesu.store.types.UTCDateTime(), nullable=False),
        sa.Column("read_at", kesu.store.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_notices")),
    )
    op.create_index("ix_staff_notices_user", "staff_notices", ["username", "read_at"])
    op.create_table(
        "staff_notice_prefs",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("email", sa.Boolean(), nullable=False),
        sa.Column("off", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("username", "kind", name=op.f("pk_staff_notice_prefs")),
    )


def downgrade() -> None:
    op.drop_table("staff_notice_prefs")
    op.drop_index("ix_staff_notices_user", "staff_notices")
    op.drop_table("staff_notices")
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+): a batch copy of users would break
    # the foreign keys of sessions and tokens (as in 0013).
    op.drop_column("users", "email")
