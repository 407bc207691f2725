"""complaint_events is append-only: the database refuses UPDATE and DELETE

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION kesu_events_append_only() RETURNS trigger AS $$
            BEGIN
              RAISE EXCEPTION 'complaint_events is append-only';
            END;
            $$ LANGUAGE plpgsql;
            """
        )
        op.execute(
            "CREATE TRIGGER complaint_events_append_only BEFORE UPDATE OR DELETE "
            "ON complaint_events FOR EACH ROW EXECUTE FUNCTION kesu_events_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER complaint_events_no_{verb.lower()} BEFORE {verb} "
                "ON complaint_events BEGIN "
                "SELECT RAISE(ABORT, 'complaint_events is append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER complaint_events_append_only ON complaint_events")
        op.execute("DROP FUNCTION kesu_events_append_only()")
    else:
        op.execute("DROP TRIGGER complaint_events_no_update")
        op.execute("DROP TRIGGER complaint_events_no_delete")
