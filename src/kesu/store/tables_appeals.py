"""The appeal centre's tables (owned by appeals/): the operators it refers appeals to
(name, address, user base for the per-million rate, and where the operator runs kesu too,
the URL its referrals are posted to with the shared secret); the appeals (the appellant's
data encrypted like a complaint's, the dates the acceptance conditions rest on, the
decision, the referral, the mediation outcome and the answer to the appellant); their
history (append-only events); the per-day numbering counter. Declared on the one
MetaData and gathered by kesu.store.tables."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from kesu.accounts.crypto import EncryptedText
from kesu.store.meta import metadata
from kesu.store.types import BigId, UTCDateTime

appeal_operators = Table(
    "appeal_operators",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code", String(40), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    Column("address", Text),
    # Users of the operator in the centre's area (申诉率: appeals per million users).
    Column("users", BigInteger),
    # Where the operator runs kesu: its POST /api/v1/referrals, and the shared secret.
    Column("referral_url", String(500)),
    Column("secret", EncryptedText),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

appeal_counters = Table(
    "appeal_counters",
    metadata,
    Column("day", String(8), primary_key=True),
    Column("last", Integer, nullable=False),
)

appeals = Table(
    "appeals",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("number", String(20), nullable=False, unique=True),
    Column("status", String(24), nullable=False),
    Column("is_open", Boolean, nullable=False),
    Column("channel", String(16), nullable=False),
    # The ministry platform's or a letter's own reference (idempotent import).
    Column("external_ref", String(60), unique=True),
    Column("operator", String(40)),  # appeal_operators.code (None: not named)
    Column("operator_name", String(100)),  # as the appellant wrote it
    Column("appellant_name", EncryptedText),
    Column("appellant_phone", EncryptedText),
    Column("appellant_phone_hash", String(40)),
    Column("appellant_address", EncryptedText),
    Column("appellant_postcode", String(10)),
    Column("request", Text),
    Column("reasons", Text),
    Column("facts", Text),
    Column("dispute", String(8), nullable=False),  # fee | other (第十一条（一）)
    Column("category", String(40)),  # kesu's complaint category (mapped to the scheme)
    Column("occurred_on", Date),
    Column("complained_on", Date),
    Column("operator_answered_on", Date),
    Column("appeal_date", Date),  # 申诉日期 (第十二条（四）)
    Column("declared", JSON, nullable=False),  # facts the officer confirms (第十条、第十一条)
    Column("received_at", UTCDateTime, nullable=False),
    Column("materials_complete_at", UTCDateTime),
    Column("accept_due_at", UTCDateTime),
    Column("reply_due_at", UTCDateTime, nullable=False),
    Column("decided_at", UTCDateTime),
    Column("decision", String(16)),  # accepted | not_accepted | redirected
    Column("decision_reason", String(8)),  # e.g. 11-1 (第十一条（一）)
    Column("referred_at", UTCDateTime),
    Column("operator_due_on", Date),
    Column("operator_answer_at", UTCDateTime),
    Column("operator_answer", Text),
    Column("operator_complaint", String(40)),  # the operator's complaint number
    # The appellant's complaints in the connected operator's kesu, as last fetched
    # (appeals.operator_evidence: evidence for 第十条（四）).
    Column("operator_record", JSON),
    Column("mediated", Boolean, nullable=False),
    Column("outcome", String(20)),  # agreement | mediation_ended | resolved | withdrawn
    Column("agreement_terms", Text),
    Column("perform_by", Date),
    Column("replied_at", UTCDateTime),  # the appellant answered (电信条例 第三十九条)
    Column("closed_at", UTCDateTime),
    Column("assignee", String(64)),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_appeals_open_accept_due", "is_open", "accept_due_at"),
    Index("ix_appeals_received_at", "received_at"),
    Index("ix_appeals_phone_hash", "appellant_phone_hash"),
)

appeal_events = Table(
    "appeal_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("appeal_id", BigId, ForeignKey("appeals.id"), nullable=False, index=True),
    Column("at", UTCDateTime, nullable=False),
    Column("type", String(32), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("from_status", String(24)),
    Column("to_status", String(24)),
    Column("note", Text),
    Column("data", JSON, nullable=False),
)
