"""index for mass-incident counts: complaints by category, city and receipt time

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_complaints_place", "complaints", ["category", "customer_city", "received_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_complaints_place", table_name="complaints")
