"""``spyglass traces search|get|delete``: traces from the command line."""

from __future__ import annotations

from typing import Any

import click

from spyglass.cli import connection
from spyglass.cli.options import collector_option, experiments_option, format_option
from spyglass.cli.output import Column, render

TRACE_COLUMNS = (
    Column("trace_id", "id"),
    Column("experiment"),
    Column("name"),
    Column("state", "status"),
    Column("request_time", "time", "started"),
    Column("duration_ms", "duration", "duration"),
    Column("spans", "count"),
    Column("tokens", "tokens"),
    Column("cost", "cost"),
    Column("request", "preview"),
    Column("response", "preview"),
    Column("tags", "mapping"),
)
"""The columns of ``traces search``."""


@click.group("traces")
def group() -> None:
    """Search, show and delete traces."""


@group.command("search")
@collector_option
@experiments_option("experiment name or id (repeatable; default: every experiment)")
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
    """List traces matching a filter, newest first, from every experiment unless -e names
    some; the experiment column says where each one is."""
    session = connection.connect(collector)
    from spyglass.search import search_traces

    names = {e.experiment_id: e.name for e in session.search_experiments()}
    found = search_traces(
        connection.experiment_ids(session, experiments) or sorted(names, key=int),
        filter_string,
        list(order_by) or None,
        max_results=limit,
        return_type="list",
    )
    click.echo(render([_summary(t, names) for t in found], fmt, TRACE_COLUMNS))


@group.command("get")
@collector_option
@click.argument("trace_id")
@format_option("table", "json")
def traces_get(collector: str | None, trace_id: str, fmt: str) -> None:
    """Show one trace: its span tree with each span's type, duration, status and tokens, and
    inputs and outputs underneath; --format json gives the whole trace (info, spans,
    assessments) as the API returns it."""
    import dataclasses
    import json

    session = connection.connect(collector)
    from spyglass.annotations import get_trace

    trace = get_trace(trace_id)
    if fmt == "json":
        click.echo(json.dumps(dataclasses.asdict(trace), indent=2, default=str))
        return
    from spyglass.cli.trace_tree import draw_trace

    experiment = next(
        (
            e.name
            for e in session.search_experiments()
            if e.experiment_id == trace.info.experiment_id
        ),
        None,
    )
    click.echo(draw_trace(trace, experiment))


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


def _summary(trace: Any, experiments: dict[str, str]) -> dict[str, Any]:
    """One row of ``traces search`` (``experiments``: id -> name)."""
    info = trace.info
    return {
        "trace_id": info.trace_id,
        "experiment": experiments.get(info.experiment_id, info.experiment_id),
        "name": info.name,
        "state": info.state,
        "request_time": info.request_time,
        "duration_ms": info.execution_duration,
        "spans": len(trace.data.spans),
        "tokens": info.total_tokens,
        "cost": info.cost,
        "request": _preview(info.request_preview),
        "response": _preview(info.response_preview),
        "tags": dict(info.tags),
    }


def _preview(text: str | None) -> str | None:
    """A request or response preview as people read it: a preview that is a JSON string
    (the usual case for text) unquoted, anything else (an object, a cut-off value) as it
    is."""
    import json

    if not text:
        return text
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, str) else text
