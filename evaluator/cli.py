"""``spyglass eval list|show|compare``: stored evaluation runs from the command line.

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
    """List, show and compare evaluation runs."""


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
