"""Follow-up by SMS and e-mail: the message queue, suppressions, the SMS inbox.

Revision ID: 0002_followup
Revises: 0001_initial
Created: 2026-11-23 06:01:02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002_followup"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    op.create_table(
        "followup_suppressions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", _enum("followup_channel", "email", "sms"), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followup_suppressions")),
        sa.UniqueConstraint(
            "channel", "recipient", name=op.f("uq_followup_suppressions_channel_recipient")
        ),
    )
    op.create_table(
        "followup_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", _enum("followup_channel", "email", "sms"), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=True),
        sa.Column("template", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column(
            "state",
            _enum("message_state", "queued", "sending", "sent", "delivered", "failed", "uncertain"),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("parts", sa.Integer(), server_default="1", nullable=False),
        sa.Column("parts_sent", sa.Integer(), server_default="0", nullable=False),
        sa.Column("concat_ref", sa.Integer(), server_default="0", nullable=False),
        sa.Column("references", JSON, nullable=False),
        sa.Column("provider_id", sa.String(length=255), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_followup_messages_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_followup_messages_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followup_messages")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_followup_messages_idempotency_key")),
    )
    op.create_index(
        "ix_followup_messages_channel_state_next",
        "followup_messages",
        ["channel", "state", "next_attempt_at"],
    )
    op.create_index("ix_followup_messages_recipient", "followup_messages", ["recipient"])
    op.create_table(
        "sms_inbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(length=32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("is_stop", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_sms_inbox_contact_id_contacts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_inbox")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_sms_inbox_dedupe_key")),
    )
    op.create_index("ix_sms_inbox_sender", "sms_inbox", ["sender"])


def downgrade() -> None:
    op.drop_index("ix_sms_inbox_sender", table_name="sms_inbox")
    op.drop_table("sms_inbox")
    op.drop_index("ix_followup_messages_recipient", table_name="followup_messages")
    op.drop_index("ix_followup_messages_channel_state_next", table_name="followup_messages")
    op.drop_table("followup_messages")
    op.drop_table("followup_suppressions")
