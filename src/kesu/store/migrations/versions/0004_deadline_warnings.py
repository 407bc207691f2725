"""deadlines.warned_at: when the watcher warned that the deadline is near

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

import kesu.store.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "deadlines", sa.Column("warned_at", kesu.store.types.UTCDateTime(), nullable=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("deadlines") as batch:
        batch.drop_column("warned_at")
