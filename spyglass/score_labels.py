"""How a categorical score (a judge's "yes"/"no") is stored so that it compares as a number.

A judge answers with a label, and the label stands for a number (``"yes"`` = 1.0, ``"no"`` =
0.0). Feedback stored with the label as its value would be invisible to numeric filters
(``feedback.safety < 0.5`` compares JSON numbers only) and to anything that averages values,
so the evaluator stores the number as the score's value (and as the feedback's value on the
trace) and keeps the label in the score's metadata under :data:`LABEL_METADATA`. Readers show
both: ``0.000 (no)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

LABEL_METADATA = "spyglass.label"  # the categorical value a numeric score stands for


def stored_value(value: Any, score: float) -> tuple[Any, str | None]:
    """What to store for a result with ``value`` and numeric ``score``: a text label with a
    finite score becomes ``(score, label)``; anything else is kept, without a label."""
    if isinstance(value, str) and not isinstance(score, bool) and math.isfinite(score):
        return score, value
    return value, None


def label_of(metadata: Mapping[str, str] | None) -> str | None:
    """The categorical value recorded beside a numeric score, if any."""
    return (metadata or {}).get(LABEL_METADATA) or None


def score_text(score: float | None, metadata: Mapping[str, str] | None) -> str:
    """A score for people: ``0.000 (no)`` for a labelled score, ``0.750`` otherwise."""
    shown = "nan" if score is None or math.isnan(score) else f"{score:.3f}"
    label = label_of(metadata)
    return f"{shown} ({label})" if label else shown
