"""``spyglass experiments list``: the experiments a collector (or the embedded store) holds."""

from __future__ import annotations

import click

from spyglass.cli import connection
from spyglass.cli.options import collector_option, format_option
from spyglass.cli.output import Column, render

EXPERIMENT_COLUMNS = (
    Column("experiment_id", "id"),
    Column("name"),
    Column("created", "time"),
    Column("last_update", "time"),
    Column("retention_days", "count"),
    Column("tags", "mapping"),
)
"""The columns of ``experiments list``."""


@click.group("experiments")
def group() -> None:
    """List experiments."""


@group.command("list")
@collector_option
@format_option()
def experiments_list(collector: str | None, fmt: str) -> None:
    """Every experiment with its id."""
    session = connection.connect(collector)
    rows = [
        {
            "experiment_id": e.experiment_id,
            "name": e.name,
            "created": e.creation_time,
            "last_update": e.last_update_time,
            "retention_days": e.retention_days,
            "tags": dict(e.tags),
        }
        for e in session.search_experiments()
    ]
    click.echo(render(rows, fmt, EXPERIMENT_COLUMNS))
