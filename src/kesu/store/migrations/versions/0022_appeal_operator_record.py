"""appeal centre: the appellant's complaint record as fetched from a connected operator's
kesu (appeals.operator_record), evidence for 电信用户申诉处理办法 第十条（四）

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("appeals", sa.Column("operator_record", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("appeals") as batch:
        batch.drop_column("operator_record")
