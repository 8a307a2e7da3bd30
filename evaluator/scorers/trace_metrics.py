"""Scorers that read the row's trace instead of its text: latency and token count.

Without a threshold the value is the measurement itself (so its mean, p90, max are the
figures); with one, the value is whether the row stayed within it and the measurement goes to
the rationale and metadata.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from spyglass.errors import InvalidArgumentError

from .base import Scorer
from .results import Feedback

if TYPE_CHECKING:
    from spyglass.entities import Trace


def _threshold(value: float | None, what: str) -> float | None:
    if value is not None and not (isinstance(value, (int, float)) and value > 0):
        raise InvalidArgumentError(f"{what} must be a number > 0, got {value!r}")
    return value


def _measured(measure: float, unit: str, limit: float | None) -> Feedback:
    shown = f"{measure:g} {unit}"
    if limit is None:
        return Feedback(value=measure, rationale=f"{shown}.")
    ok = measure <= limit
    return Feedback(
        value=ok,
        metadata={unit: measure},
        rationale=f"{shown}, {'within' if ok else 'over'} the limit of {limit:g}.",
    )


class Latency(Scorer):
    """How long the row's trace took (its root span, in ms); with ``threshold_ms``, whether it
    took no longer than that."""

    def __init__(self, *, threshold_ms: float | None = None, **options: Any) -> None:
        super().__init__(**options)
        self.threshold_ms = _threshold(threshold_ms, "Latency(threshold_ms=...)")

    def __call__(self, trace: Trace | None) -> Feedback:
        if trace is None:
            raise self.missing("the row's trace")
        root = trace.data.root_span
        if root is not None and root.end_time_ns:
            millis = round(root.duration_ms, 3)
        elif trace.info.execution_duration is not None:
            millis = float(trace.info.execution_duration)
        else:
            raise self.missing(f"a finished root span in trace {trace.info.trace_id}")
        return _measured(millis, "ms", self.threshold_ms)


class TokenCount(Scorer):
    """Tokens the row's trace used (sum over its spans; ``kind`` total, input or output);
    with ``max_tokens``, whether it stayed within that. No usage recorded: not applicable."""

    _KINDS = ("total", "input", "output")

    def __init__(
        self, *, kind: str = "total", max_tokens: int | None = None, **options: Any
    ) -> None:
        super().__init__(**options)
        if kind not in self._KINDS:
            raise InvalidArgumentError(
                f"TokenCount(kind={kind!r}): choose one of {', '.join(self._KINDS)}"
            )
        self.kind = kind
        self.max_tokens = _threshold(max_tokens, "TokenCount(max_tokens=...)")

    def _span_tokens(self, span: Any) -> int | None:
        if (
            self.kind == "total"
            and span.total_tokens is None
            and (span.input_tokens is not None or span.output_tokens is not None)
        ):
            return (span.input_tokens or 0) + (span.output_tokens or 0)
        tokens: int | None = getattr(span, f"{self.kind}_tokens")
        return tokens

    def __call__(self, trace: Trace | None) -> Feedback | None:
        if trace is None:
            raise self.missing("the row's trace")
        counts = [n for n in map(self._span_tokens, trace.data.spans) if n is not None]
        if not counts:
            return None
        return _measured(sum(counts), "tokens", self.max_tokens)
