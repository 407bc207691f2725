"""quality inspection (质检): reviews scored on the scorecard, their append-only history,
practice rounds of new agents and their answers; the case library's verdict (a good or
bad example promoted by quality staff)

Revision ID: 0023
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op

import kesu.store.types

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_AT = kesu.store.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "quality_reviews",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("complaint_number", sa.String(length=20), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=True),
        sa.Column("handler", sa.String(length=64), nullable=False),
        sa.Column("closed_at", _AT(), nullable=False),
        sa.Column("reviewer", sa.String(length=64), nullable=False),
        sa.Column("card_version", sa.Integer(), nullable=False),
        sa.Column("marks", sa.JSON(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("critical_failed", sa.JSON(), nullable=False),
        sa.Column("final_score", sa.Float(), nullable=False),
        sa.Column("findings", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("contest_reason", sa.Text(), nullable=True),
        sa.Column("contested_at", _AT(), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", _AT(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("created_at", _AT(), nullable=False),
        sa.Column("updated_at", _AT(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_reviews")),
        sa.UniqueConstraint("complaint_number", name=op.f("uq_quality_reviews_complaint_number")),
    )
    op.create_index("ix_quality_reviews_handler", "quality_reviews", ["handler", "closed_at"])
    op.create_index("ix_quality_reviews_closed", "quality_reviews", ["closed_at"])
    op.create_table(
        "quality_review_events",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("review_id", _ID, nullable=False),
        sa.Column("at", _AT(), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["quality_reviews.id"],
            name=op.f("fk_quality_review_events_review_id_quality_reviews"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_review_events")),
    )
    op.create_index("ix_quality_review_events_review", "quality_review_events", ["review_id", "id"])
    op.create_table(
        "practice_rounds",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("case_ids", sa.JSON(), nullable=False),
        sa.Column("started_at", _AT(), nullable=False),
        sa.Column("finished_at", _AT(), nullable=True),
        sa.Column("correct", sa.Integer(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_practice_rounds")),
    )
    op.create_index("ix_practice_rounds_user", "practice_rounds", ["username", "id"])
    op.create_table(
        "practice_answers",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("round_id", _ID, nullable=False),
        sa.Column("case_id", sa.String(length=40), nullable=False),
        sa.Column("answer", sa.String(length=40), nullable=False),
        sa.Column("expected", sa.String(length=40), nullable=False),
        sa.Column("correct", sa.Boolean(), nullable=False),
        sa.Column("answered_at", _AT(), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["practice_rounds.id"],
            name=op.f("fk_practice_answers_round_id_practice_rounds"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_practice_answers")),
        sa.UniqueConstraint("round_id", "case_id", name="uq_practice_answers_round_case"),
    )
    op.add_column("law_cases", sa.Column("verdict", sa.String(length=8), nullable=True))

    # The review history is append-only, like the complaints' (0002).
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER quality_review_events_append_only BEFORE UPDATE OR DELETE "
            "ON quality_review_events FOR EACH ROW EXECUTE FUNCTION kesu_events_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER quality_review_events_no_{verb.lower()} BEFORE {verb} "
                "ON quality_review_events BEGIN "
                "SELECT RAISE(ABORT, 'quality_review_events is append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER quality_review_events_append_only ON quality_review_events")
    else:
        op.execute("DROP TRIGGER quality_review_events_no_update")
        op.execute("DROP TRIGGER quality_review_events_no_delete")
    with op.batch_alter_table("law_cases") as batch:
        batch.drop_column("verdict")
    op.drop_table("practice_answers")
    op.drop_index("ix_practice_rounds_user", table_name="practice_rounds")
    op.drop_table("practice_rounds")
    op.drop_index("ix_quality_review_events_review", table_name="quality_review_events")
    op.drop_table("quality_review_events")
    op.drop_index("ix_quality_reviews_closed", table_name="quality_reviews")
    op.drop_index("ix_quality_reviews_handler", table_name="quality_reviews")
    op.drop_table("quality_reviews")
