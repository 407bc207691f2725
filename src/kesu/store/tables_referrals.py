"""The tables of regulator referrals (owned by channels/): the referral sources (a
regulator's office, with the URL its kesu takes answers at and the shared secret) and the
referrals received (管局转办: the regulator's reference, the complaint it registered or
joined, the date the regulator wants the answer by, the answer given). Declared on the
one MetaData and gathered by kesu.store.tables."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, Integer, String, Table, Text

from kesu.accounts.crypto import EncryptedText
from kesu.store.meta import metadata
from kesu.store.types import BigId, UTCDateTime

referral_sources = Table(
    "referral_sources",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code", String(40), nullable=False, unique=True),
    Column("name", String(100), nullable=False),
    # Where the regulator side runs kesu too: the URL its answers are posted to, signed.
    Column("callback_url", String(500)),
    Column("secret", EncryptedText),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

referrals = Table(
    "referrals",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("ref", String(60), nullable=False, unique=True),  # the regulator's 转办编号
    Column("source", String(40)),  # referral_sources.code (None: not configured)
    Column("complaint_number", String(40), nullable=False),
    Column("linked", Boolean, nullable=False),  # joined an open complaint, not a new one
    Column("operator", String(100)),  # 被申诉企业 as the regulator wrote it
    Column("appeal_received_on", Date, nullable=False),  # 申诉受理日期
    Column("reply_due_on", Date, nullable=False),  # 要求回复日期
    Column("issue", Text, nullable=False),
    # What arrived, as it arrived (personal data: encrypted like the complaint's).
    Column("original", EncryptedText, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("replied_at", UTCDateTime),
    Column("replied_by", String(64)),
    Column("handling", Text),
    Column("result", Text),
    Column("callback_uid", String(32)),  # the outbox message that carried the answer back
)
