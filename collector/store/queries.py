"""Read queries over the trace store (the query API issue grows this into search)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from spyglass.collector.store.models import Experiment, TraceRow


@dataclass(frozen=True, slots=True)
class TraceSummary:
    """One trace row, as the demo and operators' checks print it."""

    trace_id: str
    experiment: str
    name: str | None
    status: str
    span_count: int
    error_count: int
    total_tokens: int
    cost: float
    duration_ms: float | None


def recent_traces(engine: Engine, limit: int = 20) -> list[TraceSummary]:
    """The ``limit`` most recently started traces, newest first."""
    query = (
        select(TraceRow, Experiment.name)
        .join(Experiment, Experiment.experiment_id == TraceRow.experiment_id, isouter=True)
        .order_by(TraceRow.start_time_ns.desc(), TraceRow.id.desc())
        .limit(limit)
    )
    with Session(engine) as session:
        rows = session.execute(query).all()
    return [_summary(trace, experiment) for trace, experiment in rows]


def _summary(t: TraceRow, experiment: str | None) -> TraceSummary:
    duration = None
    if t.start_time_ns is not None and t.end_time_ns is not None:
        duration = (t.end_time_ns - t.start_time_ns) / 1e6
    return TraceSummary(t.trace_id, experiment or str(t.experiment_id), t.name, t.status,
                        t.span_count, t.error_count, t.total_tokens, t.cost, duration)
