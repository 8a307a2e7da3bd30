"""Human-review queues, their traces (items with claims) and the traces each reviewer skipped.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# (table, index columns) of every index this migration creates
_INDEXES = (
    ("review_queues", ("experiment_id", "created_time_ms")),
    ("review_items", ("queue_id", "state", "position")),  # the claim
    ("review_items", ("queue_id", "trace_id")),  # submit and skip
)


def _index_name(table: str, columns: tuple[str, ...]) -> str:
    return f"ix_{table}_{'_'.join(columns)}"


def upgrade() -> None:
    op.create_table(
        "review_queues",
        sa.Column("queue_id", sa.String(32), nullable=False),
        sa.Column("experiment_id", sa.BigInteger, nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("fields", sa.Text, nullable=False),
        sa.Column("filter_string", sa.Text),
        sa.Column("created_by", sa.String(256), nullable=False),
        sa.Column("created_time_ms", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("queue_id", name="pk_review_queues"),
        sa.UniqueConstraint("experiment_id", "name", name="uq_review_queues_experiment_id_name"),
    )
    op.create_table(
        "review_items",
        sa.Column("queue_id", sa.String(32), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("trace_id", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reviewer", sa.String(256)),
        sa.Column("claim_expires_ms", sa.BigInteger),
        sa.Column("done_time_ms", sa.BigInteger),
        sa.Column("review_values", sa.Text),
        sa.PrimaryKeyConstraint("queue_id", "position", name="pk_review_items"),
    )
    op.create_table(
        "review_skips",
        sa.Column("queue_id", sa.String(32), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("reviewer", sa.String(256), nullable=False),
        sa.PrimaryKeyConstraint("queue_id", "position", "reviewer", name="pk_review_skips"),
    )
    for table, columns in _INDEXES:
        op.create_index(_index_name(table, columns), table, list(columns))


def downgrade() -> None:
    for table, columns in reversed(_INDEXES):
        op.drop_index(_index_name(table, columns), table_name=table)
    for table in ("review_skips", "review_items", "review_queues"):
        op.drop_table(table)
