"""The ``spyglass`` command.

Collector flags are generated from :class:`~spyglass.config.CollectorSettings`, so every
setting has exactly one flag and one ``SPYGLASS_*`` variable, and they cannot drift apart.
Components are imported inside the commands: ``spyglass --version`` stays instant.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from typing import Any

import click

from spyglass import __version__
from spyglass.cli_options import settings_from_options, settings_options
from spyglass.config import CollectorSettings
from spyglass.errors import SpyglassError
from spyglass.settings_file import CONFIG_ENV

# flag spelling where it is not simply --field-name (bool fields get --name/--no-name)
_FLAG_NAMES = {"api_keys": "--api-key"}
_MULTIPLE = {"api_keys", "redact"}

_collector_options = settings_options(CollectorSettings, _FLAG_NAMES, _MULTIPLE)


def _settings(options: dict[str, Any]) -> CollectorSettings:
    return settings_from_options(CollectorSettings, options, _MULTIPLE)


def _setup_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="spyglass")
@click.option("--config", "config_file", metavar="PATH", default=None,
              help="settings file with [collector] and [evaluator] tables (see "
                   f"deploy/spyglass.example.toml) [env {CONFIG_ENV}]; flags and SPYGLASS_* "
                   "variables win over it")
def cli(config_file: str | None) -> None:
    """Spyglass: OpenTelemetry-native tracing and evaluation for LLM applications."""
    if config_file is not None:
        # the environment carries it to every settings lookup of this process
        os.environ[CONFIG_ENV] = config_file


@cli.group()
def collector() -> None:
    """Run the OTLP collector and query API."""


@collector.command("start")
@_collector_options
def collector_start(**options: Any) -> None:
    """Receive OTLP on gRPC and HTTP and store spans (Ctrl-C or SIGTERM drains and stops)."""
    from spyglass.collector.server import Collector

    settings = _settings(options)
    _setup_logging(settings.log_level)
    asyncio.run(Collector(settings).serve())


@cli.group()
def db() -> None:
    """Manage the trace store's schema."""


@db.command("upgrade")
@click.option("--store", default=None, help="database URL [env SPYGLASS_STORE]")
def db_upgrade(store: str | None) -> None:
    """Apply pending migrations (safe to run from several replicas at once)."""
    from spyglass.collector.store import migrate
    from spyglass.collector.store.engine import create_store_engine

    settings = CollectorSettings.load(store=store)
    engine = create_store_engine(settings.store)
    migrate.upgrade(engine)
    click.echo(f"{engine.url.render_as_string(hide_password=True)} is at revision "
               f"{migrate.current_revision(engine)}")


_collector_option = click.option(
    "--collector", default=None,
    help="host:port of a collector's gRPC port [env SPYGLASS_COLLECTOR; default: embedded, "
         "over SPYGLASS_STORE or ./spyglass.db]")
_experiment_option = click.option(
    "--experiment", "-e", "experiments", multiple=True,
    help="experiment name or id (repeatable; default: the default experiment)")


def _connect(collector_address: str | None) -> Any:
    from spyglass import session

    session.configure(collector=collector_address)
    return session


def _experiment_ids(session: Any, names: tuple[str, ...]) -> list[str] | None:
    ids = []
    for name in names:
        experiment = session.get_experiment_by_name(name)
        if experiment is None and not name.isdigit():
            raise click.BadParameter(f"no experiment named {name!r}", param_hint="--experiment")
        ids.append(experiment.experiment_id if experiment else name)
    return ids or None


@cli.group()
def traces() -> None:
    """Search, show and delete traces."""


@traces.command("search")
@_collector_option
@_experiment_option
@click.option("--filter", "filter_string", default=None, help="e.g. \"tags.env = 'prod'\"")
@click.option("--order-by", multiple=True, help="e.g. 'attributes.timestamp_ms DESC'")
@click.option("--limit", type=int, default=25, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table")
def traces_search(collector: str | None, experiments: tuple[str, ...],
                  filter_string: str | None, order_by: tuple[str, ...], limit: int,
                  fmt: str) -> None:
    """List traces matching a filter, newest first."""
    session = _connect(collector)
    from spyglass.search import search_traces

    found = search_traces(_experiment_ids(session, experiments), filter_string,
                          list(order_by) or None, max_results=limit, return_type="list")
    rows = [_trace_summary(t) for t in found]
    click.echo(_render(rows, fmt))


@traces.command("get")
@_collector_option
@click.argument("trace_id")
def traces_get(collector: str | None, trace_id: str) -> None:
    """Show one trace as JSON: its info, spans and assessments."""
    import dataclasses
    import json

    _connect(collector)
    from spyglass.annotations import get_trace

    click.echo(json.dumps(dataclasses.asdict(get_trace(trace_id)), indent=2, default=str))


@traces.command("delete")
@_collector_option
@click.argument("trace_ids", nargs=-1)
@click.option("--experiment", "experiment", default=None, help="with --older-than-days")
@click.option("--older-than-days", type=float, default=None)
def traces_delete(collector: str | None, trace_ids: tuple[str, ...], experiment: str | None,
                  older_than_days: float | None) -> None:
    """Delete traces by id, or an experiment's traces older than N days."""
    import time

    session = _connect(collector)
    from spyglass.annotations import delete_traces

    if not trace_ids and (experiment is None or older_than_days is None):
        raise click.UsageError("give trace ids, or --experiment with --older-than-days")
    max_ts = None
    if older_than_days is not None:
        max_ts = int((time.time() - older_than_days * 86400) * 1000)
    experiment_id = (_experiment_ids(session, (experiment,)) or [None])[0] if experiment else None
    deleted = delete_traces(experiment_id, max_ts, trace_ids=list(trace_ids) or None)
    click.echo(f"deleted {deleted} trace(s)")


@cli.group()
def experiments() -> None:
    """List experiments."""


@experiments.command("list")
@_collector_option
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table")
def experiments_list(collector: str | None, fmt: str) -> None:
    """Every experiment with its id."""
    session = _connect(collector)
    rows = [{"experiment_id": e.experiment_id, "name": e.name,
             "retention_days": e.retention_days} for e in session.search_experiments()]
    click.echo(_render(rows, fmt))


def _trace_summary(trace: Any) -> dict[str, Any]:
    info = trace.info
    return {"trace_id": info.trace_id, "name": info.name, "state": info.state,
            "request_time": info.request_time, "duration_ms": info.execution_duration,
            "spans": len(trace.data.spans), "tokens": info.total_tokens, "cost": info.cost,
            "tags": ",".join(f"{k}={v}" for k, v in info.tags.items())}


def _render(rows: list[dict[str, Any]], fmt: str) -> str:
    import csv
    import io
    import json

    if fmt == "json":
        return json.dumps(rows, indent=2, default=str)
    if fmt == "csv":
        out = io.StringIO()
        if rows:
            writer = csv.DictWriter(out, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        return out.getvalue().rstrip("\n")
    if not rows:
        return "(none)"
    cols = list(rows[0])
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in cols}
    lines = ["  ".join(c.ljust(widths[c]) for c in cols)]
    lines += ["  ".join(str(r[c]).ljust(widths[c]) for c in cols) for r in rows]
    return "\n".join(lines)


def _register_components() -> None:
    """Command groups that live beside their component (imported here: they are light)."""
    from spyglass.evaluator.cli import eval_group
    from spyglass.evaluator.datasets.cli import datasets
    from spyglass.evaluator.worker.cli import evaluator
    from spyglass.evaluator.jobs.monitor_cli import monitors

    cli.add_command(eval_group)
    cli.add_command(datasets)
    cli.add_command(evaluator)
    cli.add_command(monitors)


_register_components()


def main() -> None:
    """Console entry point: typed errors become one readable line and exit status 1."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        sys.exit(130)
    except SpyglassError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
