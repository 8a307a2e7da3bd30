"""The rows the trace writer takes: what ingest produces and the store writes.

A span arrives as a :class:`SpanRecord`: its ``spans`` row as a tuple in :data:`SPAN_COLUMNS`
order (ready for a bulk insert; the index constants below name its positions), how it routes
its trace to an experiment (:class:`ExperimentRef`), and the trace tags and metadata it
carries. A log record that belongs to a span arrives as a :class:`LogEventRow`, one
``span_log_events`` row in column order.

Ingest builds these rows and the writer consumes them; both import them from here, so the
store needs nothing from ingest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from spyglass.collector.store.models import SpanRow

SPAN_COLUMNS: tuple[str, ...] = tuple(c.name for c in SpanRow.__table__.columns)
_I = {name: i for i, name in enumerate(SPAN_COLUMNS)}
TRACE_ID, SPAN_ID, PARENT = _I["trace_id"], _I["span_id"], _I["parent_span_id"]
NAME, START, END, STATUS = _I["name"], _I["start_time_ns"], _I["end_time_ns"], _I["status_code"]
INPUTS, OUTPUTS, COST, EVENTS = _I["inputs"], _I["outputs"], _I["cost"], _I["events"]
IN_TOK, OUT_TOK, TOTAL_TOK = _I["input_tokens"], _I["output_tokens"], _I["total_tokens"]
SESSION, USER, RECEIVED = _I["session_id"], _I["user_id"], _I["received_at_ns"]

STATUS_ERROR = 2  # opentelemetry.proto.trace.v1.Status.STATUS_CODE_ERROR

# experiment routing ranks: higher wins, whatever order a trace's spans arrive in
RANK_ATTRIBUTE, RANK_HEADER, RANK_SERVICE, RANK_DEFAULT = 3, 2, 1, 0


@dataclass(frozen=True, slots=True)
class ExperimentRef:
    """How a span asks for its trace's experiment: an id, a name, or either (header)."""

    rank: int
    kind: str  # "id" | "name" | "id_or_name"
    value: str


@dataclass(slots=True)
class SpanRecord:
    """A span ready to store, with the trace-level facts it contributes."""

    row: tuple[Any, ...]
    experiment: ExperimentRef
    tags: dict[str, str] | None = None
    metadata: dict[str, str] | None = None


class LogEventRow(NamedTuple):
    """One ``span_log_events`` row, in column order (ready for a bulk insert)."""

    trace_id: str
    span_id: str
    record_key: str
    kind: str
    event_name: str | None
    time_unix_nano: int
    seq: int
    content: str
    received_at_ns: int
