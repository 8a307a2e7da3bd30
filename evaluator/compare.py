"""``compare_runs(run_a, run_b)``: what changed between two evaluation runs.

Metric by metric (``b - a`` for every metric either run has; ``str()`` shows each mean with
the rows it was computed over and the rows that failed) and record by record: records
of the two runs are matched by their dataset record id when both have one, otherwise by the
hash of their inputs (so two runs over the same questions compare even without a
dataset), and every score whose value or numeric score differs is listed. The matching and
the change rules live in :mod:`spyglass.run_comparison` (the UI's Compare page uses them too).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from spyglass.entities import EvaluationRecord, EvaluationRun
from spyglass.evaluator.runs import get_evaluation_results, get_evaluation_run
from spyglass.run_comparison import changed_scores, match_records, metric_deltas
from spyglass.score_means import score_means

SHOWN_CHANGES = 10  # changed scores str() lists
COUNTS = ("count", "error_count")  # str() shows them beside their score's mean
CHANGED_COLUMNS = [
    "dataset_record_id",
    "input_hash",
    "inputs",
    "score_name",
    "score_a",
    "score_b",
    "delta",
    "value_a",
    "value_b",
    "trace_id_a",
    "trace_id_b",
]


@dataclass
class RunComparison:
    """Two runs side by side: ``metric_deltas`` maps each metric to ``b - a`` (NaN when
    either is missing or NaN); ``metrics`` and ``changed`` are DataFrames."""

    run_a: EvaluationRun
    run_b: EvaluationRun
    metric_deltas: dict[str, float]
    metrics: Any  # DataFrame: metric, run_a, run_b, delta
    changed: Any  # DataFrame, one row per (record, score) that changed: CHANGED_COLUMNS
    matched_records: int
    only_in_a: int
    only_in_b: int

    def __str__(self) -> str:
        a, b = self.run_a, self.run_b
        lines = [
            f"{_label(a)}  →  {_label(b)}",
            f"records: {self.matched_records} matched, {self.only_in_a} only in A, "
            f"{self.only_in_b} only in B; {len(self.changed)} score(s) changed",
        ]
        means_a = {m.name + "/score": str(m) for m in score_means(a.metrics)}
        means_b = {m.name + "/score": str(m) for m in score_means(b.metrics)}
        beside = {f"{name[: -len('/score')]}/{n}" for name in means_a | means_b for n in COUNTS}
        for row in self.metrics.itertuples(index=False):
            if row.metric in beside:  # printed beside their mean
                continue
            shown_a = means_a.get(row.metric) or _num(row.run_a)
            shown_b = means_b.get(row.metric) or _num(row.run_b)
            lines.append(f"  {row.metric:<32} {shown_a:>26} → {shown_b:<26} ({_signed(row.delta)})")
        if len(self.changed):
            lines.append("changed scores:")
        for row in self.changed.head(SHOWN_CHANGES).itertuples(index=False):
            lines.append(
                f"  {short(row.inputs):<50} {row.score_name}: "
                f"{short(row.value_a, 30)} → {short(row.value_b, 30)}"
            )
        if len(self.changed) > SHOWN_CHANGES:
            lines.append(f"  … {len(self.changed) - SHOWN_CHANGES} more in .changed")
        return "\n".join(lines)


def compare_runs(run_a: str | EvaluationRun, run_b: str | EvaluationRun) -> RunComparison:
    """Compare two runs (ids or EvaluationRun objects) metric by metric and row by row."""
    import pandas as pd

    a, b = _run(run_a), _run(run_b)
    deltas = metric_deltas(a.metrics, b.metrics)
    keys = list(deltas)
    metrics = pd.DataFrame(
        {
            "metric": keys,
            "run_a": [a.metrics.get(k, math.nan) for k in keys],
            "run_b": [b.metrics.get(k, math.nan) for k in keys],
            "delta": [deltas[k] for k in keys],
        }
    )
    pairs, only_a, only_b = match_records(
        get_evaluation_results(a.run_id), get_evaluation_results(b.run_id)
    )
    rows = [row for ra, rb in pairs for row in _changed_rows(ra, rb)]
    changed = pd.DataFrame(rows, columns=CHANGED_COLUMNS)
    changed["delta"] = changed["delta"].astype(float)
    return RunComparison(a, b, deltas, metrics, changed, len(pairs), len(only_a), len(only_b))


def _changed_rows(a: EvaluationRecord, b: EvaluationRecord) -> Iterable[list[Any]]:
    for change in changed_scores(a, b):
        yield [
            a.dataset_record_id or b.dataset_record_id,
            a.input_hash,
            a.inputs,
            change.name,
            change.score_a,
            change.score_b,
            change.delta,
            change.value_a,
            change.value_b,
            a.trace_id,
            b.trace_id,
        ]


def _run(run: str | EvaluationRun) -> EvaluationRun:
    return run if isinstance(run, EvaluationRun) else get_evaluation_run(run)


def _label(run: EvaluationRun) -> str:
    return f"{run.name} ({run.model_id or 'no model id'}, {run.run_id[:8]})"


def _num(value: float) -> str:
    return "nan" if value is None or math.isnan(value) else f"{value:.3f}"


def _signed(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:+.3f}"


def short(value: Any, limit: int = 48) -> str:
    """``value`` as one line of at most ``limit`` characters ("-" for None)."""
    if value is None:
        return "-"
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"
