"""limit gates: one row per limited key (a phone number's code sends, its portal
submissions), locked by the transaction that checks and counts against the limit

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("limit_gates", sa.Column("key", sa.String(80), primary_key=True))


def downgrade() -> None:
    op.drop_table("limit_gates")
