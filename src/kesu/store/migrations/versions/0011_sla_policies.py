"""sla_policies and their history (internal SLA policies edited by admins);
deadlines.warn_before_hours (the warning lead the deadline was planned with)

Revision ID: 0011
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

import kesu.store.types

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sla_policies",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("scope", sa.String(length=140), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=True),
        sa.Column("category", sa.String(length=40), nullable=True),
        sa.Column("priority", sa.String(length=10), nullable=True),
        sa.Column("length", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("warn_before_hours", sa.Float(), nullable=False),
        sa.Column("updated_at", kesu.store.types.UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_policies")),
        sa.UniqueConstraint("rule", "scope", name=op.f("uq_sla_policies_rule")),
    )
    op.create_table(
        "sla_policy_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("at", kesu.store.types.UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_policy_history")),
    )
    op.add_column("deadlines", sa.Column("warn_before_hours", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deadlines") as batch:
        batch.drop_column("warn_before_hours")
    op.drop_table("sla_policy_history")
    op.drop_table("sla_policies")
