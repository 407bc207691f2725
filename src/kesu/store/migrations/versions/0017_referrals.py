"""regulator referrals: referral_sources (a regulator's office: its code, name, the URL
its kesu takes the operator's answers at and the shared secret, encrypted); referrals
(the regulator's reference, unique; the complaint registered or joined; the appeal's
receipt date, the date the answer is due; the original as it arrived, encrypted; the
answer given and the outbox message that carried it back)

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

import kesu.accounts.crypto
import kesu.store.types

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "referral_sources",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("callback_url", sa.String(length=500), nullable=True),
        sa.Column("secret", kesu.accounts.crypto.EncryptedText(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", kesu.store.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_sources")),
        sa.UniqueConstraint("code", name=op.f("uq_referral_sources_code")),
    )
    op.create_table(
        "referrals",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("ref", sa.String(length=60), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=True),
        sa.Column("complaint_number", sa.String(length=40), nullable=False),
        sa.Column("linked", sa.Boolean(), nullable=False),
        sa.Column("operator", sa.String(length=100), nullable=True),
        sa.Column("appeal_received_on", sa.Date(), nullable=False),
        sa.Column("reply_due_on", sa.Date(), nullable=False),
        sa.Column("issue", sa.Text(), nullable=False),
        sa.Column("original", kesu.accounts.crypto.EncryptedText(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", kesu.store.types.UTCDateTime(), nullable=False),
        sa.Column("replied_at", kesu.store.types.UTCDateTime(), nullable=True),
        sa.Column("replied_by", sa.String(length=64), nullable=True),
        sa.Column("handling", sa.Text(), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("callback_uid", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
        sa.UniqueConstraint("ref", name=op.f("uq_referrals_ref")),
    )


def downgrade() -> None:
    op.drop_table("referrals")
    op.drop_table("referral_sources")
