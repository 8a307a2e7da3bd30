"""``spyglass traces search|get|delete``: traces from the command line."""

from __future__ import annotations

from typing import Any

import click

from spyglass.cli import connection
from spyglass.cli.options import collector_option, experiments_option, format_option
from spyglass.cli.output import render


@click.group("traces")
def group() -> None:
    """Search, show and delete traces."""


@group.command("search")
@collector_option
@experiments_option("experiment name or id (repeatable; default: the default experiment)")
@click.option("--filter", "filter_string", default=None, help="e.g. \"tags.env = 'prod'\"")
@click.option("--order-by", multiple=True, help="e.g. 'attributes.timestamp_ms DESC'")
@click.option("--limit", type=int, default=25, show_default=True)
@format_option()
def traces_search(
    collector: str | None,
    experiments: tuple[str, ...],
    filter_string: str | None,
    order_by: tuple[str, ...],
    limit: int,
    fmt: str,
) -> None:
    """List traces matching a filter, newest first."""
    session = connection.connect(collector)
    from spyglass.search import search_traces

    found = search_traces(
        connection.experiment_ids(session, experiments),
        filter_string,
        list(order_by) or None,
        max_results=limit,
        return_type="list",
    )
    click.echo(render([_summary(t) for t in found], fmt))


@group.command("get")
@collector_option
@click.argument("trace_id")
def traces_get(collector: str | None, trace_id: str) -> None:
    """Show one trace as JSON: its info, spans and assessments."""
    import dataclasses
    import json

    connection.connect(collector)
    from spyglass.annotations import get_trace

    click.echo(json.dumps(dataclasses.asdict(get_trace(trace_id)), indent=2, default=str))


@group.command("delete")
@collector_option
@click.argument("trace_ids", nargs=-1)
@click.option("--experiment", "experiment", default=None, help="with --older-than-days")
@click.option("--older-than-days", type=float, default=None)
def traces_delete(
    collector: str | None,
    trace_ids: tuple[str, ...],
    experiment: str | None,
    older_than_days: float | None,
) -> None:
    """Delete traces by id, or an experiment's traces older than N days."""
    import time

    session = connection.connect(collector)
    from spyglass.annotations import delete_traces

    if not trace_ids and (experiment is None or older_than_days is None):
        raise click.UsageError("give trace ids, or --experiment with --older-than-days")
    max_ts = None
    if older_than_days is not None:
        max_ts = int((time.time() - older_than_days * 86400) * 1000)
    experiment_id = None
    if experiment:
        ids = connection.experiment_ids(session, (experiment,))
        experiment_id = ids[0] if ids else None
    deleted = delete_traces(experiment_id, max_ts, trace_ids=list(trace_ids) or None)
    click.echo(f"deleted {deleted} trace(s)")


def _summary(trace: Any) -> dict[str, Any]:
    """One row of ``traces search``."""
    info = trace.info
    return {
        "trace_id": info.trace_id,
        "name": info.name,
        "state": info.state,
        "request_time": info.request_time,
        "duration_ms": info.execution_duration,
        "spans": len(trace.data.spans),
        "tokens": info.total_tokens,
        "cost": info.cost,
        "tags": ",".join(f"{k}={v}" for k, v in info.tags.items()),
    }
