"""Evaluation runs, their records and per-record results.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evaluation_runs",
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("experiment_id", sa.BigInteger, nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("model_id", sa.String(256)),
        sa.Column("dataset_id", sa.String(64)),
        sa.Column("dataset_name", sa.String(256)),
        sa.Column("dataset_digest", sa.String(128)),
        sa.Column("dataset_version", sa.BigInteger),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("scorers", sa.Text, nullable=False),
        sa.Column("metrics", sa.Text),
        sa.Column("record_count", sa.BigInteger, nullable=False),
        sa.Column("error_message", sa.Text),
        sa.Column("start_time_ms", sa.BigInteger, nullable=False),
        sa.Column("end_time_ms", sa.BigInteger),
        sa.Column("judge_input_tokens", sa.BigInteger, nullable=False),
        sa.Column("judge_output_tokens", sa.BigInteger, nullable=False),
        sa.Column("judge_cost", sa.Float),
        sa.Column("judge_usage", sa.Text),
        sa.PrimaryKeyConstraint("run_id", name="pk_evaluation_runs"),
    )
    op.create_index(
        "ix_evaluation_runs_experiment_id_start_time_ms",
        "evaluation_runs",
        ["experiment_id", "start_time_ms"],
    )
    op.create_index("ix_evaluation_runs_dataset_id", "evaluation_runs", ["dataset_id"])
    op.create_index("ix_evaluation_runs_model_id", "evaluation_runs", ["model_id"])

    op.create_table(
        "evaluation_records",
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("row_index", sa.Integer, nullable=False),
        sa.Column("dataset_record_id", sa.String(64)),
        sa.Column("input_hash", sa.String(64), nullable=False),
        sa.Column("trace_id", sa.String(32)),
        sa.Column("inputs", sa.Text, nullable=False),
        sa.Column("outputs", sa.Text),
        sa.Column("expectations", sa.Text, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("created_time_ms", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "row_index", name="pk_evaluation_records"),
    )
    op.create_index("ix_evaluation_records_trace_id", "evaluation_records", ["trace_id"])

    op.create_table(
        "evaluation_results",
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("row_index", sa.Integer, nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("value", sa.Text),
        sa.Column("score", sa.Float),
        sa.Column("rationale", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("source_type", sa.String(32), nullable=False),
        sa.Column("source_id", sa.String(256)),
        sa.Column("metadata", sa.Text),
        sa.Column("assessment_id", sa.String(64)),
        sa.PrimaryKeyConstraint("run_id", "row_index", "name", name="pk_evaluation_results"),
    )


def downgrade() -> None:
    op.drop_table("evaluation_results")
    op.drop_index("ix_evaluation_records_trace_id", table_name="evaluation_records")
    op.drop_table("evaluation_records")
    for index in (
        "ix_evaluation_runs_model_id",
        "ix_evaluation_runs_dataset_id",
        "ix_evaluation_runs_experiment_id_start_time_ms",
    ):
        op.drop_index(index, table_name="evaluation_runs")
    op.drop_table("evaluation_runs")
