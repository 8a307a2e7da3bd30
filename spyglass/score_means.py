"""How a mean score is shown wherever one is shown: beside the rows it was computed over and
the rows whose scoring failed, e.g. ``0.667 (3 scored, 4 errors)``.

A mean alone hides how much of the data it stands for: a scorer that failed on most rows
still has a perfect mean over the few it scored. ``evaluate()``'s summary, ``eval list``,
``eval show``, ``eval compare``, ``monitors show`` and the demo all print means through
:func:`mean_text`; :func:`score_means` reads the figures from a run's metrics
(``"<name>/score"``, ``"<name>/count"``, ``"<name>/error_count"``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class ScoreMean:
    """One score name's mean (NaN when no row was scored), the rows scored and the rows
    whose scoring failed (None when the run did not record them)."""

    name: str
    mean: float
    scored: int | None
    errors: int | None

    def __str__(self) -> str:
        return mean_text(self.mean, self.scored, self.errors)


def mean_text(mean: float | None, scored: int | None, errors: int | None) -> str:
    """``0.667 (3 scored, 4 errors)``; ``n/a (0 scored, 4 errors)`` when nothing was scored;
    the counts a run did not record are left out."""
    shown = "n/a" if mean is None or math.isnan(mean) else f"{mean:.3f}"
    counts = [
        f"{count} {label}"
        for count, label in ((scored, "scored"), (errors, "error" if errors == 1 else "errors"))
        if count is not None
    ]
    return f"{shown} ({', '.join(counts)})" if counts else shown


def score_means(metrics: Mapping[str, float]) -> list[ScoreMean]:
    """Every ``"<name>/score"`` metric with its name's counts, in the metrics' order."""
    return [
        ScoreMean(
            name=key.removesuffix("/score"),
            mean=value,
            scored=_count(metrics.get(key.removesuffix("/score") + "/count")),
            errors=_count(metrics.get(key.removesuffix("/score") + "/error_count")),
        )
        for key, value in metrics.items()
        if key.endswith("/score")
    ]


def _count(value: float | None) -> int | None:
    return None if value is None or math.isnan(value) else int(value)
