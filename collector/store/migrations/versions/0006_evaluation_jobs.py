"""Evaluation jobs, their chunks and leases, workers and monitors.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# (table, index columns) of every index this migration creates
_INDEXES = (
    ("evaluation_jobs", ("created_time_ms", "job_id")),
    ("evaluation_jobs", ("status", "created_time_ms")),
    ("evaluation_jobs", ("monitor_id",)),
    ("evaluation_job_items", ("job_id", "trace_id")),
    ("evaluation_job_chunks", ("state", "priority", "created_time_ms")),  # the claim
    ("evaluation_job_chunks", ("state", "lease_expires_ms")),  # expired leases
    ("evaluation_job_chunks", ("lease_id",)),  # every call about a lease
    ("evaluation_workers", ("last_seen_ms",)),  # live workers
    ("evaluation_monitors", ("enabled", "last_check_ms")),  # due monitors
    ("evaluation_monitors", ("experiment_id",)),
)


def _index_name(table: str, columns: tuple[str, ...]) -> str:
    return f"ix_{table}_{'_'.join(columns)}"


def upgrade() -> None:
    op.create_table(
        "evaluation_jobs",
        sa.Column("job_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("experiment_id", sa.BigInteger, nullable=False),
        sa.Column("monitor_id", sa.String(32)),
        sa.Column("input", sa.Text, nullable=False),
        sa.Column("scorers", sa.Text, nullable=False),
        sa.Column("build_dataset", sa.String(256)),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error_message", sa.Text),
        sa.Column("total_rows", sa.BigInteger, nullable=False),
        sa.Column("chunk_size", sa.Integer, nullable=False),
        sa.Column("chunks_total", sa.Integer, nullable=False),
        sa.Column("created_time_ms", sa.BigInteger, nullable=False),
        sa.Column("started_time_ms", sa.BigInteger),
        sa.Column("finished_time_ms", sa.BigInteger),
        sa.PrimaryKeyConstraint("job_id", name="pk_evaluation_jobs"),
    )
    op.create_table(
        "evaluation_job_items",
        sa.Column("job_id", sa.String(32), nullable=False),
        sa.Column("row_index", sa.Integer, nullable=False),
        sa.Column("trace_id", sa.String(32)),
        sa.Column("dataset_record_id", sa.String(64)),
        sa.Column("inputs", sa.Text),
        sa.Column("expectations", sa.Text),
        sa.Column("outputs", sa.Text),
        sa.PrimaryKeyConstraint("job_id", "row_index", name="pk_evaluation_job_items"),
    )
    op.create_table(
        "evaluation_job_chunks",
        sa.Column("job_id", sa.String(32), nullable=False),
        sa.Column("chunk_index", sa.Integer, nullable=False),
        sa.Column("first_row", sa.Integer, nullable=False),
        sa.Column("row_count", sa.Integer, nullable=False),
        sa.Column("priority", sa.SmallInteger, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_time_ms", sa.BigInteger, nullable=False),
        sa.Column("lease_id", sa.String(32)),
        sa.Column("lease_owner", sa.String(256)),
        sa.Column("lease_expires_ms", sa.BigInteger),
        sa.Column("lease_seconds", sa.Float),
        sa.Column("claims", sa.Integer, nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("finished_time_ms", sa.BigInteger),
        sa.PrimaryKeyConstraint("job_id", "chunk_index", name="pk_evaluation_job_chunks"),
    )
    op.create_table(
        "evaluation_workers",
        sa.Column("worker_id", sa.String(256), nullable=False),
        sa.Column("concurrency", sa.Integer, nullable=False),
        sa.Column("scorer_names", sa.Text, nullable=False),
        sa.Column("stopping", sa.Boolean, nullable=False),
        sa.Column("first_seen_ms", sa.BigInteger, nullable=False),
        sa.Column("last_seen_ms", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("worker_id", name="pk_evaluation_workers"),
    )
    op.create_table(
        "evaluation_monitors",
        sa.Column("monitor_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("experiment_id", sa.BigInteger, nullable=False),
        sa.Column("filter_string", sa.Text, nullable=False),
        sa.Column("sample_rate", sa.Float, nullable=False),
        sa.Column("scorers", sa.Text, nullable=False),
        sa.Column("quiet_period_seconds", sa.Float, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("job_id", sa.String(32), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("cursor", sa.BigInteger, nullable=False),
        sa.Column("waiting", sa.Text, nullable=False),
        sa.Column("traces_seen", sa.BigInteger, nullable=False),
        sa.Column("traces_sampled", sa.BigInteger, nullable=False),
        sa.Column("last_check_ms", sa.BigInteger),
        sa.Column("created_time_ms", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("monitor_id", name="pk_evaluation_monitors"),
        sa.UniqueConstraint("name", name="uq_evaluation_monitors_name"),
    )
    for table, columns in _INDEXES:
        op.create_index(_index_name(table, columns), table, list(columns))


def downgrade() -> None:
    for table, columns in reversed(_INDEXES):
        op.drop_index(_index_name(table, columns), table_name=table)
    for table in (
        "evaluation_monitors",
        "evaluation_workers",
        "evaluation_job_chunks",
        "evaluation_job_items",
        "evaluation_jobs",
    ):
        op.drop_table(table)
