"""SQLite: partial index predicates in the form the queries are rendered in

SQLite uses a partial index only when the query's WHERE contains the index's
predicate term for term; SQLAlchemy renders a boolean test as `is_open = 1`
and `breached = 0` there. PostgreSQL's indexes are unchanged.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

INDEXES = [
    ("ix_complaints_open_due", "complaints", "next_due_at, id", "is_open = 1", "is_open"),
    (
        "ix_complaints_team_open_due",
        "complaints",
        "team, next_due_at, id",
        "is_open = 1",
        "is_open",
    ),
    (
        "ix_deadlines_watch",
        "deadlines",
        "due_at",
        "met_at IS NULL AND breached = 0",
        "met_at IS NULL AND NOT breached",
    ),
]


def _recreate(which: int) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name, table, columns, *predicates in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
        op.execute(f"CREATE INDEX {name} ON {table} ({columns}) WHERE {predicates[which]}")


def upgrade() -> None:
    _recreate(0)


def downgrade() -> None:
    _recreate(1)
