"""Evaluation runs, jobs and monitors as the ``eval`` and ``monitors`` commands print them:
multi-line descriptions (``eval show``, ``eval status``, ``monitors show``) and one-row
summaries for their listings."""

from __future__ import annotations

from typing import Any

from spyglass.cli.lookup import short_id
from spyglass.cli.output import Column, num, render, short, when
from spyglass.quantities import countdown
from spyglass.score_labels import label_of, score_text
from spyglass.score_means import mean_text, score_means


def scorer_text(spec: dict[str, Any]) -> str:
    """``{"type": "Guidelines", "name": "polite", ...}`` → ``Guidelines(name=polite, ...)``."""
    params = ", ".join(f"{k}={short(v, 30)}" for k, v in spec.items() if k != "type")
    return f"{spec['type']}({params})" if params else str(spec["type"])


# -- evaluation runs -------------------------------------------------------------------------


def describe_run(run: Any) -> str:
    """A run as ``eval show`` prints it: settings, judge usage and metrics."""
    lines = [
        f"run        {run.run_id}",
        f"name       {run.name}",
        f"status     {run.status}" + (f" ({run.error_message})" if run.error_message else ""),
        f"model_id   {run.model_id or '-'}",
        f"dataset    {run.dataset_name or run.dataset_id or '-'}"
        + (
            f" (digest {run.dataset_digest}, version {run.dataset_version})"
            if run.dataset_id
            else ""
        ),
        f"experiment {run.experiment_id}",
        f"records    {run.record_count}",
        f"started    {when(run.start_time_ms)}",
        f"ended      {when(run.end_time_ms)}",
        "scorers    "
        + ", ".join(f"{s['name']} ({s['source_type']}: {s['source_id']})" for s in run.scorers),
        f"judges     {_judges(run)}",
        "metrics",
    ]
    means = {f"{m.name}/score": str(m) for m in score_means(run.metrics)}
    beside = {f"{k.removesuffix('/score')}/{n}" for k in means for n in ("count", "error_count")}
    lines += [
        f"  {k:<40} {means.get(k) or num(v)}" for k, v in run.metrics.items() if k not in beside
    ]
    return "\n".join(lines)


RUN_COLUMNS = (
    Column("run", "id", in_data=False),
    Column("run_id", in_table=False),
    Column("name"),
    Column("model_id"),
    Column("dataset"),
    Column("status", "status"),
    Column("records", "count"),
    Column("started", "time"),
    Column("scores", in_data=False),
    Column("metrics", "mapping", in_table=False),
)
"""The columns of ``eval list``: the table shows the short run id and the means with their
counts; JSON and CSV the full id and every metric as a number."""


def run_summary(run: Any) -> dict[str, Any]:
    """One row of ``eval list``: the run and its mean scores."""
    return {
        "run": short_id(run.run_id),
        "run_id": run.run_id,
        "name": run.name,
        "model_id": run.model_id or "",
        "dataset": run.dataset_name or run.dataset_id or "",
        "status": run.status,
        "records": run.record_count,
        "started": run.start_time_ms,
        "metrics": dict(run.metrics),
        "scores": "; ".join(f"{m.name}={m}" for m in score_means(run.metrics)),
    }


def record_rows(records: list[Any]) -> list[dict[str, Any]]:
    """One row per record: inputs, outputs, trace, and a column per score name."""
    names = list(dict.fromkeys(s.name for r in records for s in r.scores))
    rows = []
    for record in records:
        row = {
            "row": record.row_index,
            "inputs": short(record.inputs),
            "outputs": short(record.outputs),
            "trace_id": record.trace_id or "",
        }
        row.update(dict.fromkeys(names, ""))
        for score in record.scores:
            row[score.name] = (
                f"error: {short(score.error.error_message, 40)}"
                if score.error
                else score_text(score.score, score.metadata)  # 0.000 (no) for a verdict
                if score.score is not None and label_of(score.metadata)
                else score.score
                if score.score is not None
                else short(score.value)
            )
        rows.append(row)
    return rows


def record_columns(rows: list[dict[str, Any]]) -> list[Column]:
    """The columns of :func:`record_rows`: a number column per score name."""
    fixed = [
        Column("row", "count"),
        Column("inputs", "preview"),
        Column("outputs", "preview"),
        Column("trace_id", "id"),
    ]
    known = {c.key for c in fixed}
    return fixed + [Column(k, "number") for k in (rows[0] if rows else {}) if k not in known]


def _judges(run: Any) -> str:
    if not run.judge_input_tokens and not run.judge_output_tokens:
        return "-"
    return (
        f"{run.judge_input_tokens} input + {run.judge_output_tokens} output tokens, "
        f"cost {_cost(run.judge_cost)}"
    )


def _cost(value: float | None) -> str:
    return "unknown (no price for the judge model)" if value is None else f"${value:.6f}"


# -- evaluation jobs -------------------------------------------------------------------------


def describe_job(job: Any) -> str:
    """A job as ``eval status`` prints it: settings, progress, errors by scorer."""

    rows = f"{job.rows_done}/{job.total_rows} ({100 * job.fraction_done:.1f}%)"
    lines = [
        f"job        {job.job_id}" + (f"  {job.name}" if job.name else ""),
        f"status     {job.status}" + (f" ({job.error_message})" if job.error_message else ""),
        f"input      {_job_input(job.input)}",
        "scorers    " + ", ".join(scorer_text(s) for s in job.scorers),
        f"rows       {rows}, {job.rows_with_errors} with errors",
        f"chunks     {job.chunks_done} done, {job.chunks_leased} leased, "
        f"{job.chunks_failed} failed, of {job.chunks_total} ({job.chunk_size} rows each)",
        "eta        "
        + ("-" if job.is_done or job.eta_seconds is None else countdown(job.eta_seconds)),
        f"run        {job.run_id}  (spyglass eval show {job.run_id})",
        f"experiment {job.experiment_id}",
    ]
    if job.build_dataset:
        lines.append(f"dataset    scored traces merged into {job.build_dataset!r}")
    if job.monitor_id:
        lines.append(f"monitor    {job.monitor_id}")
    lines.append(
        f"times      submitted {when(job.created_time_ms)}, started "
        f"{when(job.started_time_ms)}, ended {when(job.finished_time_ms)}"
    )
    if job.errors:
        lines += [
            "",
            "errors by scorer:",
            render(
                [
                    {"scorer": e.name, "rows": e.count, "latest error": short(e.last_error, 100)}
                    for e in job.errors
                ],
                "table",
            ),
        ]
    return "\n".join(lines)


JOB_COLUMNS = (
    Column("job_id", "id"),
    Column("name"),
    Column("status", "status"),
    Column("rows", in_data=False),
    Column("rows_done", "count", in_table=False),
    Column("total_rows", "count", in_table=False),
    Column("errors", "count"),
    Column("input", "preview"),
    Column("run", "id", in_data=False),
    Column("run_id", in_table=False),
    Column("submitted", "time"),
)
"""The columns of ``eval jobs``."""


def job_summary(job: Any) -> dict[str, Any]:
    """One row of ``eval jobs``."""
    return {
        "job_id": job.job_id,
        "name": job.name,
        "status": job.status,
        "rows": f"{job.rows_done}/{job.total_rows}",
        "rows_done": job.rows_done,
        "total_rows": job.total_rows,
        "errors": job.rows_with_errors,
        "input": _job_input(job.input),
        "run": short_id(job.run_id),
        "run_id": job.run_id,
        "submitted": job.created_time_ms,
    }


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
        parts.append(f"since {when(job_input['start_time_ms'])}")
    if job_input.get("end_time_ms"):
        parts.append(f"until {when(job_input['end_time_ms'])}")
    if job_input.get("max_traces"):
        parts.append(f"at most {job_input['max_traces']}")
    if job_input.get("expectations_dataset"):
        parts.append(f"expectations from {job_input['expectations_dataset']!r}")
    return ", ".join(parts)


# -- monitors --------------------------------------------------------------------------------


def describe_monitor(monitor: Any) -> str:
    """A monitor as ``monitors show`` prints it, with one row per window and score."""
    lines = [
        f"monitor    {monitor.name}  ({monitor.monitor_id})",
        f"state      {_state(monitor)}",
        f"experiment {monitor.experiment_id}",
        f"filter     {monitor.filter_string or '(every trace)'}",
        f"sampling   {monitor.sample_rate:g} of matching traces, scored "
        f"{monitor.quiet_period_seconds:g} s after their last span",
        "scorers    " + ", ".join(scorer_text(s) for s in monitor.scorers),
        f"traces     {monitor.traces_seen} seen, {monitor.traces_sampled} sampled, "
        f"{monitor.traces_scored} scored",
        f"checked    {when(monitor.last_check_time_ms)}",
        f"created    {when(monitor.created_time_ms)}",
        f"job, run   {monitor.job_id}, {monitor.run_id}",
    ]
    rows = [
        {
            "window": w.window,
            "rows": w.rows,
            "score": s.name if s else "-",
            "mean": mean_text(s.mean, s.count, s.error_count) if s else "-",
        }
        for w in monitor.windows
        for s in (w.scores or [None])
    ]
    if rows:
        lines += ["", "metrics by window:", render(rows, "table")]
    return "\n".join(lines)


MONITOR_COLUMNS = (
    Column("name"),
    Column("monitor_id", "id"),
    Column("experiment_id"),
    Column("state", "status"),
    Column("sample_rate", "number"),
    Column("filter"),
    Column("seen", "count"),
    Column("sampled", "count"),
    Column("scored", "count"),
    Column("checked", "time"),
)
"""The columns of ``monitors list``."""


def monitor_summary(monitor: Any) -> dict[str, Any]:
    """One row of ``monitors list``."""
    return {
        "name": monitor.name,
        "monitor_id": monitor.monitor_id,
        "experiment_id": monitor.experiment_id,
        "state": _state(monitor),
        "sample_rate": monitor.sample_rate,
        "filter": monitor.filter_string or "",
        "seen": monitor.traces_seen,
        "sampled": monitor.traces_sampled,
        "scored": monitor.traces_scored,
        "checked": monitor.last_check_time_ms,
    }


def _state(monitor: Any) -> str:
    return "running" if monitor.enabled else "paused"
