"""``spyglass eval list|show|compare``: stored evaluation runs; ``spyglass eval
submit|status|jobs|cancel``: jobs of the evaluator service."""

from __future__ import annotations

import dataclasses
import json
import time
from typing import Any

import click

from spyglass.cli import connection
from spyglass.cli.describe import (
    JOB_COLUMNS,
    RUN_COLUMNS,
    describe_job,
    describe_run,
    job_summary,
    record_columns,
    record_rows,
    run_summary,
)
from spyglass.cli.options import collector_option, experiments_option, format_option
from spyglass.cli.output import Column, data_value, render, short


@click.group("eval")
def group() -> None:
    """List, show and compare evaluation runs; submit and follow evaluation jobs."""


# -- runs ------------------------------------------------------------------------------------


@group.command("list")
@collector_option
@experiments_option("experiment name or id (repeatable; default: every experiment)")
@click.option("--model-id", default=None, help="only runs of this model id")
@click.option("--dataset-id", default=None, help="only runs over this dataset")
@click.option(
    "--status",
    type=click.Choice(["RUNNING", "FINISHED", "FAILED"], case_sensitive=False),
    default=None,
)
@click.option("--limit", type=int, default=25, show_default=True)
@format_option()
def eval_list(
    collector: str | None,
    experiments: tuple[str, ...],
    model_id: str | None,
    dataset_id: str | None,
    status: str | None,
    limit: int,
    fmt: str,
) -> None:
    """Evaluation runs, newest first, with their mean scores."""
    from spyglass.evaluator.runs import search_evaluation_runs

    session = connection.connect(collector)
    found = search_evaluation_runs(
        connection.experiment_ids(session, experiments),
        model_id=model_id,
        dataset_id=dataset_id,
        status=status,
        max_results=limit,
    )
    click.echo(render([run_summary(r) for r in found], fmt, RUN_COLUMNS))


@group.command("show")
@collector_option
@click.argument("run")
@click.option(
    "--records/--no-records",
    default=True,
    show_default=True,
    help="also list every record with its scores",
)
@format_option()
def eval_show(collector: str | None, run: str, records: bool, fmt: str) -> None:
    """One run (RUN: its id, the short id `eval list` prints, or its name): its settings,
    metrics and judge usage, then its records' scores."""
    from spyglass.cli.lookup import find_run
    from spyglass.evaluator.runs import get_evaluation_results

    connection.connect(collector)
    found = find_run(run)
    results = get_evaluation_results(found.run_id) if records else []
    if fmt == "json":
        shown = {
            "run": dataclasses.asdict(found),
            "records": [dataclasses.asdict(r) for r in results],
        }
        click.echo(json.dumps(data_value(shown), indent=2, default=str))
        return
    rows = record_rows(results)
    if fmt == "csv":
        click.echo(render(rows, "csv", record_columns(rows)))
        return
    click.echo(describe_run(found))
    if rows:
        click.echo("")
        click.echo(render(rows, "table", record_columns(rows)))


@group.command("compare")
@collector_option
@click.argument("run_a")
@click.argument("run_b")
@format_option()
def eval_compare(collector: str | None, run_a: str, run_b: str, fmt: str) -> None:
    """What changed from RUN_A to RUN_B (each: an id, the short id `eval list` prints, or a
    name): metric deltas and the records whose scores moved."""
    from spyglass.cli.lookup import find_run
    from spyglass.evaluator.compare import compare_runs

    connection.connect(collector)
    comparison = compare_runs(find_run(run_a).run_id, find_run(run_b).run_id)
    changed = [
        {
            "record": r.dataset_record_id or r.input_hash[:12],
            "inputs": r.inputs if fmt == "json" else short(r.inputs),
            "score": r.score_name,
            "a": r.score_a,
            "b": r.score_b,
            "delta": r.delta,
            "value_a": r.value_a if fmt == "json" else short(r.value_a),
            "value_b": r.value_b if fmt == "json" else short(r.value_b),
        }
        for r in comparison.changed.itertuples(index=False)
    ]
    if fmt == "table":
        click.echo(str(comparison))
        if changed:
            click.echo("")
            click.echo(render(changed, "table", CHANGED_COLUMNS))
        return
    metrics = [
        {"metric": m.metric, "a": m.run_a, "b": m.run_b, "delta": m.delta}
        for m in comparison.metrics.itertuples(index=False)
    ]
    if fmt == "json":
        shown = {
            "run_a": comparison.run_a.run_id,
            "run_b": comparison.run_b.run_id,
            "metrics": metrics,
            "changed": changed,
        }
        click.echo(json.dumps(data_value(shown), indent=2, default=str))
    else:
        click.echo(render(changed, "csv", CHANGED_COLUMNS))


CHANGED_COLUMNS = (
    Column("record", "id"),
    Column("inputs", "preview"),
    Column("score"),
    Column("a", "number"),
    Column("b", "number"),
    Column("delta", "number"),
    Column("value_a", "preview"),
    Column("value_b", "preview"),
)
"""The records whose scores moved, as ``eval compare`` lists them."""


# -- jobs ------------------------------------------------------------------------------------


@group.command("submit")
@collector_option
@click.option("--dataset", default=None, help="score this dataset's records (name or id)")
@click.option(
    "--dataset-version",
    type=int,
    default=None,
    help="score this version of the dataset (default: the current one)",
)
@click.option(
    "--experiment",
    "-e",
    default=None,
    help="score this experiment's traces (name or id; with only --filter: the "
    'default experiment "0"); with --dataset: the experiment the run goes '
    "to",
)
@click.option("--filter", default=None, help="only traces matching, e.g. \"tags.env = 'prod'\"")
@click.option(
    "--since",
    default=None,
    help="only traces started at or after this time: ISO "
    "8601, ms since the epoch, or an age like 24h, 7d",
)
@click.option("--until", default=None, help="only traces started before this time")
@click.option("--max-traces", type=int, default=None, help="at most this many, newest first")
@click.option(
    "--expectations-dataset",
    default=None,
    help="give traces the expectations of this dataset's record with the same inputs",
)
@click.option(
    "--scorer",
    "scorers",
    multiple=True,
    help="repeatable: a built-in type (ExactMatch), an import path "
    "(mypkg.scorers:my_scorer), a registered name, or a JSON object "
    '\'{"type": "Guidelines", "name": "polite", "guidelines": "..."}\'',
)
@click.option(
    "--spec",
    "spec_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="JSON or TOML file with these settings as keys (name, dataset, "
    "dataset_version, experiment, filter, since, until, max_traces, "
    "expectations_dataset, scorers, build_dataset, chunk_size); flags win",
)
@click.option("--name", default=None, help="a name for the job")
@click.option(
    "--build-dataset",
    default=None,
    help="also merge the scored traces and their expectations into this dataset",
)
@click.option("--chunk-size", type=int, default=None, help="rows per unit of work (default 100)")
@click.option(
    "--wait",
    is_flag=True,
    help="follow the job until it ends; exit status 1 unless it FINISHED with no row errors, "
    "or when no evaluator is running to take it",
)
@format_option("table", "json")
def eval_submit(
    collector: str | None, spec_path: str | None, wait: bool, fmt: str, **flags: Any
) -> None:
    """Submit a job: score a dataset's records, or an experiment's traces, with scorers."""
    from spyglass.evaluator.jobs.specs import JOB_KEYS, merge, read_spec
    from spyglass.evaluator.jobs.submit import submit_job

    spec = read_spec(spec_path, JOB_KEYS, "job spec") if spec_path else {}
    arguments = merge(spec, flags)
    if not arguments.get("scorers"):
        raise click.UsageError('give at least one --scorer (or "scorers" in --spec)')
    connection.connect(collector)
    job = submit_job(**arguments)
    if wait:
        click.echo(
            f"submitted job {job.job_id}: {job.total_rows} rows in {job.chunks_total} "
            f"chunks, results in run {job.run_id}",
            err=True,
        )
        job = _follow(job.job_id, 1.0)
    _show_job(job, fmt)
    if wait:
        _exit_unless_clean(job)


@group.command("status")
@collector_option
@click.argument("job_id")
@click.option(
    "--watch",
    is_flag=True,
    help="follow the job until it ends; exit status 1 unless it FINISHED with no row errors, "
    "or when no evaluator is running to take it",
)
@click.option(
    "--interval",
    type=float,
    default=2.0,
    show_default=True,
    help="seconds between checks with --watch",
)
@format_option("table", "json")
def eval_status(collector: str | None, job_id: str, watch: bool, interval: float, fmt: str) -> None:
    """A job's progress: rows, chunks, errors by scorer, ETA, its run."""
    from spyglass.evaluator.jobs.submit import get_job

    connection.connect(collector)
    job = _follow(job_id, interval) if watch else get_job(job_id)
    _show_job(job, fmt)
    if watch:
        _exit_unless_clean(job)


@group.command("jobs")
@collector_option
@click.option(
    "--status",
    type=click.Choice(
        ["PENDING", "RUNNING", "FINISHED", "FAILED", "CANCELLED"], case_sensitive=False
    ),
    default=None,
)
@click.option("--all", "include_monitors", is_flag=True, help="monitors' jobs too")
@click.option("--limit", type=int, default=25, show_default=True)
@format_option()
def eval_jobs(
    collector: str | None, status: str | None, include_monitors: bool, limit: int, fmt: str
) -> None:
    """Jobs, newest first, with their progress."""
    from spyglass.evaluator.jobs.submit import list_jobs

    connection.connect(collector)
    found = list_jobs(status=status, include_monitors=include_monitors, max_results=limit)
    click.echo(render([job_summary(j) for j in found], fmt, JOB_COLUMNS))


@group.command("cancel")
@collector_option
@click.argument("job_id")
def eval_cancel(collector: str | None, job_id: str) -> None:
    """Stop a job: no more rows are scored; those scored stay in its run."""
    from spyglass.evaluator.jobs.submit import cancel_job, progress_text

    connection.connect(collector)
    job = cancel_job(job_id)
    click.echo(f"job {job.job_id} is {job.status}: {progress_text(job)}")


NO_WORKER_GRACE_SECONDS = 20.0
"""How long ``--wait``/``--watch`` wait for an evaluator worker to appear before giving up
(a worker started at the same moment needs a few seconds to send its first heartbeat)."""


def _follow(job_id: str, interval: float) -> Any:
    """Wait for the job to end, printing a progress line to stderr whenever it changes, and
    saying at once when no evaluator is running (an error once none came for
    :data:`NO_WORKER_GRACE_SECONDS`)."""
    from spyglass.evaluator.jobs.submit import no_evaluator_text, progress_text, wait_for_job

    started = time.monotonic()
    last: list[str] = []
    told: list[bool] = []  # said that no evaluator is running (until one appears)

    def report(job: Any) -> None:
        alone = not job.is_done and not job.live_workers
        if alone and not told:
            told.append(True)
            click.echo(
                f"{no_evaluator_text(job)}; waiting {NO_WORKER_GRACE_SECONDS:g} s for one",
                err=True,
            )
        elif not alone:
            told.clear()
        line = f"{job.status} {progress_text(job)}"
        if not last or line != last[-1]:
            last.append(line)
            click.echo(f"[{time.monotonic() - started:5.0f}s] {line}", err=True)

    return wait_for_job(
        job_id, poll=interval, on_progress=report, worker_grace=NO_WORKER_GRACE_SECONDS
    )


def _exit_unless_clean(job: Any) -> None:
    """Exit status 1, saying why on stderr, unless the job FINISHED with no row errors."""
    if job.status != "FINISHED":
        click.echo(f"error: job {job.job_id} is {job.status}", err=True)
        raise click.exceptions.Exit(1)
    if job.rows_with_errors:
        click.echo(
            f"error: {job.rows_with_errors} of {job.rows_done} row(s) of job {job.job_id} had "
            "score errors (errors by scorer above)",
            err=True,
        )
        raise click.exceptions.Exit(1)


def _show_job(job: Any, fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps(dataclasses.asdict(job), indent=2, default=str))
    else:
        click.echo(describe_job(job))
