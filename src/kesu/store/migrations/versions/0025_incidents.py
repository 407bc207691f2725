"""mass incidents: incidents (one open per cell), the complaints linked to each, their
append-only history; complaints by category, province and receipt time (the spike
detector's count for a cell without a city)

Revision ID: 0025
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op

from kesu.store.types import BigId, UTCDateTime

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("area_kind", sa.String(length=16), nullable=False),
        sa.Column("area", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("window_start", UTCDateTime(), nullable=False),
        sa.Column("opened_by", sa.String(length=20), nullable=False),
        sa.Column("decision", sa.JSON(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("message_state", sa.String(length=16), server_default="none", nullable=False),
        sa.Column("message_text", sa.Text(), nullable=True),
        sa.Column("message_drafted_by", sa.String(length=64), nullable=True),
        sa.Column("message_drafted_at", UTCDateTime(), nullable=True),
        sa.Column("message_approved_by", sa.String(length=64), nullable=True),
        sa.Column("message_approved_at", UTCDateTime(), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("closed_by", sa.String(length=64), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
    )
    op.create_index(
        "ux_incidents_open_cell",
        "incidents",
        ["category", "area_kind", "area"],
        unique=True,
        sqlite_where=sa.text("state = 'open'"),
        postgresql_where=sa.text("state = 'open'"),
    )
    op.create_index("ix_incidents_opened", "incidents", ["opened_at"])
    op.create_table(
        "incident_complaints",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", BigId, nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("linked_at", UTCDateTime(), nullable=False),
        sa.Column("how", sa.String(length=16), nullable=False),
        sa.Column("told_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_complaints_incident_id_incidents"),
        ),
        sa.PrimaryKeyConstraint("incident_id", "complaint_id", name=op.f("pk_incident_complaints")),
    )
    op.create_index("ix_incident_complaints_complaint", "incident_complaints", ["complaint_id"])
    op.create_table(
        "incident_events",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_incident_events_incident_id_incidents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_events")),
    )
    op.create_index("ix_incident_events_incident", "incident_events", ["incident_id", "id"])
    # The history is append-only, like the complaints' (0002).
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER incident_events_append_only BEFORE UPDATE OR DELETE "
            "ON incident_events FOR EACH ROW EXECUTE FUNCTION kesu_events_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER incident_events_no_{verb.lower()} BEFORE {verb} "
                "ON incident_events BEGIN "
                "SELECT RAISE(ABORT, 'incident_events is append-only'); END"
            )
    op.create_index(
        "ix_complaints_place_province",
        "complaints",
        ["category", "customer_province", "received_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_complaints_place_province", table_name="complaints")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER incident_events_append_only ON incident_events")
    op.drop_table("incident_events")
    op.drop_table("incident_complaints")
    op.drop_table("incidents")
