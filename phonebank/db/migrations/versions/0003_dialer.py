"""Dialer engines: heartbeats, so that a dead engine's lead claims are released.

Revision ID: 0003_dialer
Revises: 0002_followup
Created: 2026-11-23 06:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_dialer"
down_revision: str | None = "0002_followup"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dialer_engines",
        sa.Column("engine_id", sa.String(length=64), nullable=False),
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("engine_id", name=op.f("pk_dialer_engines")),
    )
    op.create_index(
        op.f("ix_dialer_engines_heartbeat_at"), "dialer_engines", ["heartbeat_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_dialer_engines_heartbeat_at"), table_name="dialer_engines")
    op.drop_table("dialer_engines")
