"""``evaluate()``, the harness: run an app over records, score every row, store the run.

Steps: check the arguments (typed errors before anything is stored), create a RUNNING run
through the collector API, evaluate the rows concurrently (:mod:`.execution`) while their
scores are written back in batches (:mod:`.writeback`), then compute the metrics and finish
the run with them and with what the judges spent (tokens per model; the collector prices
them). Scorer failures are per-row errors, never exceptions — and so is a scorer call that
overruns its time limit (:mod:`.deadlines`); each scorer that failed on rows gives one
:class:`~.results.ScorerErrorsWarning` naming it, the rows and its first error (a Python
warning, so it shows in notebooks and scripts alike and can be filtered or turned into an
error); an interrupted evaluation marks its run FAILED.
"""

from __future__ import annotations

import inspect
import logging
import os
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from spyglass import session
from spyglass.client import SpyglassClient
from spyglass.errors import InvalidArgumentError
from spyglass.evaluator import runs
from spyglass.evaluator.data import Record, normalize
from spyglass.evaluator.deadlines import TimeLimits
from spyglass.evaluator.execution import RowOutcome, fetch_in_batches, progress, run_rows
from spyglass.evaluator.predict import Predictor
from spyglass.evaluator.results import (
    TABLE,
    EvaluationResult,
    ScorerErrorsWarning,
    build_table,
    check_aggregations,
    compute_metrics,
    scorer_error_messages,
)
from spyglass.evaluator.scorers import Scorer
from spyglass.evaluator.scorers.base import check_time_limit
from spyglass.evaluator.writeback import ResultWriter, run_sender
from spyglass.gc_pause import heap_frozen

logger = logging.getLogger("spyglass.evaluator")

DEFAULT_MAX_WORKERS = 16
MAX_WORKERS_ENV = "SPYGLASS_EVAL_MAX_WORKERS"


def evaluate(
    data: Any,
    scorers: Sequence[Scorer],
    predict_fn: Callable[..., Any] | None = None,
    model_id: str | None = None,
    run_name: str | None = None,
    max_workers: int | None = None,
    aggregations: Sequence[str] | None = None,
    scorer_time_limit: float | None = None,
) -> EvaluationResult:
    """Evaluate ``data`` with ``scorers`` and store the run.

    ``data``: a Dataset, a DataFrame, a list of dicts (``inputs``, ``expectations``,
    optional ``outputs``, ``trace_id``) or a list of Trace. With ``predict_fn`` (sync or
    async), each row calls ``predict_fn(**inputs)`` inside its own root span, so each row
    has one trace, which gets the row's feedback (and its expectations). Without it, the
    rows' ``outputs`` (or their traces' outputs) are scored, on the row's trace when it has
    one. Rows run ``max_workers`` at a time (default 16, or ``SPYGLASS_EVAL_MAX_WORKERS``).
    ``aggregations`` adds ``"<scorer>/<agg>"`` metrics for every scorer (min, max, mean,
    median, p90, std, count, error_count). ``scorer_time_limit``: seconds one scorer call may
    take on one row, for scorers without their own ``time_limit`` (default 300 for LLM judges
    and other scorers that call a model, 60 for code scorers); a call that overruns it is
    that row's error for the scorer, and is abandoned (it keeps a thread busy until it
    returns, never the evaluation or the process's exit).
    """
    scorers = _check_scorers(scorers)
    extra = check_aggregations(aggregations)
    limits = _time_limits(scorer_time_limit)
    workers = _max_workers(max_workers)
    _check_predict_fn_and_model_id(predict_fn, model_id)
    records, dataset = normalize(data)
    if predict_fn is not None:
        _check_signature(predict_fn, records)
    client = session.client()
    run = runs.create_run(
        client,
        experiment_id=session.active_experiment_id(),
        name=run_name or _default_name(model_id),
        model_id=model_id,
        dataset=dataset,
        scorers=scorers,
    )
    outcomes, write_error = _run(client, run.run_id, records, scorers, predict_fn, workers, limits)
    metrics = compute_metrics(scorers, outcomes, extra)
    for message in scorer_error_messages(scorers, outcomes):
        warnings.warn(message, ScorerErrorsWarning, stacklevel=2)
    runs.finish_run(
        client,
        run.run_id,
        status="FAILED" if write_error else "FINISHED",
        metrics=metrics,
        judge_usage=judge_usage(outcomes),
        error_message=write_error,
    )
    return EvaluationResult(run.run_id, metrics, {TABLE: build_table(scorers, outcomes)})


def _run(
    client: SpyglassClient,
    run_id: str,
    records: list[Record],
    scorers: list[Scorer],
    predict_fn: Callable[..., Any] | None,
    workers: int,
    limits: TimeLimits,
) -> tuple[list[RowOutcome], str | None]:
    """The rows evaluated and written back, and why write-back failed (None when it did
    not); the run is marked FAILED if the evaluation itself breaks off."""
    predictor = Predictor(predict_fn, run_id)
    writer = ResultWriter(run_sender(client, run_id), f"run {run_id}")
    bar = progress(len(records))

    def done(outcome: RowOutcome) -> None:
        writer.add(outcome)
        bar.update(1)

    def fetch(trace_ids: list[str]) -> dict[str, Any]:
        session.run_before_read()  # the rows' spans reach the collector first
        return fetch_in_batches(client.batch_get_traces, trace_ids)

    try:
        with heap_frozen():  # no full-heap scans stalling every row in flight
            outcomes = run_rows(
                _with_traces(records, scorers, fetch),
                scorers,
                predictor,
                workers,
                fetch,
                done,
                limits,
            )
    except BaseException as exc:
        writer.close()
        _fail(client, run_id, exc)
        raise
    finally:
        bar.close()
        predictor.close()
    writer.close()
    if writer.error is None:
        return outcomes, None
    logger.warning(
        "evaluation run %s: some rows could not be written back (%s); the "
        "returned results are complete, the stored run is not (marked FAILED)",
        run_id,
        writer.error,
    )
    return outcomes, f"write-back failed: {writer.error}"[:2000]


def _with_traces(
    records: list[Record], scorers: list[Scorer], fetch: Callable[[list[str]], dict[str, Any]]
) -> list[Record]:
    """Records that name a trace get it, when a scorer reads ``trace``."""
    if not any(s.needs_trace for s in scorers):
        return records
    wanted = sorted({r.trace_id for r in records if r.trace is None and r.trace_id})
    if wanted:
        traces = fetch(wanted)
        for record in records:
            if record.trace is None and record.trace_id:
                record.trace = traces.get(record.trace_id)
    for record in records:  # scored without predict_fn: the trace's outputs stand in
        if record.trace is not None and not record.has_outputs:
            root = record.trace.data.root_span
            record.outputs = root.outputs if root is not None else None
    return records


def judge_usage(outcomes: Sequence[RowOutcome]) -> dict[str, tuple[int, int]]:
    """Judge tokens per model over every score: model → (input tokens, output tokens)."""
    usage: dict[str, tuple[int, int]] = {}
    for outcome in outcomes:
        for result in outcome.scores:
            if not result.usage:
                continue
            model = str(result.usage.get("model") or result.source_id or "unknown")
            spent_in, spent_out = usage.get(model, (0, 0))
            usage[model] = (
                spent_in + int(result.usage.get("input_tokens") or 0),
                spent_out + int(result.usage.get("output_tokens") or 0),
            )
    return usage


def _fail(client: SpyglassClient, run_id: str, exc: BaseException) -> None:
    try:
        runs.finish_run(
            client,
            run_id,
            status="FAILED",
            metrics={},
            judge_usage={},
            error_message=f"{type(exc).__name__}: {exc}"[:2000],
        )
    except Exception as finish_error:  # the original error matters more
        logger.warning("could not mark evaluation run %s FAILED: %s", run_id, finish_error)


# -- checking arguments ----------------------------------------------------------------------


def _check_scorers(scorers: Any) -> list[Scorer]:
    if isinstance(scorers, Scorer):
        scorers = [scorers]
    if not isinstance(scorers, (list, tuple)) or not scorers:
        raise InvalidArgumentError(
            "scorers must be a non-empty list of scorers, e.g. scorers=[Correctness(), my_scorer]"
        )
    for i, item in enumerate(scorers):
        if not isinstance(item, Scorer):
            hint = (
                "; decorate the function with @scorer"
                if callable(item)
                else "; pass an instance, e.g. Correctness() rather than Correctness"
                if isinstance(item, type)
                else ""
            )
            raise InvalidArgumentError(f"scorers[{i}] is {item!r}, not a Scorer{hint}")
    names = [s.name for s in scorers]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise InvalidArgumentError(
            f"two scorers are named {repeated[0]!r}; give them distinct "
            "names (name=...) so their columns and metrics differ"
        )
    return list(scorers)


def _time_limits(scorer_time_limit: Any) -> TimeLimits:
    seconds = check_time_limit(scorer_time_limit, "evaluate(scorer_time_limit=...)")
    return TimeLimits() if seconds is None else TimeLimits(code=seconds, judge=seconds)


def _max_workers(max_workers: int | None) -> int:
    if max_workers is None:
        text = os.environ.get(MAX_WORKERS_ENV, "").strip()
        if not text:
            return DEFAULT_MAX_WORKERS
        try:
            max_workers = int(text)
        except ValueError:
            raise InvalidArgumentError(
                f"{MAX_WORKERS_ENV}={text!r} is not a whole number; "
                "set it to the number of rows to run at once, e.g. "
                "16"
            ) from None
    if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
        raise InvalidArgumentError(
            f"max_workers must be a whole number of at least 1, got {max_workers!r}"
        )
    return max_workers


def _check_predict_fn_and_model_id(predict_fn: Any, model_id: Any) -> None:
    if predict_fn is not None and not callable(predict_fn):
        raise InvalidArgumentError(
            f"predict_fn must be a function called as "
            f"predict_fn(**inputs), not a {type(predict_fn).__name__}"
        )
    if model_id is not None and not isinstance(model_id, str):
        raise InvalidArgumentError(
            f"model_id must be a string such as 'my-app-v2', not {type(model_id).__name__}"
        )


def _check_signature(predict_fn: Callable[..., Any], records: list[Record]) -> None:
    """Every row's inputs must fit predict_fn's parameters (checked before anything runs)."""
    try:
        signature = inspect.signature(predict_fn)
    except (TypeError, ValueError):
        return  # a builtin or C function: the rows will tell
    for record in records:
        try:
            signature.bind(**record.inputs)
        except TypeError as exc:
            name = getattr(predict_fn, "__name__", "predict_fn")
            raise InvalidArgumentError(
                f"row {record.index}: predict_fn is called as {name}(**inputs) with inputs "
                f"keys {sorted(record.inputs)}, which does not fit {name}{signature}: {exc}; "
                "rename the inputs keys to its parameter names"
            ) from None


def _default_name(model_id: str | None) -> str:
    return f"{model_id or 'evaluation'}-{time.strftime('%Y%m%d-%H%M%S')}"
