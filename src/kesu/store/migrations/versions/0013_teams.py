"""teams and team_history (teams edited by admins, seeded from data/reference.yaml at
start-up); users.skills (the categories a user handles); complaints.first_assignee
(首问负责: the first person a complaint was assigned to)

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

import kesu.store.types

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "teams",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=True),
        sa.Column("policy", sa.String(length=20), server_default="manual", nullable=False),
        sa.Column("by_skill", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("rr_counter", sa.Integer(), server_default="0", nullable=False),
        sa.Column("updated_at", kesu.store.types.UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
        sa.UniqueConstraint("code", name=op.f("uq_teams_code")),
    )
    op.create_table(
        "team_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("team", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("at", kesu.store.types.UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_history")),
    )
    op.add_column("users", sa.Column("skills", sa.JSON(), nullable=True))
    op.add_column("complaints", sa.Column("first_assignee", sa.String(length=64), nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+): a batch copy of complaints or users
    # would drop a table other tables' foreign keys point at.
    op.drop_column("complaints", "first_assignee")
    op.drop_column("users", "skills")
    op.drop_table("team_history")
    op.drop_table("teams")
