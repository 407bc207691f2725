"""The satisfaction surveys' table (owned by complaints/: complaints.surveys; reports/
reads it for the satisfaction figures). Declared on the one MetaData and gathered by
kesu.store.tables."""

from __future__ import annotations

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String, Table, UniqueConstraint

from kesu.store.meta import metadata
from kesu.store.types import BigId, UTCDateTime

# One survey per complaint and handling round (`round` = the complaint's reopen_count
# when it was answered): the answers (question code → answer code, data/complaints/
# survey.yaml), the overall answer (= the callback result it set), who answered (a
# staff user who called, or `portal` for the customer) and how (phone / portal). The
# unique key makes a second answer of the same round fail, whoever sends it.
complaint_surveys = Table(
    "complaint_surveys",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("complaint_id", BigId, ForeignKey("complaints.id"), nullable=False),
    Column("round", Integer, nullable=False),
    Column("answers", JSON, nullable=False),
    Column("overall", String(24), nullable=False),
    Column("answered_by", String(64), nullable=False),
    Column("how", String(10), nullable=False),
    Column("answered_at", UTCDateTime, nullable=False),
    UniqueConstraint("complaint_id", "round", name="uq_complaint_surveys_round"),
    Index("ix_complaint_surveys_answered", "answered_at"),
)
