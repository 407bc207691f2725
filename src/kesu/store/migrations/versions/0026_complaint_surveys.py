"""the satisfaction survey taken at the callback (complaints.surveys): one row per
complaint and handling round; the callbacks already done become overall-only surveys

Revision ID: 0026
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op

import kesu.store.types

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "complaint_surveys",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "complaint_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("overall", sa.String(length=24), nullable=False),
        sa.Column("answered_by", sa.String(length=64), nullable=False),
        sa.Column("how", sa.String(length=10), nullable=False),
        sa.Column("answered_at", kesu.store.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.id"],
            name=op.f("fk_complaint_surveys_complaint_id_complaints"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_surveys")),
        sa.UniqueConstraint("complaint_id", "round", name="uq_complaint_surveys_round"),
    )
    op.create_index("ix_complaint_surveys_answered", "complaint_surveys", ["answered_at"])
    # A callback done before the survey existed: its result is the overall answer, taken
    # by phone, by whoever recorded it (unknown here: "migration"), when the row last moved.
    answers = "'{\"overall\": \"' || callback_result || '\"}'"
    if op.get_bind().dialect.name == "postgresql":
        answers = f"CAST({answers} AS JSON)"
    op.execute(
        f"""
        INSERT INTO complaint_surveys
            (complaint_id, round, answers, overall, answered_by, how, answered_at)
        SELECT id, reopen_count,
               {answers},
               callback_result, 'migration', 'phone', updated_at
        FROM complaints
        WHERE callback_result IN ('satisfied', 'basically_satisfied', 'dissatisfied')
        """
    )


def downgrade() -> None:
    op.drop_index("ix_complaint_surveys_answered", table_name="complaint_surveys")
    op.drop_table("complaint_surveys")
