"""What a scorer returns, and how any accepted return value becomes :class:`ScoreResult` rows.

Users return whatever is natural — ``True``, ``0.75``, ``"yes"``, a :class:`Feedback`, a list
of them, or ``None`` when the row does not apply — and :func:`to_results` turns it into the one
shape ``evaluate()`` consumes. A value of a type it does not accept becomes an error result
that names the accepted types, so a mistake shows in the results table instead of crashing the
run. A number that is not finite (NaN, infinity; Python or numpy floats, alone or as a
Feedback's value) is no score either: it becomes that row's :class:`NonFiniteScoreError`,
counted with the errors, instead of a score that is silently missing.
"""

from __future__ import annotations

import json
import math
import numbers
import traceback
from dataclasses import dataclass, field
from typing import Any, TypedDict

from spyglass import entities
from spyglass.errors import SpyglassError

_YES_NO = {"yes": 1.0, "no": 0.0}


class NonFiniteScoreError(SpyglassError):
    """A scorer returned NaN or an infinity as a value; recorded as that row's error."""


NON_FINITE = NonFiniteScoreError.__name__


@dataclass
class Feedback:
    """A scorer's judgement of one row: a value, why, and optionally its own name.

    ``error`` (a message or the exception itself) marks a judgement that could not be made;
    ``name`` is required only when a scorer returns several feedbacks for the same row.
    """

    value: Any = None
    rationale: str | None = None
    name: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    error: str | BaseException | None = None


@dataclass
class ScoreResult:
    """One named score of one row, as ``evaluate()`` records and writes it back."""

    name: str
    value: Any = None
    score: float = math.nan
    rationale: str | None = None
    error: str | None = None
    error_type: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    source_type: str = "CODE"
    source_id: str = ""
    usage: dict[str, Any] | None = None
    stack_trace: str | None = None

    @property
    def scored(self) -> bool:
        """True when the row got a score (not an error, not "not applicable")."""
        return self.error is None and not math.isnan(self.score)


def score_of(value: Any) -> float:
    """The float a value stands for: bools and yes/no as 1.0/0.0, numbers as themselves."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, str):
        return _YES_NO.get(value.strip().lower(), math.nan)
    return math.nan


def error_message(exc: BaseException) -> str:
    """A one-line message: Spyglass's own errors speak for themselves, others get their type."""
    text = str(exc) or repr(exc)
    return text if isinstance(exc, SpyglassError) else f"{type(exc).__name__}: {text}"


def error_result(
    name: str,
    exc: BaseException,
    *,
    source_type: str,
    source_id: str,
    usage: dict[str, Any] | None = None,
) -> ScoreResult:
    """The result recorded when scoring a row raised ``exc``."""
    stack = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return ScoreResult(
        name=name,
        error=error_message(exc),
        error_type=type(exc).__name__,
        source_type=source_type,
        source_id=source_id,
        usage=usage,
        stack_trace=stack,
    )


class _Source(TypedDict):
    """Who made the results: the fields every result of one scorer shares."""

    source_type: str
    source_id: str


def to_results(raw: Any, *, name: str, source_type: str, source_id: str) -> list[ScoreResult]:
    """Normalise a scorer's return value (see the module docstring) into results."""
    common: _Source = {"source_type": source_type, "source_id": source_id}
    if isinstance(raw, (list, tuple)):
        return _from_list(list(raw), name, common)
    if isinstance(raw, (Feedback, entities.Feedback)):
        return [_from_feedback(raw, raw.name or name, common, name)]
    if _is_non_finite(raw):
        return [_non_finite(name, common, f"scorer {name!r} returned {_describe(raw)}")]
    raw = _plain(raw)
    if raw is None or isinstance(raw, (bool, numbers.Real, str)):
        return [ScoreResult(name=name, value=_plain(raw), score=score_of(raw), **common)]
    raise TypeError(
        f"scorer {name!r} returned a {type(raw).__name__}; return a bool, int, "
        "float, str, Feedback, a list of Feedback, or None (not applicable)"
    )


def _from_list(items: list[Any], name: str, common: _Source) -> list[ScoreResult]:
    if not items:
        return [ScoreResult(name=name, **common)]
    wrong = [type(i).__name__ for i in items if not isinstance(i, (Feedback, entities.Feedback))]
    if wrong:
        raise TypeError(
            f"scorer {name!r} returned a list holding {', '.join(sorted(set(wrong)))}"
            "; a list may hold only Feedback objects"
        )
    if len(items) == 1:
        return [_from_feedback(items[0], items[0].name or name, common, name)]
    names = [i.name for i in items]
    if None in names or len(set(names)) != len(names):
        raise ValueError(
            f"scorer {name!r} returned {len(items)} Feedback objects named "
            f"{names}; give each Feedback a distinct name= so each gets its own "
            "columns"
        )
    return [_from_feedback(i, i.name, common, name) for i in items]


def checked_result(result: ScoreResult) -> ScoreResult:
    """A ScoreResult a scorer built itself, made an error when its value or score is NaN or
    infinite (a NaN score with a value that is no number stays "not applicable")."""
    if result.error is not None:
        return result
    bad = (
        result.value
        if _is_non_finite(result.value)
        else result.score
        if math.isinf(result.score)
        else None
    )
    if bad is None:
        return result
    return _non_finite(
        result.name,
        {"source_type": result.source_type, "source_id": result.source_id},
        f"scorer {result.name!r} returned a ScoreResult with "
        f"{'value' if bad is result.value else 'score'}={_describe(bad)}",
    )


def _from_feedback(
    fb: Feedback | entities.Feedback, name: str, common: _Source, scorer_name: str
) -> ScoreResult:
    error, error_type = _feedback_error(fb.error)
    if error is None and _is_non_finite(fb.value):
        named = f" named {fb.name!r}" if fb.name and fb.name != scorer_name else ""
        return _non_finite(
            name,
            common,
            f"scorer {scorer_name!r} returned a Feedback{named} with value={_describe(fb.value)}",
        )
    value = None if error else _plain(fb.value)
    return ScoreResult(
        name=name,
        value=value,
        score=math.nan if error else score_of(value),
        rationale=fb.rationale,
        error=error,
        error_type=error_type,
        metadata={str(k): _text(v) for k, v in (fb.metadata or {}).items()},
        **common,
    )


def _is_non_finite(value: Any) -> bool:
    """True for NaN and the infinities, of any real number type (numpy's included)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    try:
        return not math.isfinite(value)
    except (TypeError, ValueError, OverflowError):
        return False


def _describe(value: Any) -> str:
    """How a returned number reads in a message: ``nan``, ``-inf``, ``numpy.float32(inf)``."""
    kind = type(value)
    if kind is float:
        return repr(value)
    return f"{kind.__module__}.{kind.__qualname__}({float(value)!r})"


def _non_finite(name: str, common: _Source, returned: str) -> ScoreResult:
    return ScoreResult(
        name=name,
        error=f"{returned}, which is not a score; return a finite "
        "number, or None when the row does not apply",
        error_type=NON_FINITE,
        **common,
    )


def _feedback_error(error: Any) -> tuple[str | None, str | None]:
    if error is None:
        return None, None
    if isinstance(error, BaseException):
        return error_message(error), type(error).__name__
    if isinstance(error, entities.AssessmentError):
        return error.error_message or error.error_code, error.error_code
    return str(error), "ScorerError"


def _plain(value: Any) -> Any:
    """numpy scalars and the like as plain Python values (they must serialise to JSON)."""
    if value is None or type(value) in (bool, int, float, str):
        return value
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        return value.item()
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return value


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, default=str)
    except (TypeError, ValueError):
        return str(value)
