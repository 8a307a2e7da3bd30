"""``spyglass eval list|show|compare``: stored evaluation runs from the command line;
``spyglass eval submit|status|jobs|cancel``: jobs of the evaluator service.

Registered on the main ``spyglass`` command by ``spyglass/cli.py``; it reuses that module's
connection and table/json/csv rendering, imported when a command runs (``spyglass/cli.py``
imports this module, so importing it back at module level would be circular).
"""

from __future__ import annotations

import json
import math
import time
from typing import Any

import click


def _collector_option(func: Any) -> Any:
    return click.option(
        "--collector", default=None,
        help="host:port of a collector's gRPC port [env SPYGLASS_COLLECTOR; default: "
             "embedded, over SPYGLASS_STORE or ./spyglass.db]")(func)


def _format_option(func: Any) -> Any:
    return click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]),
                        default="table")(func)


@click.group("eval")
def eval_group() -> None:
    """List, show and compare evaluation runs; submit and follow evaluation jobs."""


@eval_group.command("list")
@_collector_option
@click.option("--experiment", "-e", "experiments", multiple=True,
              help="experiment name or id (repeatable; default: every experiment)")
@click.option("--model-id", default=None, help="only runs of this model id")
@click.option("--dataset-id", default=None, help="only runs over this dataset")
@click.option("--status", type=click.Choice(["RUNNING", "FINISHED", "FAILED"],
                                            case_sensitive=False), default=None)
@click.option("--limit", type=int, default=25, show_default=True)
@_format_option
def eval_list(collector: str | None, experiments: tuple[str, ...], model_id: str | None,
              dataset_id: str | None, status: str | None, limit: int, fmt: str) -> None:
    """Evaluation runs, newest first, with their mean scores."""
    from spyglass import cli as core
    from spyglass.evaluator.runs import search_evaluation_runs

    session = core._connect(collector)

    found = search_evaluation_runs(core._experiment_ids(session, experiments), model_id=model_id,
                                   dataset_id=dataset_id, status=status, max_results=limit)
    click.echo(core._render([_run_summary(r) for r in found], fmt))


@eval_group.command("show")
@_collector_option
@click.argument("run_id")
@click.option("--records/--no-records", default=True, show_default=True,
              help="also list every record with its scores")
@_format_option
def eval_show(collector: str | None, run_id: str, records: bool, fmt: str) -> None:
    """One run: its settings, metrics and judge usage, then its records' scores."""
    from spyglass import cli as core
    from spyglass.evaluator.runs import get_evaluation_results, get_evaluation_run

    core._connect(collector)
    run = get_evaluation_run(run_id)
    rows = _record_rows(get_evaluation_results(run_id)) if records else []
    if fmt == "json":
        import dataclasses

        click.echo(json.dumps({"run": dataclasses.asdict(run), "records": rows}, indent=2,
                              default=str))
        return
    if fmt == "csv":
        click.echo(core._render(rows, "csv"))
        return
    click.echo(_describe(run))
    if rows:
        click.echo("")
        click.echo(core._render(rows, "table"))


@eval_group.command("compare")
@_collector_option
@click.argument("run_a")
@click.argument("run_b")
@_format_option
def eval_compare(collector: str | None, run_a: str, run_b: str, fmt: str) -> None:
    """What changed from RUN_A to RUN_B: metric deltas and the records whose scores moved."""
    from spyglass import cli as core
    from spyglass.evaluator.compare import compare_runs

    core._connect(collector)

    comparison = compare_runs(run_a, run_b)
    changed = [{"record": r.dataset_record_id or r.input_hash[:12], "inputs": _short(r.inputs),
                "score": r.score_name, "a": _num(r.score_a), "b": _num(r.score_b),
                "delta": _num(r.delta), "value_a": _short(r.value_a),
                "value_b": _short(r.value_b)}
               for r in comparison.changed.itertuples(index=False)]
    if fmt == "table":
        click.echo(str(comparison))
        if changed:
            click.echo("")
            click.echo(core._render(changed, "table"))
        return
    metrics = [{"metric": m.metric, "a": m.run_a, "b": m.run_b, "delta": m.delta}
               for m in comparison.metrics.itertuples(index=False)]
    if fmt == "json":
        click.echo(json.dumps({"run_a": comparison.run_a.run_id,
                               "run_b": comparison.run_b.run_id, "metrics": metrics,
                               "changed": changed}, indent=2, default=str))
    else:
        click.echo(core._render(changed, "csv"))


@eval_group.command("submit")
@_collector_option
@click.option("--dataset", default=None, help="score this dataset's records (name or id)")
@click.option("--dataset-version", type=int, default=None,
              help="score this version of the dataset (default: the current one)")
@click.option("--experiment", "-e", default=None,
              help="score this experiment's traces (name or id; with only --filter: the "
                   "default experiment \"0\"); with --dataset: the experiment the run goes "
                   "to")
@click.option("--filter", default=None, help="only traces matching, e.g. \"tags.env = 'prod'\"")
@click.option("--since", default=None, help="only traces started at or after this time: ISO "
                                            "8601, ms since the epoch, or an age like 24h, 7d")
@click.option("--until", default=None, help="only traces started before this time")
@click.option("--max-traces", type=int, default=None, help="at most this many, newest first")
@click.option("--expectations-dataset", default=None,
              help="give traces the expectations of this dataset's record with the same inputs")
@click.option("--scorer", "scorers", multiple=True,
              help="repeatable: a built-in type (ExactMatch), an import path "
                   "(mypkg.scorers:my_scorer), a registered name, or a JSON object "
                   "'{\"type\": \"Guidelines\", \"name\": \"polite\", \"guidelines\": \"...\"}'")
@click.option("--spec", "spec_path", type=click.Path(dir_okay=False), default=None,
              help="JSON or TOML file with these settings as keys (name, dataset, "
                   "dataset_version, experiment, filter, since, until, max_traces, "
                   "expectations_dataset, scorers, build_dataset, chunk_size); flags win")
@click.option("--name", default=None, help="a name for the job")
@click.option("--build-dataset", default=None,
              help="also merge the scored traces and their expectations into this dataset")
@click.option("--chunk-size", type=int, default=None, help="rows per unit of work (default 100)")
@click.option("--wait", is_flag=True,
              help="follow the job until it ends; exit status 1 unless it FINISHED")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
def eval_submit(collector: str | None, spec_path: str | None, wait: bool, fmt: str,
                **flags: Any) -> None:
    """Submit a job: score a dataset's records, or an experiment's traces, with scorers."""
    from spyglass.evaluator.jobs.submit import submit_job
    from spyglass.evaluator.jobs.specs import JOB_KEYS, merge, read_spec

    spec = read_spec(spec_path, JOB_KEYS, "job spec") if spec_path else {}
    arguments = merge(spec, flags)
    if not arguments.get("scorers"):
        raise click.UsageError("give at least one --scorer (or \"scorers\" in --spec)")
    _connect(collector)
    job = submit_job(**arguments)
    if wait:
        click.echo(f"submitted job {job.job_id}: {job.total_rows} rows in {job.chunks_total} "
                   f"chunks, results in run {job.run_id}", err=True)
        job = _follow(job.job_id, 1.0)
    _show_job(job, fmt)
    if wait and job.status != "FINISHED":
        raise click.exceptions.Exit(1)


@eval_group.command("status")
@_collector_option
@click.argument("job_id")
@click.option("--watch", is_flag=True, help="follow the job until it ends")
@click.option("--interval", type=float, default=2.0, show_default=True,
              help="seconds between checks with --watch")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
def eval_status(collector: str | None, job_id: str, watch: bool, interval: float,
                fmt: str) -> None:
    """A job's progress: rows, chunks, errors by scorer, ETA, its run."""
    from spyglass.evaluator.jobs.submit import get_job

    _connect(collector)
    _show_job(_follow(job_id, interval) if watch else get_job(job_id), fmt)


@eval_group.command("jobs")
@_collector_option
@click.option("--status", type=click.Choice(["PENDING", "RUNNING", "FINISHED", "FAILED",
                                             "CANCELLED"], case_sensitive=False), default=None)
@click.option("--all", "include_monitors", is_flag=True, help="monitors' jobs too")
@click.option("--limit", type=int, default=25, show_default=True)
@_format_option
def eval_jobs(collector: str | None, status: str | None, include_monitors: bool, limit: int,
              fmt: str) -> None:
    """Jobs, newest first, with their progress."""
    from spyglass import cli as core
    from spyglass.evaluator.jobs.submit import list_jobs

    _connect(collector)
    found = list_jobs(status=status, include_monitors=include_monitors, max_results=limit)
    click.echo(core._render([_job_summary(j) for j in found], fmt))


@eval_group.command("cancel")
@_collector_option
@click.argument("job_id")
def eval_cancel(collector: str | None, job_id: str) -> None:
    """Stop a job: no more rows are scored; those scored stay in its run."""
    from spyglass.evaluator.jobs.submit import cancel_job, progress_text

    _connect(collector)
    job = cancel_job(job_id)
    click.echo(f"job {job.job_id} is {job.status}: {progress_text(job)}")


def _connect(collector: str | None) -> None:
    from spyglass import cli as core

    core._connect(collector)


def _follow(job_id: str, interval: float) -> Any:
    """Wait for the job to end, printing a progress line to stderr whenever it changes."""
    from spyglass.evaluator.jobs.submit import progress_text, wait_for_job

    started = time.monotonic()
    last: list[str] = []

    def report(job: Any) -> None:
        line = f"{job.status} {progress_text(job)}"
        if not last or line != last[-1]:
            last.append(line)
            click.echo(f"[{time.monotonic() - started:5.0f}s] {line}", err=True)

    return wait_for_job(job_id, poll=interval, on_progress=report)


def _show_job(job: Any, fmt: str) -> None:
    if fmt == "json":
        import dataclasses

        click.echo(json.dumps(dataclasses.asdict(job), indent=2, default=str))
    else:
        click.echo(describe_job(job))


def describe_job(job: Any) -> str:
    """A job as ``eval status`` prints it: settings, progress, errors by scorer."""
    from spyglass import cli as core
    from spyglass.evaluator.jobs.submit import duration_text

    rows = f"{job.rows_done}/{job.total_rows} ({100 * job.fraction_done:.1f}%)"
    lines = [f"job        {job.job_id}" + (f"  {job.name}" if job.name else ""),
             f"status     {job.status}"
             + (f" ({job.error_message})" if job.error_message else ""),
             f"input      {_job_input(job.input)}",
             "scorers    " + ", ".join(scorer_text(s) for s in job.scorers),
             f"rows       {rows}, {job.rows_with_errors} with errors",
             f"chunks     {job.chunks_done} done, {job.chunks_leased} leased, "
             f"{job.chunks_failed} failed, of {job.chunks_total} ({job.chunk_size} rows each)",
             "eta        " + ("-" if job.is_done or job.eta_seconds is None
                              else duration_text(job.eta_seconds)),
             f"run        {job.run_id}  (spyglass eval show {job.run_id})",
             f"experiment {job.experiment_id}"]
    if job.build_dataset:
        lines.append(f"dataset    scored traces merged into {job.build_dataset!r}")
    if job.monitor_id:
        lines.append(f"monitor    {job.monitor_id}")
    lines.append(f"times      submitted {_when(job.created_time_ms)}, started "
                 f"{_when(job.started_time_ms)}, ended {_when(job.finished_time_ms)}")
    if job.errors:
        lines += ["", "errors by scorer:",
                  core._render([{"scorer": e.name, "rows": e.count,
                                 "latest error": _short(e.last_error, 100)}
                                for e in job.errors], "table")]
    return "\n".join(lines)


def _job_summary(job: Any) -> dict[str, Any]:
    return {"job_id": job.job_id, "name": job.name, "status": job.status,
            "rows": f"{job.rows_done}/{job.total_rows}", "errors": job.rows_with_errors,
            "input": _short(_job_input(job.input), 50), "run_id": job.run_id,
            "submitted": _when(job.created_time_ms)}


def _job_input(job_input: dict[str, Any]) -> str:
    if "dataset" in job_input:
        version = job_input.get("version")
        return f"dataset {job_input['dataset']!r}" + (f" version {version}" if version else "")
    if not job_input:
        return "-"
    parts = [f"traces of experiment {job_input.get('experiment', '0')}"]
    if job_input.get("filter_string"):
        parts.append(f"matching {job_input['filter_string']}")
    if job_input.get("start_time_ms"):
        parts.append(f"since {_when(job_input['start_time_ms'])}")
    if job_input.get("end_time_ms"):
        parts.append(f"until {_when(job_input['end_time_ms'])}")
    if job_input.get("max_traces"):
        parts.append(f"at most {job_input['max_traces']}")
    if job_input.get("expectations_dataset"):
        parts.append(f"expectations from {job_input['expectations_dataset']!r}")
    return ", ".join(parts)


def scorer_text(spec: dict[str, Any]) -> str:
    """``{"type": "Guidelines", "name": "polite", ...}`` → ``Guidelines(name=polite, ...)``."""
    params = ", ".join(f"{k}={_short(v, 30)}" for k, v in spec.items() if k != "type")
    return f"{spec['type']}({params})" if params else spec["type"]


def _run_summary(run: Any) -> dict[str, Any]:
    scores = {k: v for k, v in run.metrics.items() if k.endswith("/score")}
    return {"run_id": run.run_id, "name": run.name, "model_id": run.model_id or "",
            "dataset": run.dataset_name or run.dataset_id or "", "status": run.status,
            "records": run.record_count, "started": _when(run.start_time_ms),
            "scores": " ".join(f"{k.removesuffix('/score')}={_num(v)}"
                               for k, v in scores.items())}


def _describe(run: Any) -> str:
    lines = [f"run        {run.run_id}", f"name       {run.name}",
             f"status     {run.status}" + (f" ({run.error_message})" if run.error_message else ""),
             f"model_id   {run.model_id or '-'}",
             f"dataset    {run.dataset_name or run.dataset_id or '-'}"
             + (f" (digest {run.dataset_digest}, version {run.dataset_version})"
                if run.dataset_id else ""),
             f"experiment {run.experiment_id}", f"records    {run.record_count}",
             f"started    {_when(run.start_time_ms)}", f"ended      {_when(run.end_time_ms)}",
             "scorers    " + ", ".join(f"{s['name']} ({s['source_type']}: {s['source_id']})"
                                       for s in run.scorers),
             f"judges     {_judges(run)}", "metrics"]
    lines += [f"  {k:<40} {_num(v)}" for k, v in run.metrics.items()]
    return "\n".join(lines)


def _record_rows(records: list[Any]) -> list[dict[str, Any]]:
    """One row per record: inputs, outputs, trace, and a column per score name."""
    names = list(dict.fromkeys(s.name for r in records for s in r.scores))
    rows = []
    for record in records:
        row = {"row": record.row_index, "inputs": _short(record.inputs),
               "outputs": _short(record.outputs), "trace_id": record.trace_id or ""}
        row.update(dict.fromkeys(names, ""))
        for score in record.scores:
            row[score.name] = (f"error: {_short(score.error.error_message, 40)}" if score.error
                               else _num(score.score) if score.score is not None
                               else _short(score.value))
        rows.append(row)
    return rows


def _when(ms: int | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ms / 1000)) if ms else "-"


def _num(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "nan"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _cost(value: float | None) -> str:
    return "unknown (no price for the judge model)" if value is None else f"${value:.6f}"


def _judges(run: Any) -> str:
    if not run.judge_input_tokens and not run.judge_output_tokens:
        return "-"
    return (f"{run.judge_input_tokens} input + {run.judge_output_tokens} output tokens, "
            f"cost {_cost(run.judge_cost)}")


def _short(value: Any, limit: int = 60) -> str:
    from spyglass.evaluator.compare import short

    return short(value, limit)
