"""Evaluation datasets, their tags, records and record history.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _record_state_columns() -> list[sa.Column]:
    """The columns dataset_records and dataset_record_history share."""
    return [
        sa.Column("dataset_id", sa.String(40), nullable=False),
        sa.Column("dataset_record_id", sa.String(40), nullable=False),
        sa.Column("input_hash", sa.String(64), nullable=False),
        sa.Column("inputs", sa.Text, nullable=False),
        sa.Column("expectations", sa.Text, nullable=False),
        sa.Column("outputs", sa.Text),
        sa.Column("tags", sa.Text, nullable=False),
        sa.Column("source_type", sa.String(16), nullable=False),
        sa.Column("source_id", sa.String(256)),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.Column("created_time_ms", sa.BigInteger, nullable=False),
        sa.Column("last_update_time_ms", sa.BigInteger, nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "datasets",
        sa.Column("dataset_id", sa.String(40), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.Column("digest", sa.String(16), nullable=False),
        sa.Column("digest_sum", sa.String(64), nullable=False),
        sa.Column("record_count", sa.BigInteger, nullable=False),
        sa.Column("created_time_ms", sa.BigInteger, nullable=False),
        sa.Column("last_update_time_ms", sa.BigInteger, nullable=False),
        sa.Column("created_by", sa.String(256)),
        sa.Column("last_updated_by", sa.String(256)),
        sa.PrimaryKeyConstraint("dataset_id", name="pk_datasets"),
        sa.UniqueConstraint("name", name="uq_datasets_name"),
    )
    op.create_table(
        "dataset_tags",
        sa.Column("dataset_id", sa.String(40), nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", sa.Text),
        sa.PrimaryKeyConstraint("dataset_id", "key", name="pk_dataset_tags"),
    )
    op.create_table(
        "dataset_experiments",
        sa.Column("dataset_id", sa.String(40), nullable=False),
        sa.Column("experiment_id", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("dataset_id", "experiment_id", name="pk_dataset_experiments"),
    )
    op.create_index(
        "ix_dataset_experiments_experiment_id_dataset_id",
        "dataset_experiments",
        ["experiment_id", "dataset_id"],
    )
    op.create_table(
        "dataset_versions",
        sa.Column("dataset_id", sa.String(40), nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.Column("digest", sa.String(16), nullable=False),
        sa.Column("record_count", sa.BigInteger, nullable=False),
        sa.Column("inserted_count", sa.BigInteger, nullable=False),
        sa.Column("updated_count", sa.BigInteger, nullable=False),
        sa.Column("deleted_count", sa.BigInteger, nullable=False),
        sa.Column("created_time_ms", sa.BigInteger, nullable=False),
        sa.Column("created_by", sa.String(256)),
        sa.PrimaryKeyConstraint("dataset_id", "version", name="pk_dataset_versions"),
    )
    op.create_table(
        "dataset_records",
        *_record_state_columns(),
        sa.PrimaryKeyConstraint("dataset_id", "dataset_record_id", name="pk_dataset_records"),
        sa.UniqueConstraint(
            "dataset_id", "input_hash", name="uq_dataset_records_dataset_id_input_hash"
        ),
    )
    op.create_table(
        "dataset_record_history",
        sa.Column("superseded_in", sa.BigInteger, nullable=False),
        *_record_state_columns(),
        sa.PrimaryKeyConstraint(
            "dataset_id", "dataset_record_id", "version", name="pk_dataset_record_history"
        ),
    )


def downgrade() -> None:
    for table in (
        "dataset_record_history",
        "dataset_records",
        "dataset_versions",
        "dataset_experiments",
        "dataset_tags",
        "datasets",
    ):
        op.drop_table(table)
