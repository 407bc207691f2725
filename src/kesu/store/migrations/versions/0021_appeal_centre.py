"""appeal centre: the operators referred to (name, address, user base, the URL and secret
of their kesu), appeals (appellant encrypted, the dates the acceptance conditions rest on,
decision, referral, mediation, answer), their append-only events, the numbering counter

Revision ID: 0021
Revises: 0020
"""

from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

import kesu.accounts.crypto
import kesu.store.types


# revision identifiers, used by Alembic.
revision: str = "0021"
down_revision: Union[str, Sequence[str], None] = "0020"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "appeal_counters",
        sa.Column("day", sa.String(length=8), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_appeal_counters")),
    )
    op.create_table(
        "appeal_operators",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("users", sa.BigInteger(), nullable=True),
        sa.Column("referral_url", sa.String(length=500), nullable=True),
        sa.Column("secret", kesu.accounts.crypto.EncryptedText(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", kesu.store.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", kesu.store.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeal_operators")),
        sa.UniqueConstraint("code", name=op.f("uq_appeal_operators_code")),
    )
    op.create_table(
        "appeals",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("external_ref", sa.String(length=60), nullable=True),
        sa.Column("operator", sa.String(length=40), nullable=True),
        sa.Column("operator_name", sa.String(length=100), nullable=True),
        sa.Column("appellant_name", kesu.accounts.crypto.EncryptedText(), nullable=True),
        sa.Column("appellant_phone", kesu.accounts.crypto.EncryptedText(), nullable=True),
        sa.Column("appellant_phone_hash", sa.String(length=40), nullable=True),
        sa.Column("appellant_address", kesu.accounts.crypto.EncryptedText(), nullable=True),
        sa.Column("appellant_postcode", sa.String(length=10), nullable=True),
        sa.Column("request", sa.Text(), nullable=True),
        sa.Column("reasons", sa.Text(), nullable=True),
        sa.Column("facts", sa.Text(), nullable=True),
        sa.Column("dispute", sa.String(length=8), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=True),
        sa.Column("occurred_on", sa.Date(), nullable=True),
        sa.Column("complained_on", sa.Date(), nullable=True),
        sa.Column("operator_answered_on", sa.Date(), nullable=True),
        sa.Column("appeal_date", sa.Date(), nullable=True),
        sa.Column("declared", sa.JSON(), nullable=False),
        sa.Column("received_at", kesu.store.types.UTCDateTime(), nullable=False),
        sa.Column("materials_complete_at", kesu.store.types.UTCDateTime(), nullable=True),
        sa.Column("accept_due_at", kesu.store.types.UTCDateTime(), nullable=True),
        sa.Column("reply_due_at", kesu.store.types.UTCDateTime(), nullable=False),
        sa.Column("decided_at", kesu.store.types.UTCDateTime(), nullable=True),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("decision_reason", sa.String(length=8), nullable=True),
        sa.Column("referred_at", kesu.store.types.UTCDateTime(), nullable=True),
        sa.Column("operator_due_on", sa.Date(), nullable=True),
        sa.Column("operator_answer_at", kesu.store.types.UTCDateTime(), nullable=True),
        sa.Column("operator_answer", sa.Text(), nullable=True),
        sa.Column("operator_complaint", sa.String(length=40), nullable=True),
        sa.Column("mediated", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("agreement_terms", sa.Text(), nullable=True),
        sa.Column("perform_by", sa.Date(), nullable=True),
        sa.Column("replied_at", kesu.store.types.UTCDateTime(), nullable=True),
        sa.Column("closed_at", kesu.store.types.UTCDateTime(), nullable=True),
        sa.Column("assignee", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", kesu.store.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", kesu.store.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeals")),
        sa.UniqueConstraint("external_ref", name=op.f("uq_appeals_external_ref")),
        sa.UniqueConstraint("number", name=op.f("uq_appeals_number")),
    )
    with op.batch_alter_table("appeals", schema=None) as batch_op:
        batch_op.create_index(
            "ix_appeals_open_accept_due", ["is_open", "accept_due_at"], unique=False
        )
        batch_op.create_index("ix_appeals_phone_hash", ["appellant_phone_hash"], unique=False)
        batch_op.create_index("ix_appeals_received_at", ["received_at"], unique=False)

    op.create_table(
        "appeal_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "appeal_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("at", kesu.store.types.UTCDateTime(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("from_status", sa.String(length=24), nullable=True),
        sa.Column("to_status", sa.String(length=24), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["appeal_id"], ["appeals.id"], name=op.f("fk_appeal_events_appeal_id_appeals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeal_events")),
    )
    with op.batch_alter_table("appeal_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_appeal_events_appeal_id"), ["appeal_id"], unique=False)

    # The history is append-only, like the complaints' (0002).
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER appeal_events_append_only BEFORE UPDATE OR DELETE "
            "ON appeal_events FOR EACH ROW EXECUTE FUNCTION kesu_events_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER appeal_events_no_{verb.lower()} BEFORE {verb} "
                "ON appeal_events BEGIN "
                "SELECT RAISE(ABORT, 'appeal_events is append-only'); END"
            )


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER appeal_events_append_only ON appeal_events")
    else:
        op.execute("DROP TRIGGER appeal_events_no_update")
        op.execute("DROP TRIGGER appeal_events_no_delete")
    with op.batch_alter_table("appeal_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appeal_events_appeal_id"))

    op.drop_table("appeal_events")
    with op.batch_alter_table("appeals", schema=None) as batch_op:
        batch_op.drop_index("ix_appeals_received_at")
        batch_op.drop_index("ix_appeals_phone_hash")
        batch_op.drop_index("ix_appeals_open_accept_due")

    op.drop_table("appeals")
    op.drop_table("appeal_operators")
    op.drop_table("appeal_counters")
