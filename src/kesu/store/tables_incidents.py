"""Mass incidents' tables (owned by incidents/): the incidents (a cell: category and
area; opened by a spike, its decision and Chinese explanation; the one message to the
linked customers, drafted then approved; closed with a summary), the complaints linked
to each (by id and number, when each was linked and how, when its customer was sent the
message), and the incidents' append-only history. One open incident per cell: a unique
partial index. Declared on the one MetaData and gathered by kesu.store.tables."""

from __future__ import annotations

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String, Table, Text, text

from kesu.store.meta import metadata
from kesu.store.types import BigId, UTCDateTime

incidents = Table(
    "incidents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("category", String(40), nullable=False),
    Column("area_kind", String(16), nullable=False),  # city | province
    Column("area", String(64), nullable=False),
    Column("state", String(16), nullable=False),  # open | closed
    Column("opened_at", UTCDateTime, nullable=False),
    Column("window_start", UTCDateTime, nullable=False),
    Column("opened_by", String(20), nullable=False),  # the complaint whose arrival opened it
    Column("decision", JSON, nullable=False),  # k, λ, p, window, baseline … (spikes.Decision)
    Column("explanation", Text, nullable=False),
    # The message to the linked customers: none → draft → sent (approved and sent at once).
    Column("message_state", String(16), nullable=False, server_default="none"),
    Column("message_text", Text),
    Column("message_drafted_by", String(64)),
    Column("message_drafted_at", UTCDateTime),
    Column("message_approved_by", String(64)),
    Column("message_approved_at", UTCDateTime),
    Column("closed_at", UTCDateTime),
    Column("closed_by", String(64)),
    Column("summary", Text),
    Index(
        "ux_incidents_open_cell",
        "category",
        "area_kind",
        "area",
        unique=True,
        sqlite_where=text("state = 'open'"),
        postgresql_where=text("state = 'open'"),
    ),
    Index("ix_incidents_opened", "opened_at"),
)

incident_complaints = Table(
    "incident_complaints",
    metadata,
    Column("incident_id", Integer, ForeignKey("incidents.id"), primary_key=True),
    Column("complaint_id", BigId, primary_key=True),
    Column("number", String(20), nullable=False),
    Column("linked_at", UTCDateTime, nullable=False),
    Column("how", String(16), nullable=False),  # window | joined | swept
    Column("told_at", UTCDateTime),  # when its customer was sent the incident's message
    Index("ix_incident_complaints_complaint", "complaint_id"),
)

incident_events = Table(
    "incident_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("incident_id", Integer, ForeignKey("incidents.id"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("type", String(32), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("note", Text),
    Column("data", JSON, nullable=False),
    Index("ix_incident_events_incident", "incident_id", "id"),
)
