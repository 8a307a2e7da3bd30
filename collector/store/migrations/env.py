"""Alembic environment: runs migrations on the connection the collector hands over.

Spyglass never reads an ``alembic.ini``: :mod:`spyglass.collector.store.migrate` builds the
configuration in code and passes an open connection in ``config.attributes``.
"""

from __future__ import annotations

from alembic import context

from spyglass.collector.store.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
