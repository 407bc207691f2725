"""webhooks out: webhook_subscriptions (a URL subscribed to complaint events, its
encrypted secret, active or paused, failing since when); notifications.webhook_id (the
delivery log of a subscription is its messages in the outbox)

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

import kesu.accounts.crypto
import kesu.store.types

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("secret", kesu.accounts.crypto.EncryptedText(), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", kesu.store.types.UTCDateTime(), nullable=False),
        sa.Column("failing_since", kesu.store.types.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("paused_at", kesu.store.types.UTCDateTime(), nullable=True),
        sa.Column("pause_reason", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_subscriptions")),
    )
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(sa.Column("webhook_id", sa.Integer(), nullable=True))
    op.create_index("ix_notifications_webhook_id", "notifications", ["webhook_id"])


def downgrade() -> None:
    op.drop_index("ix_notifications_webhook_id", "notifications")
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("webhook_id")
    op.drop_table("webhook_subscriptions")
