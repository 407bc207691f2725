"""The quality slice's tables (owned by quality/): reviews of closed complaints scored on
the scorecard (data/quality/scorecard.yaml, the version kept on each review), their
append-only history (reviewed, contested, upheld, rejected), and the practice rounds of
new agents with their answers. Declared on the one MetaData and gathered by
kesu.store.tables."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from kesu.store.meta import metadata
from kesu.store.types import BigId, UTCDateTime

quality_reviews = Table(
    "quality_reviews",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    # One review per complaint (a complaint is the same piece of work however sampled).
    Column("complaint_number", String(20), nullable=False, unique=True),
    Column("category", String(40)),
    # The complaint's assignee when it was closed: whose work this scores.
    Column("handler", String(64), nullable=False),
    Column("closed_at", UTCDateTime, nullable=False),
    Column("reviewer", String(64), nullable=False),
    Column("card_version", Integer, nullable=False),
    Column("marks", JSON, nullable=False),  # item code → true/false or points
    Column("score", Float, nullable=False),  # as the reviewer scored it
    Column("critical_failed", JSON, nullable=False),
    Column("final_score", Float, nullable=False),  # the score that stands
    Column("findings", Text),
    Column("state", String(12), nullable=False),  # reviewed | contested | upheld | rejected
    Column("contest_reason", Text),
    Column("contested_at", UTCDateTime),
    Column("decided_by", String(64)),
    Column("decided_at", UTCDateTime),
    Column("decision_note", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_quality_reviews_handler", "handler", "closed_at"),
    Index("ix_quality_reviews_closed", "closed_at"),
)

quality_review_events = Table(
    "quality_review_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("review_id", BigId, ForeignKey("quality_reviews.id"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("type", String(20), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("data", JSON, nullable=False),
    Index("ix_quality_review_events_review", "review_id", "id"),
)

practice_rounds = Table(
    "practice_rounds",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False),
    Column("case_ids", JSON, nullable=False),  # in the order shown
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("correct", Integer),  # set when the last answer is in
    Column("score", Float),
    Index("ix_practice_rounds_user", "username", "id"),
)

practice_answers = Table(
    "practice_answers",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("round_id", BigId, ForeignKey("practice_rounds.id"), nullable=False),
    Column("case_id", String(40), nullable=False),
    Column("answer", String(40), nullable=False),
    Column("expected", String(40), nullable=False),
    Column("correct", Boolean, nullable=False),
    Column("answered_at", UTCDateTime, nullable=False),
    UniqueConstraint("round_id", "case_id", name="uq_practice_answers_round_case"),
)
