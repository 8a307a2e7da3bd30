"""``spyglass monitors list|show|create|pause|resume|delete``: continuous evaluation of new
traces from the command line. Monitors are named by name or id."""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import click

from spyglass.cli import connection
from spyglass.cli.describe import MONITOR_COLUMNS, describe_monitor, monitor_summary
from spyglass.cli.options import collector_option, format_option
from spyglass.cli.output import render


@click.group("monitors")
def group() -> None:
    """Create, list, show, pause, resume and delete monitors (continuous evaluation)."""


@group.command("list")
@collector_option
@click.option("--experiment", "-e", default=None, help="only this experiment's (name or id)")
@format_option()
def monitors_list(collector: str | None, experiment: str | None, fmt: str) -> None:
    """Every monitor with its counters."""
    from spyglass.evaluator.jobs.monitors import list_monitors

    connection.connect(collector)
    rows = [monitor_summary(m) for m in list_monitors(experiment)]
    click.echo(render(rows, fmt, MONITOR_COLUMNS))


@group.command("show")
@collector_option
@click.argument("monitor")
@format_option("table", "json")
def monitors_show(collector: str | None, monitor: str, fmt: str) -> None:
    """A monitor (MONITOR: name or id): settings, counters, and per-score metrics over the
    last hour, day and week."""
    from spyglass.evaluator.jobs.monitors import get_monitor

    connection.connect(collector)
    found = get_monitor(monitor)
    if fmt == "json":
        click.echo(json.dumps(_without_nan(dataclasses.asdict(found)), indent=2, default=str))
    else:
        click.echo(describe_monitor(found))


@group.command("create")
@collector_option
@click.argument("name", required=False)
@click.option(
    "--experiment",
    "-e",
    default=None,
    help='the experiment whose new traces to score (name or id; default "0")',
)
@click.option("--filter", default=None, help="only traces matching, e.g. \"tags.env = 'prod'\"")
@click.option(
    "--sample-rate",
    type=float,
    default=None,
    help="share of matching traces to score, 0 < rate <= 1 (default 1)",
)
@click.option(
    "--quiet-period",
    "quiet_period_seconds",
    type=float,
    default=None,
    help="seconds without a new span before a trace counts as complete (default 30)",
)
@click.option(
    "--include-existing", is_flag=True, default=None, help="also score the traces already stored"
)
@click.option(
    "--scorer",
    "scorers",
    multiple=True,
    help="repeatable: a built-in type, an import path (mypkg.scorers:my_scorer), a "
    'registered name, or a JSON object \'{"type": "Safety"}\'',
)
@click.option(
    "--spec",
    "spec_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="JSON or TOML file with these settings as keys (name, experiment, filter, "
    "sample_rate, quiet_period_seconds, include_existing, scorers); flags win",
)
def monitors_create(collector: str | None, spec_path: str | None, **flags: Any) -> None:
    """Create monitor NAME: score new traces of an experiment as they complete."""
    from spyglass.evaluator.jobs.monitors import create_monitor
    from spyglass.evaluator.jobs.specs import MONITOR_KEYS, merge, read_spec

    spec = read_spec(spec_path, MONITOR_KEYS, "monitor spec") if spec_path else {}
    arguments = merge(spec, flags)
    if not arguments.get("name"):
        raise click.UsageError('give the monitor a NAME (or "name" in --spec)')
    if not arguments.get("scorers"):
        raise click.UsageError('give at least one --scorer (or "scorers" in --spec)')
    connection.connect(collector)
    created = create_monitor(arguments.pop("name"), **arguments)
    click.echo(
        f"created monitor {created.name!r} ({created.monitor_id}) on experiment "
        f"{created.experiment_id}: sample rate {created.sample_rate:g}, "
        f"{len(created.scorers)} scorer(s), results in run {created.run_id}"
    )


@group.command("pause")
@collector_option
@click.argument("monitor")
def monitors_pause(collector: str | None, monitor: str) -> None:
    """Stop scoring new traces (MONITOR: name or id); traces arriving meanwhile are looked at
    on resume."""
    _set_enabled(collector, monitor, False)


@group.command("resume")
@collector_option
@click.argument("monitor")
def monitors_resume(collector: str | None, monitor: str) -> None:
    """Score new traces again (MONITOR: name or id)."""
    _set_enabled(collector, monitor, True)


@group.command("delete")
@collector_option
@click.argument("monitor")
def monitors_delete(collector: str | None, monitor: str) -> None:
    """Delete a monitor (MONITOR: name or id); its feedback on traces and its run stay."""
    from spyglass.evaluator.jobs.monitors import delete_monitor, get_monitor

    connection.connect(collector)
    found = get_monitor(monitor)
    delete_monitor(found.monitor_id)
    click.echo(
        f"deleted monitor {found.name!r} ({found.monitor_id}); its run {found.run_id} "
        "and the feedback it wrote stay"
    )


def _set_enabled(collector: str | None, monitor: str, enabled: bool) -> None:
    from spyglass.evaluator.jobs.monitors import update_monitor

    connection.connect(collector)
    found = update_monitor(monitor, enabled=enabled)
    click.echo(f"monitor {found.name!r} is {'running' if found.enabled else 'paused'}")


def _without_nan(value: Any) -> Any:
    """NaN means "no score"; JSON has no NaN, so it becomes null."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _without_nan(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nan(v) for v in value]
    return value
