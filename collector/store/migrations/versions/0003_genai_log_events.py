"""Log records of spans (GenAI events and other logs), kept until and after their span.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "span_log_events",
        sa.Column("trace_id", sa.String(32), nullable=False),
        sa.Column("span_id", sa.String(16), nullable=False),
        sa.Column("record_key", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("event_name", sa.String(256)),
        sa.Column("time_unix_nano", sa.BigInteger, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("received_at_ns", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("trace_id", "span_id", "record_key", name="pk_span_log_events"),
    )
    op.create_index("ix_span_log_events_received_at_ns", "span_log_events", ["received_at_ns"])


def downgrade() -> None:
    op.drop_index("ix_span_log_events_received_at_ns", table_name="span_log_events")
    op.drop_table("span_log_events")
