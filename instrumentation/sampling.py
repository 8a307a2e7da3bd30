"""Which traces are recorded: ``sampling_ratio``, else ``OTEL_TRACES_SAMPLER``, else all.

The SDK hands a provider's sampler to each tracer once, so the provider Spyglass creates
gets a :class:`SwitchableSampler` whose rule ``configure()`` can change later.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk.trace.sampling import (
    ParentBased,
    Sampler,
    SamplingResult,
    TraceIdRatioBased,
)


def ratio_sampler(ratio: float) -> Sampler:
    """Record ``ratio`` of new traces; child spans follow their parent's decision."""
    return ParentBased(TraceIdRatioBased(ratio))


class SwitchableSampler(Sampler):
    """Delegates to ``rule``, which may be replaced at any time."""

    def __init__(self, rule: Sampler) -> None:
        self.rule = rule

    def should_sample(
        self,
        parent_context: Any,
        trace_id: int,
        name: str,
        kind: Any = None,
        attributes: Any = None,
        links: Sequence[Any] | None = None,
        trace_state: Any = None,
    ) -> SamplingResult:
        return self.rule.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return f"Spyglass({self.rule.get_description()})"
