"""Resources and instrumentation scopes stored once, named by their spans.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "span_resources",
        sa.Column("key", sa.String(22), nullable=False),
        sa.Column("resource", sa.Text),
        sa.Column("scope", sa.Text),
        sa.PrimaryKeyConstraint("key", name="pk_span_resources"),
    )


def downgrade() -> None:
    # spans name their pair as "@" + key in the resource column: write the pair back in full
    shared = "SELECT {column} FROM span_resources r WHERE r.key = substr(spans.resource, 2)"
    op.execute(
        f"UPDATE spans SET scope = ({shared.format(column='scope')}), "
        f"resource = ({shared.format(column='resource')}) WHERE resource LIKE '@%'"
    )
    op.drop_table("span_resources")
