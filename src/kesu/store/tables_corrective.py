"""Corrective actions' tables (owned by corrective/): the action (整改: title, owner, due
date, the group of complaints it answers as a saved filter, its state and closure), the
complaints linked to it (by number: the complaint slice's tables are never joined), and
its history (append-only events). Declared on the one MetaData and gathered by
kesu.store.tables."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Date, ForeignKey, Index, Integer, String, Table, Text

from kesu.store.meta import metadata
from kesu.store.types import BigId, UTCDateTime

corrective_actions = Table(
    "corrective_actions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("state", String(16), nullable=False),  # open | in_progress | closed | cancelled
    Column("owner", String(64), nullable=False),
    Column("due_on", Date, nullable=False),  # a Beijing day: overdue from the day after
    # How it was opened: from one complaint (its number) or from a group.
    Column("source", String(12), nullable=False),  # complaint | group
    Column("complaint_number", String(40)),
    # The saved filter: root_cause, category, province, city (those given), and the
    # window of receipt its complaints were matched in when the action was opened.
    Column("match", JSON, nullable=False),
    Column("linked", Integer, nullable=False),
    Column("outcome", Text),  # what was done (closure)
    Column("opened_by", String(64), nullable=False),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime),  # closed or cancelled
    # The owner was told it is overdue (once per due date; a new due date tells again).
    Column("overdue_told_at", UTCDateTime),
    Column("version", Integer, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_corrective_actions_state_due", "state", "due_on"),
    Index("ix_corrective_actions_owner", "owner", "state"),
)

corrective_action_complaints = Table(
    "corrective_action_complaints",
    metadata,
    Column("action_id", BigId, ForeignKey("corrective_actions.id"), primary_key=True),
    Column("complaint_number", String(40), primary_key=True),
    Column("linked_at", UTCDateTime, nullable=False),
    Index("ix_corrective_action_complaints_number", "complaint_number"),
)

corrective_action_events = Table(
    "corrective_action_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("action_id", BigId, ForeignKey("corrective_actions.id"), nullable=False, index=True),
    Column("at", UTCDateTime, nullable=False),
    Column("type", String(24), nullable=False),  # opened | progress | started | closed | …
    Column("actor", String(64), nullable=False),
    Column("from_state", String(16)),
    Column("to_state", String(16)),
    Column("note", Text),
    Column("data", JSON, nullable=False),
)
