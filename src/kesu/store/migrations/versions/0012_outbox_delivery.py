"""notifications delivered for real: a stable message id sent to the gateway (uid), the
claim of the worker holding a message's lease, and where it went (sink); status dead
after the configured attempts; customers who opted out of non-essential messages

Revision ID: 0012
Revises: 0011
"""

import uuid

import sqlalchemy as sa
from alembic import op

import kesu.store.types

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(sa.Column("uid", sa.String(32), nullable=True))
        batch.add_column(sa.Column("claim", sa.String(32), nullable=True))
        batch.add_column(sa.Column("sink", sa.String(20), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id FROM notifications WHERE uid IS NULL")).all()
    for (id_,) in rows:
        conn.execute(
            sa.text("UPDATE notifications SET uid = :uid WHERE id = :id"),
            {"uid": uuid.uuid4().hex, "id": id_},
        )
    conn.execute(sa.text("UPDATE notifications SET status = 'dead' WHERE status = 'failed'"))
    op.create_index("ux_notifications_uid", "notifications", ["uid"], unique=True)
    op.create_table(
        "notification_optouts",
        sa.Column("phone_hash", sa.String(40), primary_key=True),
        sa.Column("created_at", kesu.store.types.UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("notification_optouts")
    op.drop_index("ux_notifications_uid", "notifications")
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("sink")
        batch.drop_column("claim")
        batch.drop_column("uid")
