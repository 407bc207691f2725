"""law: the regulations index (regulations, articles) and the case library

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

from kesu.store.types import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "law_index",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("fingerprint", sa.String(40), nullable=False),
        sa.Column("indexed_at", UTCDateTime, nullable=False),
        sa.Column("indexed_by", sa.String(64), nullable=False),
        sa.Column("regulations", sa.Integer, nullable=False),
        sa.Column("articles", sa.Integer, nullable=False),
        sa.Column("cases", sa.Integer, nullable=False),
    )
    op.create_table(
        "law_regulations",
        sa.Column("id", sa.String(60), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("short_title", sa.String(100), nullable=False),
        sa.Column("aliases", sa.JSON, nullable=False),
        sa.Column("province", sa.String(20)),
        sa.Column("complete", sa.Boolean, nullable=False),
        sa.Column("files", sa.JSON, nullable=False),
        sa.Column("meta", sa.JSON, nullable=False),
    )
    op.create_table(
        "law_articles",
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column(
            "regulation_id",
            sa.String(60),
            sa.ForeignKey(
                "law_regulations.id", name="fk_law_articles_regulation_id_law_regulations"
            ),
            nullable=False,
        ),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("number", sa.Integer),
        sa.Column("label", sa.String(40), nullable=False),
        sa.Column("note", sa.String(40), nullable=False),
        sa.Column("chapter", sa.Text, nullable=False),
        sa.Column("paragraphs", sa.JSON, nullable=False),
        sa.Column("partial", sa.Boolean, nullable=False),
        sa.Column("tokens", sa.JSON, nullable=False),
        sa.Column("notes", sa.JSON, nullable=False),
    )
    op.create_index("ix_law_articles_regulation", "law_articles", ["regulation_id", "position"])
    op.create_table(
        "law_cases",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("province", sa.String(20)),
        sa.Column("court", sa.String(200)),
        sa.Column("case_no", sa.String(100)),
        sa.Column("date", sa.String(40)),
        sa.Column("facts", sa.Text, nullable=False),
        sa.Column("articles", sa.JSON, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("lessons", sa.JSON, nullable=False),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("complaint_number", sa.String(20)),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.UniqueConstraint("complaint_number", name="uq_law_cases_complaint_number"),
    )


def downgrade() -> None:
    op.drop_table("law_cases")
    op.drop_index("ix_law_articles_regulation", table_name="law_articles")
    op.drop_table("law_articles")
    op.drop_table("law_regulations")
    op.drop_table("law_index")
