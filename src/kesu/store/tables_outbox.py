"""The tables of messages going out (owned by channels/): the outbox, the customers who
opted out of non-essential messages, the webhook subscriptions. Declared on the one
MetaData and gathered by kesu.store.tables, where every slice finds them."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Index, Integer, String, Table, Text

from kesu.accounts.crypto import EncryptedText
from kesu.store.meta import metadata
from kesu.store.types import BigId, UTCDateTime

# The notification outbox: messages leave through it and are retried.
notifications = Table(
    "notifications",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("channel", String(10), nullable=False),  # sms | email
    Column("recipient", EncryptedText, nullable=False),
    Column("subject", String(200)),
    Column("body", EncryptedText, nullable=False),
    Column("purpose", String(40), nullable=False),
    Column("status", String(10), nullable=False),  # pending | sent | dead
    Column("attempts", Integer, nullable=False, server_default="0"),
    # A pending message is due at next_attempt_at; a claim moves it a lease ahead, so a
    # worker that dies mid-send leaves it to the next one once the lease runs out.
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    Column("last_error", Text),
    # The stable id sent to the gateway (a resend after a crash carries the same id).
    Column("uid", String(32), unique=True),
    Column("claim", String(32)),  # the claim token of the worker holding the lease
    Column("sink", String(20)),  # where it went: sms-http, smtp, demo, webhook
    # A webhook's subscription (its delivery log); no foreign key: the log outlives it.
    Column("webhook_id", Integer),
    Index("ix_notifications_pending", "status", "next_attempt_at"),
    Index("ix_notifications_webhook_id", "webhook_id"),
)

# Webhooks out: a URL subscribed to complaint events, signed with its secret; paused by
# hand or after failing for a day (channels.webhooks).
webhook_subscriptions = Table(
    "webhook_subscriptions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("url", String(500), nullable=False),
    Column("secret", EncryptedText, nullable=False),
    Column("events", JSON, nullable=False),  # list of event names
    Column("state", String(10), nullable=False),  # active | paused
    Column("created_by", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("failing_since", UTCDateTime),
    Column("last_error", Text),
    Column("paused_at", UTCDateTime),
    Column("pause_reason", String(200)),
)

# Customers who asked for the essential messages only (by the keyed hash of the number).
notification_optouts = Table(
    "notification_optouts",
    metadata,
    Column("phone_hash", String(40), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
)

# Staff are told (channels.staff_notices): what each user was told, read or not.
staff_notices = Table(
    "staff_notices",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False),
    Column("kind", String(30), nullable=False),  # assigned | approval_waiting | deadline_*
    Column("complaint_number", String(40)),
    Column("text", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("read_at", UTCDateTime),
    Index("ix_staff_notices_user", "username", "read_at"),
)

# A user's switches per kind (no row: told, and by email where the user has an address).
staff_notice_prefs = Table(
    "staff_notice_prefs",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("kind", String(30), primary_key=True),
    Column("email", Boolean, nullable=False),
    Column("off", Boolean, nullable=False),
)

# Customer notification templates edited by admins (channels.templates): every edit is a
# version; the newest is in force; a version without text restores the file's default.
notification_template_versions = Table(
    "notification_template_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(60), nullable=False),
    Column("text", Text),
    Column("note", String(200)),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_notification_template_versions_key", "key", "id"),
)

# Supervisors' daily digests sent (one per user and Beijing day: the insert is the claim,
# so two workers never send the same digest).
staff_digests = Table(
    "staff_digests",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("sent_at", UTCDateTime, nullable=False),
)
