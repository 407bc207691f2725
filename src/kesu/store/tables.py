"""The tables. The complaint row is the current state; events are its history."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

from kesu.accounts.crypto import EncryptedText
from kesu.store.meta import metadata as metadata
from kesu.store.tables_appeals import appeal_counters as appeal_counters
from kesu.store.tables_appeals import appeal_events as appeal_events
from kesu.store.tables_appeals import appeal_operators as appeal_operators
from kesu.store.tables_appeals import appeals as appeals
from kesu.store.tables_channels_in import channel_messages as channel_messages
from kesu.store.tables_channels_in import channel_replays as channel_replays
from kesu.store.tables_channels_in import channel_sources as channel_sources
from kesu.store.tables_corrective import (
    corrective_action_complaints as corrective_action_complaints,
)
from kesu.store.tables_corrective import corrective_action_events as corrective_action_events
from kesu.store.tables_corrective import corrective_actions as corrective_actions
from kesu.store.tables_imports import import_jobs as import_jobs
from kesu.store.tables_imports import import_mappings as import_mappings
from kesu.store.tables_incidents import incident_complaints as incident_complaints
from kesu.store.tables_incidents import incident_events as incident_events
from kesu.store.tables_incidents import incidents as incidents
from kesu.store.tables_mail import mail_inbox as mail_inbox
from kesu.store.tables_outbox import notification_optouts as notification_optouts
from kesu.store.tables_outbox import (
    notification_template_versions as notification_template_versions,
)
from kesu.store.tables_outbox import notifications as notifications
from kesu.store.tables_outbox import staff_digests as staff_digests
from kesu.store.tables_outbox import staff_notice_prefs as staff_notice_prefs
from kesu.store.tables_outbox import staff_notices as staff_notices
from kesu.store.tables_outbox import webhook_subscriptions as webhook_subscriptions
from kesu.store.tables_quality import practice_answers as practice_answers
from kesu.store.tables_quality import practice_rounds as practice_rounds
from kesu.store.tables_quality import quality_review_events as quality_review_events
from kesu.store.tables_quality import quality_reviews as quality_reviews
from kesu.store.tables_referrals import referral_sources as referral_sources
from kesu.store.tables_referrals import referrals as referrals
from kesu.store.tables_survey import complaint_surveys as complaint_surveys
from kesu.store.team_tables import team_history as team_history
from kesu.store.team_tables import teams as teams
from kesu.store.types import BigId, UTCDateTime

complaints = Table(
    "complaints",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("number", String(20), nullable=False, unique=True),
    Column("status", String(20), nullable=False),
    Column("is_open", Boolean, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("category", String(40)),
    Column("channel", String(20), nullable=False),
    Column("channel_level", String(10), nullable=False),
    Column("validity", String(10), nullable=False, server_default="valid"),
    Column("invalid_reason", String(40)),
    Column("priority", String(10), nullable=False, server_default="normal"),
    Column("risk_flags", JSON, nullable=False),
    Column("title", String(200)),
    Column("description", Text, nullable=False),
    Column("demands", Text),
    Column("received_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("accepted_at", UTCDateTime),
    Column("replied_at", UTCDateTime),
    Column("closed_at", UTCDateTime),
    Column("converted_at", UTCDateTime),
    # Personal fields: encrypted at rest; the phone is found by its keyed hash.
    Column("customer_phone", EncryptedText, nullable=False),
    Column("customer_phone_hash", String(40)),
    Column("customer_name", EncryptedText),
    Column("customer_account", EncryptedText),
    Column("customer_province", String(20)),
    Column("customer_city", String(50)),
    Column("customer_area", String(10), nullable=False, server_default="urban"),
    Column("compensation", Numeric(12, 2)),
    Column("resolution", Text),
    Column("root_cause", String(40)),
    Column("team", String(40)),
    Column("first_receiver", String(64)),
    Column("assignee", String(64)),
    # The first person the complaint was assigned to (首问负责): set once, never moved.
    Column("first_assignee", String(64)),
    Column("reopen_count", Integer, nullable=False, server_default="0"),
    Column("callback_result", String(30)),
    Column("callback_attempts", Integer, nullable=False, server_default="0"),
    Column("escalation_level", Integer, nullable=False, server_default="0"),
    Column("merged_into_id", BigId, ForeignKey("complaints.id")),
    Column("next_due_at", UTCDateTime),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("idempotency_key", String(200), unique=True),
    Column("request_hash", String(64)),
    # The reseller organisation the complaint is tied to (its sale); resellers see only theirs.
    Column("reseller", String(100)),
    # A legal hold keeps every original record until released (retention skips it).
    Column("legal_hold", Boolean, nullable=False, server_default=false()),
    Column("legal_hold_reason", Text),
    Column("anonymised_at", UTCDateTime),
    # "open and due before T", "overdue" (open, due before now) and the queue.
    # The predicates are written the way SQLAlchemy renders `WHERE is_open` on
    # each database, so the planners match them (`is_open` / `is_open = 1`).
    Index(
        "ix_complaints_open_due",
        "next_due_at",
        "id",
        postgresql_where=text("is_open"),
        sqlite_where=text("is_open = 1"),
    ),
    Index(
        "ix_complaints_team_open_due",
        "team",
        "next_due_at",
        "id",
        postgresql_where=text("is_open"),
        sqlite_where=text("is_open = 1"),
    ),
    Index("ix_complaints_received", "received_at", "id"),
    Index("ix_complaints_status", "status"),
    Index("ix_complaints_phone_hash", "customer_phone_hash"),
    Index("ix_complaints_reseller", "reseller", "received_at"),
    Index("ix_complaints_closed", "closed_at"),
    # Mass incidents: same category, same city, recent.
    Index("ix_complaints_place", "category", "customer_city", "received_at"),
    # A mass-incident cell without a city is its province (incidents.spikes).
    Index("ix_complaints_place_province", "category", "customer_province", "received_at"),
)

complaint_events = Table(
    "complaint_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("complaint_id", BigId, ForeignKey("complaints.id"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("type", String(40), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("from_status", String(20)),
    Column("to_status", String(20)),
    Column("note", Text),
    Column("data", JSON, nullable=False),
    Index("ix_complaint_events_complaint", "complaint_id", "id"),
)

deadlines = Table(
    "deadlines",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("complaint_id", BigId, ForeignKey("complaints.id"), nullable=False),
    Column("rule", String(40), nullable=False),
    Column("name", String(100), nullable=False),
    Column("statutory", Boolean, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("basis", JSON, nullable=False),
    Column("estimated", Boolean, nullable=False),
    Column("calendar_version", String(80), nullable=False),
    Column("met_at", UTCDateTime),
    Column("met_by", String(20)),
    Column("breached", Boolean, nullable=False, server_default=false()),
    Column("breached_at", UTCDateTime),
    Column("warned_at", UTCDateTime),
    # Hours before due_at the watcher warns, as the rule or SLA policy said when the
    # deadline was planned (NULL on rows planned before 0011: the rule's own lead).
    Column("warn_before_hours", Float),
    Index("ix_deadlines_complaint", "complaint_id"),
    # The watcher's work: unmet, not yet marked breached, by due time.
    Index(
        "ix_deadlines_watch",
        "due_at",
        postgresql_where=text("met_at IS NULL AND NOT breached"),
        sqlite_where=text("met_at IS NULL AND breached = 0"),
    ),
)

number_counters = Table(
    "number_counters",
    metadata,
    Column("day", String(8), primary_key=True),
    Column("last", Integer, nullable=False),
)

calendar_years = Table(
    "calendar_years",
    metadata,
    Column("year", Integer, primary_key=True),
    Column("official", Boolean, nullable=False),
    Column("source", Text),
    Column("data", JSON, nullable=False),
    Column("loaded_at", UTCDateTime, nullable=False),
    Column("loaded_by", String(64), nullable=False),
)

# Internal SLA policies (operator policy, never statutory): a deadline rule of
# data/deadline_rules.yaml that is not statutory, narrowed to a kind, category and
# priority (NULL: any) with its own length, unit and warning lead. Each rule's
# unnarrowed policy is seeded from the file; `scope` ("kind|category|priority", "*"
# for any) makes a policy unique per rule. A change applies to deadlines planned after it.
sla_policies = Table(
    "sla_policies",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("rule", String(40), nullable=False),
    Column("scope", String(140), nullable=False),
    Column("kind", String(20)),
    Column("category", String(40)),
    Column("priority", String(10)),
    Column("length", Integer, nullable=False),
    Column("unit", String(20), nullable=False),
    Column("warn_before_hours", Float, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_by", String(64), nullable=False),
    UniqueConstraint("rule", "scope"),
)

# Every change of a policy (seeded, created, changed, removed): who, when, before and
# after. The highest id is the policies' version: a process re-reads them when it moves.
sla_policy_history = Table(
    "sla_policy_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("policy_id", Integer, nullable=False),
    Column("rule", String(40), nullable=False),
    Column("action", String(20), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("before", JSON),
    Column("after", JSON),
)


# -- law: the regulations index and the case library -------------------------

law_index = Table(
    "law_index",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("fingerprint", String(40), nullable=False),
    Column("indexed_at", UTCDateTime, nullable=False),
    Column("indexed_by", String(64), nullable=False),
    Column("regulations", Integer, nullable=False),
    Column("articles", Integer, nullable=False),
    Column("cases", Integer, nullable=False),
)

law_regulations = Table(
    "law_regulations",
    metadata,
    Column("id", String(60), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("title", String(200), nullable=False),
    Column("short_title", String(100), nullable=False),
    Column("aliases", JSON, nullable=False),
    Column("province", String(20)),
    Column("complete", Boolean, nullable=False),
    Column("files", JSON, nullable=False),
    Column("meta", JSON, nullable=False),
)

law_articles = Table(
    "law_articles",
    metadata,
    Column("id", String(80), primary_key=True),
    Column("regulation_id", String(60), ForeignKey("law_regulations.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("kind", String(10), nullable=False),  # article | annex
    Column("number", Integer),
    Column("label", String(40), nullable=False),
    Column("note", String(40), nullable=False),
    Column("chapter", Text, nullable=False),
    Column("paragraphs", JSON, nullable=False),
    Column("partial", Boolean, nullable=False),
    Column("tokens", JSON, nullable=False),
    Column("notes", JSON, nullable=False),
    Index("ix_law_articles_regulation", "regulation_id", "position"),
)

law_cases = Table(
    "law_cases",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("source", String(20), nullable=False),  # seed | court | project | promoted
    Column("title", String(200), nullable=False),
    Column("category", String(40), nullable=False),
    Column("province", String(20)),
    Column("court", String(200)),
    Column("case_no", String(100)),
    Column("date", String(40)),
    Column("facts", Text, nullable=False),
    Column("articles", JSON, nullable=False),
    Column("outcome", Text, nullable=False),
    Column("lessons", JSON, nullable=False),
    Column("tags", JSON, nullable=False),
    Column("complaint_number", String(20), unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(64), nullable=False),
    # Promoted by quality staff as an example: good | bad (None: not judged, packaged).
    Column("verdict", String(8)),
)


# -- accounts -------------------------------------------------------------------

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(100)),
    Column("role", String(20), nullable=False),
    Column("org", String(100)),  # reseller organisation
    Column("team", String(40)),
    # The categories this user handles (a team's skill routing picks among them).
    Column("skills", JSON),
    Column("password_hash", Text),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("must_change_password", Boolean, nullable=False, server_default=false()),
    Column("failed_logins", Integer, nullable=False, server_default="0"),
    Column("locked_until", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("last_login_at", UTCDateTime),
    Column("email", String(200)),  # where staff notices are mailed (nullable)
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("scopes", JSON),  # None: all of the user's permissions
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("expires_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),
    Column("last_used_at", UTCDateTime),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", String(64), primary_key=True),  # sha256 of the cookie value
    Column("kind", String(10), nullable=False),  # user | customer
    Column("user_id", Integer, ForeignKey("users.id")),
    Column("phone_hash", String(40)),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime),
    Column("ip", String(64)),
    Column("user_agent", String(200)),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("role", String(20), nullable=False),
    Column("ip", String(64)),
    Column("action", String(40), nullable=False),
    Column("target_type", String(20)),
    Column("target_id", String(100)),
    Column("detail", JSON, nullable=False),
    Index("ix_audit_at", "at", "id"),
    Index("ix_audit_actor", "actor", "at"),
    Index("ix_audit_target", "target_type", "target_id"),
)

customer_codes = Table(
    "customer_codes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("phone_hash", String(40), nullable=False),
    Column("code_hash", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("used_at", UTCDateTime),
    Index("ix_customer_codes_phone", "phone_hash", "created_at"),
)

# One row per limited key (e.g. a phone number's code sends): the transaction that
# checks a limit and counts against it locks the row first (kesu.store.gates).
limit_gates = Table(
    "limit_gates",
    metadata,
    Column("key", String(80), primary_key=True),
)

app_state = Table(
    "app_state",
    metadata,
    Column("key", String(60), primary_key=True),
    Column("value", JSON, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)


# -- evidence attachments ---------------------------------------------------------

# Files the staff or the customer add to a complaint (images, PDFs, audio). The type
# is the one found in the file's first bytes; retention empties `data` and sets
# `deleted_at` when the complaint is anonymised.
complaint_attachments = Table(
    "complaint_attachments",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("complaint_id", BigId, ForeignKey("complaints.id"), nullable=False),
    Column("filename", String(200), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("data", LargeBinary, nullable=False),  # BYTEA on PostgreSQL
    Column("source", String(20), nullable=False),  # staff | customer
    Column("uploaded_by", String(64), nullable=False),
    Column("uploaded_at", UTCDateTime, nullable=False),
    Column("deleted_at", UTCDateTime),
    Index("ix_complaint_attachments_complaint", "complaint_id"),
)
