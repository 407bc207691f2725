"""The table of mail coming in (owned by channels/: channels.mail_in). Declared on the one
MetaData and gathered by kesu.store.tables, where every slice finds it."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, LargeBinary, String, Table, Text

from kesu.store.meta import metadata
from kesu.store.types import BigId, UTCDateTime

# Every mail received (SMTP or IMAP), one row per Message-ID: stored before the SMTP
# listener answers 250, so nothing acknowledged is lost. The raw mail is kept here only
# until it is processed (then it is evidence on the complaint, `original.eml`, under the
# complaint's retention) or while it is held for an agent (no phone number in it).
mail_inbox = Table(
    "mail_inbox",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("message_id", String(255), nullable=False, unique=True),
    Column("source", String(100), nullable=False),  # smtp | imap:<host>/<mailbox>
    Column("received_at", UTCDateTime, nullable=False),
    # pending | registered | supplement | ignored | held | discarded (by an agent)
    Column("status", String(12), nullable=False),
    Column("kind", String(12)),  # customer | auto_reply | bounce | own | staff
    Column("complaint_number", String(40)),
    Column("note", Text),  # why ignored or held; the last processing error
    Column("size", Integer, nullable=False),
    # The body's digest: another mail reusing a Message-ID is kept as a mail of its own.
    Column("body_sha256", String(64)),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("processed_at", UTCDateTime),
    Column("raw", LargeBinary),  # emptied once processed
    Index("ix_mail_inbox_status", "status"),
)
