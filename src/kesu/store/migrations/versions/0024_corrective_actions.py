"""corrective actions (整改): the action, the complaints linked to it, its history

Revision ID: 0024
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op

import kesu.store.types

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "corrective_actions",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=12), nullable=False),
        sa.Column("complaint_number", sa.String(length=40), nullable=True),
        sa.Column("match", sa.JSON(), nullable=False),
        sa.Column("linked", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("opened_by", sa.String(length=64), nullable=False),
        sa.Column("opened_at", kesu.store.types.UTCDateTime(), nullable=False),
        sa.Column("closed_at", kesu.store.types.UTCDateTime(), nullable=True),
        sa.Column("overdue_told_at", kesu.store.types.UTCDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", kesu.store.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corrective_actions")),
    )
    with op.batch_alter_table("corrective_actions") as batch:
        batch.create_index("ix_corrective_actions_state_due", ["state", "due_on"])
        batch.create_index("ix_corrective_actions_owner", ["owner", "state"])
    op.create_table(
        "corrective_action_complaints",
        sa.Column("action_id", BIG_ID, nullable=False),
        sa.Column("complaint_number", sa.String(length=40), nullable=False),
        sa.Column("linked_at", kesu.store.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["corrective_actions.id"],
            name=op.f("fk_corrective_action_complaints_action_id_corrective_actions"),
        ),
        sa.PrimaryKeyConstraint(
            "action_id", "complaint_number", name=op.f("pk_corrective_action_complaints")
        ),
    )
    with op.batch_alter_table("corrective_action_complaints") as batch:
        batch.create_index("ix_corrective_action_complaints_number", ["complaint_number"])
    op.create_table(
        "corrective_action_events",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("action_id", BIG_ID, nullable=False),
        sa.Column("at", kesu.store.types.UTCDateTime(), nullable=False),
        sa.Column("type", sa.String(length=24), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=True),
        sa.Column("to_state", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["corrective_actions.id"],
            name=op.f("fk_corrective_action_events_action_id_corrective_actions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corrective_action_events")),
    )
    with op.batch_alter_table("corrective_action_events") as batch:
        batch.create_index("ix_corrective_action_events_action_id", ["action_id"], unique=False)
    # The history is append-only, like the complaints' (0002) and the appeals' (0021).
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER corrective_action_events_append_only BEFORE UPDATE OR DELETE "
            "ON corrective_action_events FOR EACH ROW EXECUTE FUNCTION kesu_events_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER corrective_action_events_no_{verb.lower()} BEFORE {verb} "
                "ON corrective_action_events BEGIN "
                "SELECT RAISE(ABORT, 'corrective_action_events is append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER corrective_action_events_append_only ON corrective_action_events")
    else:
        op.execute("DROP TRIGGER corrective_action_events_no_update")
        op.execute("DROP TRIGGER corrective_action_events_no_delete")
    op.drop_table("corrective_action_events")
    op.drop_table("corrective_action_complaints")
    op.drop_table("corrective_actions")
