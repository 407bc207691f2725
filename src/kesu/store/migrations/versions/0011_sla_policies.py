"""sla_policies and their history (internal SLA policies edited by admins);
deadlines.warn_before_hours (the warning lead the deadline was planned with); open
complaints already past a statutory deadline raised to high priority (as the watcher now
does on a breach), each with its event

Revision ID: 0011
Revises: 0009
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import kesu.store.types

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sla_policies",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("scope", sa.String(length=140), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=True),
        sa.Column("category", sa.String(length=40), nullable=True),
        sa.Column("priority", sa.String(length=10), nullable=True),
        sa.Column("length", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("warn_before_hours", sa.Float(), nullable=False),
        sa.Column("updated_at", kesu.store.types.UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_policies")),
        sa.UniqueConstraint("rule", "scope", name=op.f("uq_sla_policies_rule")),
    )
    op.create_table(
        "sla_policy_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("at", kesu.store.types.UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_policy_history")),
    )
    op.add_column("deadlines", sa.Column("warn_before_hours", sa.Float(), nullable=True))
    _raise_past_statutory()


def _raise_past_statutory() -> None:
    """What the watcher does on a statutory breach, for the breaches recorded before."""
    when = kesu.store.types.UTCDateTime()
    complaints = sa.table(
        "complaints",
        sa.column("id", sa.Integer),
        sa.column("status", sa.String),
        sa.column("priority", sa.String),
        sa.column("is_open", sa.Boolean),
        sa.column("version", sa.Integer),
        sa.column("updated_at", when),
    )
    deadlines = sa.table(
        "deadlines",
        sa.column("complaint_id", sa.Integer),
        sa.column("rule", sa.String),
        sa.column("name", sa.String),
        sa.column("basis", sa.JSON),
        sa.column("statutory", sa.Boolean),
        sa.column("breached", sa.Boolean),
    )
    events = sa.table(
        "complaint_events",
        sa.column("complaint_id", sa.Integer),
        sa.column("at", when),
        sa.column("type", sa.String),
        sa.column("actor", sa.String),
        sa.column("from_status", sa.String),
        sa.column("to_status", sa.String),
        sa.column("note", sa.Text),
        sa.column("data", sa.JSON),
    )
    conn = op.get_bind()
    c, d = complaints.c, deadlines.c
    rows = conn.execute(
        sa.select(c.id, c.status, c.priority, d.rule, d.name, d.basis)
        .join(deadlines, d.complaint_id == c.id)
        .where(c.is_open, c.priority.in_(("low", "normal")), d.statutory, d.breached)
        .order_by(c.id)
    ).all()
    now = datetime.now(UTC)
    done: set[int] = set()
    for row in rows:
        if row.id in done:
            continue
        done.add(row.id)
        cited = "、".join(b.get("citation", "") for b in row.basis or () if not b.get("policy"))
        conn.execute(
            sa.insert(events).values(
                complaint_id=row.id,
                at=now,
                type="priority_raised",
                actor="system",
                from_status=row.status,
                to_status=row.status,
                note=f"已超过法定时限“{row.name}”（{cited}），优先级提升为高。",
                data={
                    "rule": row.rule,
                    "citation": cited,
                    "reason": "statutory_breach",
                    "from": row.priority,
                    "to": "high",
                },
            )
        )
        conn.execute(
            sa.update(complaints)
            .where(c.id == row.id)
            .values(priority="high", version=c.version + 1, updated_at=now)
        )


def downgrade() -> None:
    with op.batch_alter_table("deadlines") as batch:
        batch.drop_column("warn_before_hours")
    op.drop_table("sla_policy_history")
    op.drop_table("sla_policies")
