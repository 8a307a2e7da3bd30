"""What ``evaluate()`` returns: the run id, the metrics and the per-row results table.

Metrics: ``"<name>/score"`` is the mean score over the rows that were scored, for every
scorer (NaN when none was), always beside ``"<name>/count"`` (rows scored) and
``"<name>/error_count"`` (rows whose scoring failed), so that a mean is never read without
the rows behind it; plus ``"<name>/<aggregation>"`` for the aggregations asked for (a
scorer's own and ``evaluate(aggregations=...)``): min, max, mean, median, p90, std
(population). ``<name>`` is the scorer's name, or the names of the Feedback a scorer returns
when it returns several. ``str()`` of the result is its summary: one line per name, the mean
with its counts (:func:`spyglass.score_means.mean_text`).

The table has one row per record, in input order: ``inputs.<key>`` columns, ``outputs``,
``expectations.<key>`` columns, ``trace_id``, then per name ``<name>/score`` (float, NaN
where not scored), ``<name>/value`` (the raw value), ``<name>/rationale`` and
``<name>/error``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from spyglass.errors import InvalidArgumentError
from spyglass.evaluator.execution import RowOutcome
from spyglass.evaluator.scorers import Scorer
from spyglass.evaluator.scorers.results import ScoreResult
from spyglass.score_means import score_means

TABLE = "eval_results_table"

_AGGREGATIONS: dict[str, Callable[[np.ndarray], float]] = {
    "min": lambda a: float(np.min(a)),
    "max": lambda a: float(np.max(a)),
    "mean": lambda a: float(np.mean(a)),
    "median": lambda a: float(np.median(a)),
    "p90": lambda a: float(np.percentile(a, 90)),
    "std": lambda a: float(np.std(a)),
}
AGGREGATIONS = (*_AGGREGATIONS, "count", "error_count")


@dataclass
class EvaluationResult:
    """The outcome of one ``evaluate()`` call."""

    run_id: str
    metrics: dict[str, float]
    tables: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        shown = ", ".join(f"{m.name}={m}" for m in score_means(self.metrics))
        rows = len(self.tables[TABLE]) if TABLE in self.tables else 0
        return f"EvaluationResult(run_id={self.run_id!r}, rows={rows}, {shown})"

    def __str__(self) -> str:
        rows = len(self.tables[TABLE]) if TABLE in self.tables else 0
        lines = [f"evaluation run {self.run_id}: {rows} row(s)"]
        lines += [f"  {m.name + '/score':<40} {m}" for m in score_means(self.metrics)]
        return "\n".join(lines)


def check_aggregations(aggregations: Iterable[str] | None) -> list[str]:
    """``evaluate(aggregations=...)`` as a list, or an error naming the unknown ones."""
    if aggregations is None:
        return []
    if isinstance(aggregations, str):
        aggregations = [aggregations]
    chosen = list(aggregations)
    unknown = [a for a in chosen if a not in AGGREGATIONS]
    if unknown:
        raise InvalidArgumentError(
            f"unknown aggregation(s) {unknown}; choose from {', '.join(AGGREGATIONS)}"
        )
    return chosen


def score_names(
    scorers: Sequence[Scorer], outcomes: Sequence[RowOutcome]
) -> list[tuple[Scorer, list[str]]]:
    """Each scorer with the names its results go by (its own name when it gave none)."""
    names: list[list[str]] = [[] for _ in scorers]
    for outcome in outcomes:
        for own, results in zip(names, outcome.by_scorer):
            own.extend(r.name for r in results if r.name not in own)
    return [(s, own or [s.name]) for s, own in zip(scorers, names)]


def compute_metrics(
    scorers: Sequence[Scorer], outcomes: Sequence[RowOutcome], aggregations: Sequence[str] = ()
) -> dict[str, float]:
    """The run's metrics (module docstring)."""
    metrics: dict[str, float] = {}
    for scorer, names in score_names(scorers, outcomes):
        wanted = list(
            dict.fromkeys([*(scorer.aggregations or []), *aggregations, "count", "error_count"])
        )
        for name in names:
            results = [_find(o.scores, name) for o in outcomes]
            scores = np.array(
                [
                    r.score
                    for r in results
                    if r is not None and r.error is None and not math.isnan(r.score)
                ],
                dtype=float,
            )
            metrics[f"{name}/score"] = float(np.mean(scores)) if scores.size else math.nan
            for aggregation in wanted:
                metrics[f"{name}/{aggregation}"] = _aggregate(aggregation, scores, results)
    return metrics


class ScorerErrorsWarning(UserWarning):
    """``evaluate()``: a scorer failed on some rows, so its mean stands for fewer rows than
    were evaluated (the message names the scorer, the rows and the first error)."""


def scorer_error_messages(scorers: Sequence[Scorer], outcomes: Sequence[RowOutcome]) -> list[str]:
    """One message per scorer that failed on any row: how many rows, and the first error
    (in row order) with its row number, counted from 1."""
    ordered = sorted(outcomes, key=lambda o: o.record.index)
    messages = []
    for position, scorer in enumerate(scorers):
        failed = [
            (outcome.record.index, result)
            for outcome in ordered
            for result in _results_of(outcome, position)
            if result.error is not None
        ]
        if not failed:
            continue
        rows = len({index for index, _ in failed})
        first_row, first = failed[0]
        error = str(first.error)
        kind = f"{first.error_type}: " if first.error_type and first.error_type not in error else ""
        messages.append(
            f"scorer {scorer.name!r} failed on {rows} of {len(ordered)} row(s), so its "
            f"metrics cover only the rows it scored; first error (row {first_row + 1}): "
            f"{kind}{error}"
        )
    return messages


def build_table(scorers: Sequence[Scorer], outcomes: Sequence[RowOutcome]) -> Any:
    """The per-row results table (module docstring), rows in input order."""
    import pandas as pd

    ordered = sorted(outcomes, key=lambda o: o.record.index)
    input_keys = _keys(o.record.inputs for o in ordered)
    expectation_keys = _keys(o.record.expectations for o in ordered)
    columns: dict[str, list[Any]] = {
        f"inputs.{k}": [o.record.inputs.get(k) for o in ordered] for k in input_keys
    }
    columns["outputs"] = [o.prediction.outputs for o in ordered]
    columns.update(
        {
            f"expectations.{k}": [o.record.expectations.get(k) for o in ordered]
            for k in expectation_keys
        }
    )
    columns["trace_id"] = [o.prediction.trace_id for o in ordered]
    frame = pd.DataFrame(columns, index=range(len(ordered)))
    for _scorer, names in score_names(scorers, ordered):
        for name in names:
            results = [_find(o.scores, name) for o in ordered]
            frame[f"{name}/score"] = pd.Series(
                [r.score if r is not None and r.error is None else math.nan for r in results],
                dtype=float,
                index=frame.index,
            )
            for part in ("value", "rationale", "error"):
                frame[f"{name}/{part}"] = pd.Series(
                    [getattr(r, part) if r is not None else None for r in results],
                    dtype=object,
                    index=frame.index,
                )
    return frame


def _aggregate(aggregation: str, scores: np.ndarray, results: list[ScoreResult | None]) -> float:
    if aggregation == "count":
        return float(scores.size)
    if aggregation == "error_count":
        return float(sum(1 for r in results if r is not None and r.error is not None))
    return _AGGREGATIONS[aggregation](scores) if scores.size else math.nan


def _results_of(outcome: RowOutcome, position: int) -> list[ScoreResult]:
    return outcome.by_scorer[position] if position < len(outcome.by_scorer) else []


def _find(results: Sequence[ScoreResult], name: str) -> ScoreResult | None:
    return next((r for r in results if r.name == name), None)


def _keys(dicts: Iterable[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(k for d in dicts for k in d))
