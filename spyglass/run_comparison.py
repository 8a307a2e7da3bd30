"""What changed between two evaluation runs: the pure comparison behind the SDK's
``compare_runs``, ``spyglass eval compare`` and the UI's Compare two runs page.

Metrics compare key by key (``b - a``; NaN when either side is missing). Records of the two
runs are matched by their dataset record id when both have one, otherwise by the hash of
their inputs (so two runs over the same questions compare even without a dataset). A score
of a matched pair *changed* when its numeric score or its value differs (an error counts as
the value ``"error: <message>"``); it is a *regression* when its score went down, or when B
failed to score what A scored.

Works on :mod:`spyglass.entities` records, imports nothing of the evaluator or the
collector, so both use it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from spyglass.entities import EvaluationRecord, EvaluationScore
from spyglass.score_labels import label_of

Pairs = list[tuple[EvaluationRecord, EvaluationRecord]]


@dataclass(slots=True)
class ScoreChange:
    """One score name of a matched pair of records, in A and in B."""

    name: str
    score_a: float  # NaN when not scored
    score_b: float
    value_a: Any  # the value, "error: <message>" for an error, None when absent
    value_b: Any
    error_a: bool
    error_b: bool

    @property
    def delta(self) -> float:
        """``score_b - score_a`` (NaN when either is not scored)."""
        return self.score_b - self.score_a

    @property
    def changed(self) -> bool:
        """The score or the value differs."""
        return not _same(self.score_a, self.score_b) or self.value_a != self.value_b

    @property
    def regression(self) -> bool:
        """The score went down, or B failed (error or no score) where A scored."""
        if self.delta < 0:
            return True
        return not math.isnan(self.score_a) and (self.error_b or math.isnan(self.score_b))

    @property
    def improvement(self) -> bool:
        """The score went up, or B scored where A failed."""
        if self.delta > 0:
            return True
        return not math.isnan(self.score_b) and (self.error_a or math.isnan(self.score_a))


def metric_deltas(a: Mapping[str, float], b: Mapping[str, float]) -> dict[str, float]:
    """``b - a`` for every metric key either run has, in A's then B's key order."""
    keys = dict.fromkeys([*a, *b])
    return {k: delta(a.get(k), b.get(k)) for k in keys}


def match_records(
    a: list[EvaluationRecord], b: list[EvaluationRecord]
) -> tuple[Pairs, list[EvaluationRecord], list[EvaluationRecord]]:
    """Pairs of records of the two runs (by dataset record id, then by inputs hash) in A's
    record order, and those left unmatched on each side."""
    pairs: Pairs = []
    by_id = {r.dataset_record_id: r for r in b if r.dataset_record_id}
    left_a, used = [], set()
    for record in a:
        other = by_id.get(record.dataset_record_id) if record.dataset_record_id else None
        if other is not None and id(other) not in used:
            pairs.append((record, other))
            used.add(id(other))
        else:
            left_a.append(record)
    by_hash: dict[str, list[EvaluationRecord]] = defaultdict(list)
    for record in b:
        if id(record) not in used:
            by_hash[record.input_hash].append(record)
    unmatched_a = []
    for record in left_a:
        candidates = by_hash.get(record.input_hash)
        if candidates:
            other = candidates.pop(0)
            pairs.append((record, other))
            used.add(id(other))
        else:
            unmatched_a.append(record)
    unmatched_b = [r for r in b if id(r) not in used]
    pairs.sort(key=lambda p: p[0].row_index)
    return pairs, unmatched_a, unmatched_b


def score_changes(a: EvaluationRecord, b: EvaluationRecord) -> list[ScoreChange]:
    """Every score name of either record, changed or not, in A's then B's order."""
    scores_a = {s.name: s for s in a.scores}
    scores_b = {s.name: s for s in b.scores}
    return [
        ScoreChange(
            name=name,
            score_a=score_number(scores_a.get(name)),
            score_b=score_number(scores_b.get(name)),
            value_a=score_value(scores_a.get(name)),
            value_b=score_value(scores_b.get(name)),
            error_a=_failed(scores_a.get(name)),
            error_b=_failed(scores_b.get(name)),
        )
        for name in dict.fromkeys([*scores_a, *scores_b])
    ]


def changed_scores(a: EvaluationRecord, b: EvaluationRecord) -> Iterable[ScoreChange]:
    """The scores of a matched pair whose score or value differs."""
    return (c for c in score_changes(a, b) if c.changed)


def score_number(score: EvaluationScore | None) -> float:
    """The numeric score (NaN when absent or not scored)."""
    return score.score if score is not None and score.score is not None else math.nan


def score_value(score: EvaluationScore | None) -> Any:
    """The value (a judge's verdict as its word, see :mod:`spyglass.score_labels`),
    ``"error: <message>"`` for a failed score, None when absent."""
    if score is None:
        return None
    if score.error is not None:
        return f"error: {score.error.error_message}"
    return label_of(score.metadata) or score.value


def delta(a: float | None, b: float | None) -> float:
    """``b - a``, NaN when either is missing."""
    if a is None or b is None:
        return math.nan
    return b - a


def _failed(score: EvaluationScore | None) -> bool:
    return score is not None and score.error is not None


def _same(x: float, y: float) -> bool:
    return (math.isnan(x) and math.isnan(y)) or x == y
