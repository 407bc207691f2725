"""messages in through signed webhooks: channel_sources (a source's name, kind, encrypted
secret, active or paused), channel_messages (each source's message once: registered or
supplemented, which complaint), channel_replays (signatures seen: a replay refused)

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

import kesu.accounts.crypto
import kesu.store.types

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_sources",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=True),
        sa.Column("secret", kesu.accounts.crypto.EncryptedText(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", kesu.store.types.UTCDateTime(), nullable=False),
        sa.Column("paused_at", kesu.store.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_sources")),
        sa.UniqueConstraint("name", name=op.f("uq_channel_sources_name")),
    )
    op.create_table(
        "channel_messages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("message_id", sa.String(length=100), nullable=False),
        sa.Column("result", sa.String(length=12), nullable=False),
        sa.Column("complaint_number", sa.String(length=20), nullable=False),
        sa.Column("received_at", kesu.store.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_messages")),
        sa.UniqueConstraint("source", "message_id", name="uq_channel_messages_source_message"),
    )
    op.create_index("ix_channel_messages_source", "channel_messages", ["source", "received_at"])
    op.create_table(
        "channel_replays",
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("signature", sa.String(length=80), nullable=False),
        sa.Column("seen_at", kesu.store.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("source", "signature", name=op.f("pk_channel_replays")),
    )
    op.create_index("ix_channel_replays_seen_at", "channel_replays", ["seen_at"])


def downgrade() -> None:
    op.drop_index("ix_channel_replays_seen_at", "channel_replays")
    op.drop_table("channel_replays")
    op.drop_index("ix_channel_messages_source", "channel_messages")
    op.drop_table("channel_messages")
    op.drop_table("channel_sources")
