"""Trace store: experiments, traces, spans, trace tags and metadata, assessments.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Id64 = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    experiments = op.create_table(
        "experiments",
        sa.Column("experiment_id", Id64, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("lifecycle_stage", sa.String(32), nullable=False),
        sa.Column("created_time_ms", sa.BigInteger, nullable=False),
        sa.Column("last_update_time_ms", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("experiment_id", name="pk_experiments"),
        sa.UniqueConstraint("name", name="uq_experiments_name"),
    )
    now = int(time.time() * 1000)
    op.bulk_insert(
        experiments,
        [
            {
                "experiment_id": 0,
                "name": "Default",
                "lifecycle_stage": "active",
                "created_time_ms": now,
                "last_update_time_ms": now,
            }
        ],
    )
    if op.get_bind().dialect.name == "postgresql":
        # id 0 was inserted explicitly; new experiments start at 1
        op.execute(
            "SELECT setval(pg_get_serial_sequence('experiments', 'experiment_id'), 1, false)"
        )

    op.create_table(
        "traces",
        sa.Column("id", Id64, autoincrement=True, nullable=False),
        sa.Column("trace_id", sa.String(32), nullable=False),
        sa.Column("experiment_id", sa.BigInteger, nullable=False),
        sa.Column("experiment_rank", sa.SmallInteger, nullable=False),
        sa.Column("name", sa.Text),
        sa.Column("root_span_id", sa.String(16)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("start_time_ns", sa.BigInteger),
        sa.Column("end_time_ns", sa.BigInteger),
        sa.Column("request_preview", sa.Text),
        sa.Column("response_preview", sa.Text),
        sa.Column("input_tokens", sa.BigInteger, nullable=False),
        sa.Column("output_tokens", sa.BigInteger, nullable=False),
        sa.Column("total_tokens", sa.BigInteger, nullable=False),
        sa.Column("cost", sa.Float, nullable=False),
        sa.Column("span_count", sa.Integer, nullable=False),
        sa.Column("error_count", sa.Integer, nullable=False),
        sa.Column("session_id", sa.String(256)),
        sa.Column("user_id", sa.String(256)),
        sa.Column("created_at_ns", sa.BigInteger, nullable=False),
        sa.Column("last_span_at_ns", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_traces"),
        sa.UniqueConstraint("trace_id", name="uq_traces_trace_id"),
    )
    op.create_index(
        "ix_traces_experiment_id_start_time_ns", "traces", ["experiment_id", "start_time_ns"]
    )
    op.create_index("ix_traces_experiment_id_id", "traces", ["experiment_id", "id"])
    op.create_index("ix_traces_session_id", "traces", ["session_id"])

    op.create_table(
        "spans",
        sa.Column("trace_id", sa.String(32), nullable=False),
        sa.Column("span_id", sa.String(16), nullable=False),
        sa.Column("parent_span_id", sa.String(16)),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.SmallInteger, nullable=False),
        sa.Column("span_type", sa.String(64), nullable=False),
        sa.Column("start_time_ns", sa.BigInteger, nullable=False),
        sa.Column("end_time_ns", sa.BigInteger, nullable=False),
        sa.Column("status_code", sa.SmallInteger, nullable=False),
        sa.Column("status_message", sa.Text),
        sa.Column("inputs", sa.Text),
        sa.Column("outputs", sa.Text),
        sa.Column("model", sa.String(256)),
        sa.Column("provider", sa.String(128)),
        sa.Column("input_tokens", sa.Integer),
        sa.Column("output_tokens", sa.Integer),
        sa.Column("total_tokens", sa.Integer),
        sa.Column("cost", sa.Float),
        sa.Column("session_id", sa.String(256)),
        sa.Column("user_id", sa.String(256)),
        sa.Column("attributes", sa.Text, nullable=False),
        sa.Column("events", sa.Text),
        sa.Column("links", sa.Text),
        sa.Column("resource", sa.Text),
        sa.Column("scope", sa.Text),
        sa.Column("received_at_ns", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("trace_id", "span_id", name="pk_spans"),
    )

    for table in ("trace_tags", "trace_metadata"):
        op.create_table(
            table,
            sa.Column("trace_id", sa.String(32), nullable=False),
            sa.Column("key", sa.String(250), nullable=False),
            sa.Column("value", sa.Text),
            sa.PrimaryKeyConstraint("trace_id", "key", name=f"pk_{table}"),
        )
        op.create_index(f"ix_{table}_key_trace_id", table, ["key", "trace_id"])

    op.create_table(
        "assessments",
        sa.Column("assessment_id", sa.String(64), nullable=False),
        sa.Column("trace_id", sa.String(32), nullable=False),
        sa.Column("span_id", sa.String(16)),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("rationale", sa.Text),
        sa.Column("source_type", sa.String(32), nullable=False),
        sa.Column("source_id", sa.String(256)),
        sa.Column("metadata", sa.Text),
        sa.Column("run_id", sa.String(64)),
        sa.Column("valid", sa.Boolean, nullable=False),
        sa.Column("overrides", sa.String(64)),
        sa.Column("created_time_ms", sa.BigInteger, nullable=False),
        sa.Column("last_update_time_ms", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("assessment_id", name="pk_assessments"),
    )
    op.create_index("ix_assessments_trace_id", "assessments", ["trace_id"])
    op.create_index(
        "ix_assessments_name_kind_trace_id", "assessments", ["name", "kind", "trace_id"]
    )
    op.create_index("ix_assessments_run_id", "assessments", ["run_id"])


def downgrade() -> None:
    for table in ("assessments", "trace_metadata", "trace_tags", "spans", "traces", "experiments"):
        op.drop_table(table)
