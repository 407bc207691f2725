"""The tables of messages coming in through signed webhooks (owned by channels/): the
sources admins configured, the messages received (each source's message id once), and
the signatures seen (a replayed request refused). Declared on the one MetaData and
gathered by kesu.store.tables."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table, UniqueConstraint

from kesu.accounts.crypto import EncryptedText
from kesu.store.meta import metadata
from kesu.store.types import BigId, UTCDateTime

# A system that posts customers' messages (an SMS gateway's replies, a WeChat service
# account, the app): its name in the URL, its kind (the complaint channel), its secret.
channel_sources = Table(
    "channel_sources",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(40), nullable=False, unique=True),
    Column("kind", String(10), nullable=False),  # sms | wechat | app
    Column("label", String(100)),
    Column("secret", EncryptedText, nullable=False),
    Column("state", String(10), nullable=False),  # active | paused
    Column("created_by", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("paused_at", UTCDateTime),
)

# Each message taken in: what became of it (registered or supplemented, the complaint).
# Unique by source and the source's message id: a message sent again is answered with
# what became of it the first time, and changes nothing.
channel_messages = Table(
    "channel_messages",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("source", String(40), nullable=False),
    Column("message_id", String(100), nullable=False),
    Column("result", String(12), nullable=False),  # registered | supplemented | reopen
    Column("complaint_number", String(20), nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    UniqueConstraint("source", "message_id", name="uq_channel_messages_source_message"),
    Index("ix_channel_messages_source", "source", "received_at"),
)

# The signatures of accepted requests, kept a quarter of an hour (a timestamp is
# accepted 5 minutes either side of the clock): the same signed request twice is a
# replay, and the primary key lets only one of two concurrent copies in.
channel_replays = Table(
    "channel_replays",
    metadata,
    Column("source", String(40), primary_key=True),
    Column("signature", String(80), primary_key=True),
    Column("seen_at", UTCDateTime, nullable=False),
    Index("ix_channel_replays_seen_at", "seen_at"),
)
