"""Running the rows: predict, then every scorer of the row at once, many rows at a time.

A row's critical path is its predict step followed by its scorers *in parallel* (two judges
of one row wait for their models at the same time), so ``max_workers`` rows run in a pool
and each row hands its scorers to daemon threads that start as needed, so that no row ever
waits for a free scorer thread, and waits for each until its time limit
(:mod:`.deadlines`): a scorer that does not return in time is that row's error, and the row
goes on. When a scorer reads ``trace``, the rows' traces must be stored first: then every row
is predicted, spans are flushed, the traces are fetched in batches, and only then are the
rows scored.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

from spyglass.entities import Trace
from spyglass.evaluator.data import Record
from spyglass.evaluator.deadlines import RowScorer, TimedCall, TimeLimits
from spyglass.evaluator.predict import Prediction
from spyglass.evaluator.scorers.results import ScoreResult, error_result

TRACE_BATCH = 100
PREDICT_FAILED = "PredictError"


@dataclass
class RowOutcome:
    """One evaluated row: the record, what predict produced, and each scorer's results (in
    scorer order; a scorer may give several, one per Feedback name)."""

    record: Record
    prediction: Prediction
    by_scorer: list[list[ScoreResult]] = field(default_factory=list)

    @property
    def scores(self) -> list[ScoreResult]:
        return [r for results in self.by_scorer for r in results]


class ScoringPool:
    """Runs the scorers of one row concurrently, each within its time limit (see the module
    docstring); threads start as rows need them."""

    def __init__(self, scorers: Sequence[RowScorer], limits: TimeLimits = TimeLimits()) -> None:
        self._scorers = list(scorers)
        self._limits = limits

    def score(
        self, record: Record, prediction: Prediction, trace: Trace | None
    ) -> list[list[ScoreResult]]:
        """Each scorer's results for the row, in scorer order."""
        if prediction.error is not None:
            return [[_not_scored(s, prediction.error)] for s in self._scorers]
        row = {
            "inputs": record.inputs,
            "outputs": prediction.outputs,
            "expectations": record.expectations,
            "trace": trace,
        }
        started = time.monotonic()
        calls = [TimedCall(s, row, self._limits, _run, started) for s in self._scorers]
        return [call.result(time.monotonic) for call in calls]

    def close(self) -> None:
        """Nothing to release: scorer threads are shared and end when idle; a call that
        overran its limit is abandoned, never waited for."""


def run_rows(
    records: Sequence[Record],
    scorers: Sequence[RowScorer],
    predictor: Callable[[Record], Prediction],
    workers: int,
    fetch_traces: Callable[[list[str]], dict[str, Trace]],
    on_done: Callable[[RowOutcome], None],
    limits: TimeLimits = TimeLimits(),
) -> list[RowOutcome]:
    """Evaluate every record; ``on_done`` sees each outcome as it completes (write-back,
    progress). ``limits``: the time limits of scorers that set none. Returns the outcomes in
    input order."""
    needs_trace = any(s.needs_trace for s in scorers)
    scoring = ScoringPool(scorers, limits)
    outcomes: list[RowOutcome | None] = [None] * len(records)
    try:
        with ThreadPoolExecutor(workers, "spyglass-eval-row") as rows:
            if not needs_trace:

                def whole_row(record: Record) -> RowOutcome:
                    prediction = predictor(record)
                    return RowOutcome(
                        record, prediction, scoring.score(record, prediction, record.trace)
                    )

                for outcome in _as_done(rows, whole_row, records):
                    outcomes[outcome.record.index] = outcome
                    on_done(outcome)
            else:
                predicted = {
                    o.record.index: o
                    for o in _as_done(rows, lambda r: RowOutcome(r, predictor(r)), records)
                }
                traces = fetch_traces(_trace_ids_to_fetch(predicted.values()))

                def score_row(record: Record) -> RowOutcome:
                    outcome = predicted[record.index]
                    trace = record.trace if not outcome.prediction.created_trace else None
                    trace = trace or traces.get(outcome.prediction.trace_id or "")
                    outcome.by_scorer = scoring.score(record, outcome.prediction, trace)
                    return outcome

                for outcome in _as_done(rows, score_row, records):
                    outcomes[outcome.record.index] = outcome
                    on_done(outcome)
    finally:
        scoring.close()
    return [o for o in outcomes if o is not None]


def fetch_in_batches(
    get: Callable[[list[str]], list[Trace]], trace_ids: list[str]
) -> dict[str, Trace]:
    """Traces by id, asked for ``TRACE_BATCH`` at a time; unknown ids are left out."""
    found: dict[str, Trace] = {}
    for i in range(0, len(trace_ids), TRACE_BATCH):
        for trace in get(trace_ids[i : i + TRACE_BATCH]):
            found[trace.info.trace_id] = trace
    return found


def progress(total: int) -> Any:
    """A progress bar on a terminal (stderr), a silent stand-in otherwise."""
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        desc="Evaluating",
        unit="row",
        disable=not (hasattr(sys.stderr, "isatty") and sys.stderr.isatty()),
    )


def _as_done(
    pool: ThreadPoolExecutor, fn: Callable[[Record], RowOutcome], records: Sequence[Record]
) -> Iterator[RowOutcome]:
    futures: list[Future[RowOutcome]] = [pool.submit(fn, r) for r in records]
    try:
        for future in as_completed(futures):
            yield future.result()
    finally:  # an error (or Ctrl-C) stops the rows that have not started
        for future in futures:
            future.cancel()


def _trace_ids_to_fetch(outcomes: Any) -> list[str]:
    return sorted(
        {
            o.prediction.trace_id
            for o in outcomes
            if o.prediction.trace_id and (o.prediction.created_trace or o.record.trace is None)
        }
    )


def _run(scorer: RowScorer, row: dict[str, Any], time_limit: float) -> list[ScoreResult]:
    """``scorer.run`` for one row; a scorer that breaks the never-raise contract still only
    fails its row."""
    try:
        return scorer.run(**row, time_limit=time_limit)
    except Exception as exc:
        return [
            error_result(
                scorer.name, exc, source_type=scorer.source_type, source_id=scorer.source_id
            )
        ]


def _not_scored(scorer: RowScorer, why: str) -> ScoreResult:
    return ScoreResult(
        name=scorer.name,
        error=f"not scored: {why}",
        error_type=PREDICT_FAILED,
        source_type=scorer.source_type,
        source_id=scorer.source_id,
    )
