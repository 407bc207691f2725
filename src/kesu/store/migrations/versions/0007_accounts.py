"""accounts: users, tokens, sessions, audit log (append-only), customer codes,
notification outbox; complaints: encrypted personal fields with a phone hash,
reseller, legal hold, anonymisation time

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

from kesu.store.types import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    pg = bind.dialect.name == "postgresql"
    # Plain ALTERs (no batch copy on SQLite, which would lose the partial indexes).
    if pg:
        op.alter_column("complaints", "customer_phone", type_=sa.Text(), existing_nullable=False)
        op.alter_column("complaints", "customer_name", type_=sa.Text())
        op.alter_column("complaints", "customer_account", type_=sa.Text())
    op.add_column("complaints", sa.Column("customer_phone_hash", sa.String(40)))
    op.add_column("complaints", sa.Column("reseller", sa.String(100)))
    op.add_column(
        "complaints",
        sa.Column("legal_hold", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("complaints", sa.Column("legal_hold_reason", sa.Text()))
    op.add_column("complaints", sa.Column("anonymised_at", UTCDateTime))
    op.drop_index("ix_complaints_phone", table_name="complaints")
    op.create_index("ix_complaints_phone_hash", "complaints", ["customer_phone_hash"])
    op.create_index("ix_complaints_reseller", "complaints", ["reseller", "received_at"])
    op.create_index("ix_complaints_closed", "complaints", ["closed_at"])
    _encrypt_existing(bind)

    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(100)),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("org", sa.String(100)),
        sa.Column("team", sa.String(40)),
        sa.Column("password_hash", sa.Text),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("must_change_password", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
        sa.Column("locked_until", UTCDateTime),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("last_login_at", UTCDateTime),
        sa.UniqueConstraint("username", name="uq_users_username"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "user_id",
            sa.Integer,
            sa.ForeignKey("users.id", name="fk_api_tokens_user_id_users"),
            nullable=False,
        ),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("scopes", sa.JSON),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("expires_at", UTCDateTime),
        sa.Column("revoked_at", UTCDateTime),
        sa.Column("last_used_at", UTCDateTime),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", name="fk_sessions_user_id_users")
        ),
        sa.Column("phone_hash", sa.String(40)),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("last_seen_at", UTCDateTime, nullable=False),
        sa.Column("ended_at", UTCDateTime),
        sa.Column("ip", sa.String(64)),
        sa.Column("user_agent", sa.String(200)),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("ip", sa.String(64)),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("target_type", sa.String(20)),
        sa.Column("target_id", sa.String(100)),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    op.create_index("ix_audit_at", "audit_log", ["at", "id"])
    op.create_index("ix_audit_actor", "audit_log", ["actor", "at"])
    op.create_index("ix_audit_target", "audit_log", ["target_type", "target_id"])
    op.create_table(
        "customer_codes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("phone_hash", sa.String(40), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("used_at", UTCDateTime),
    )
    op.create_index("ix_customer_codes_phone", "customer_codes", ["phone_hash", "created_at"])
    op.create_table(
        "notifications",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("recipient", sa.Text, nullable=False),
        sa.Column("subject", sa.String(200)),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("purpose", sa.String(40), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", UTCDateTime, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("sent_at", UTCDateTime),
        sa.Column("last_error", sa.Text),
    )
    op.create_index("ix_notifications_pending", "notifications", ["status", "next_attempt_at"])
    op.create_table(
        "app_state",
        sa.Column("key", sa.String(60), primary_key=True),
        sa.Column("value", sa.JSON, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    # The audit log is append-only in the database too.
    if pg:
        op.execute(
            "CREATE FUNCTION kesu_audit_append_only() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'audit_log is append-only'; END; $$ LANGUAGE plpgsql;"
        )
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION kesu_audit_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
            )


def _encrypt_existing(bind) -> None:
    """Rows written before encryption: hash the phone, encrypt the personal fields."""
    from kesu.accounts import crypto

    rows = bind.execute(
        sa.text("SELECT id, customer_phone, customer_name, customer_account FROM complaints")
    ).fetchall()
    if not rows:
        return
    ring = crypto.keyring()

    def enc(v):
        return v if v is None or v == "" or v.startswith(crypto.PREFIX) else ring.encrypt(v)

    bind.execute(
        sa.text(
            "UPDATE complaints SET customer_phone = :p, customer_name = :n, "
            "customer_account = :a, customer_phone_hash = :h WHERE id = :id"
        ),
        [
            {
                "id": r.id,
                "p": enc(r.customer_phone),
                "n": enc(r.customer_name),
                "a": enc(r.customer_account),
                "h": ring.lookup_hash("phone:" + ring.decrypt(r.customer_phone)),
            }
            for r in rows
        ],
    )


def downgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    if pg:
        op.execute("DROP TRIGGER audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION kesu_audit_append_only()")
    for name in (
        "app_state",
        "notifications",
        "customer_codes",
        "audit_log",
        "sessions",
        "api_tokens",
        "users",
    ):
        op.drop_table(name)
    for index in ("ix_complaints_closed", "ix_complaints_reseller", "ix_complaints_phone_hash"):
        op.drop_index(index, table_name="complaints")
    op.create_index("ix_complaints_phone", "complaints", ["customer_phone"])
    for col in (
        "anonymised_at",
        "legal_hold_reason",
        "legal_hold",
        "reseller",
        "customer_phone_hash",
    ):
        op.drop_column("complaints", col)
