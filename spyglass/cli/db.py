"""``spyglass db upgrade``: the trace store's schema, migrated outside a collector's start."""

from __future__ import annotations

import click

from spyglass.config import CollectorSettings


@click.group("db")
def group() -> None:
    """Manage the trace store's schema."""


@group.command("upgrade")
@click.option("--store", default=None, help="database URL [env SPYGLASS_STORE]")
def db_upgrade(store: str | None) -> None:
    """Apply pending migrations (safe to run from several replicas at once)."""
    from spyglass.collector.store import migrate
    from spyglass.collector.store.engine import create_store_engine

    settings = CollectorSettings.load(store=store)
    engine = create_store_engine(settings.store)
    migrate.upgrade(engine)
    click.echo(
        f"{engine.url.render_as_string(hide_password=True)} is at revision "
        f"{migrate.current_revision(engine)}"
    )
