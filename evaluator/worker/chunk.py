"""The rows of a leased chunk as evaluator records: what to score, and what it should be.

A trace item (a trace job or a monitor) is scored on its trace: the root span's inputs and
outputs, with the trace's expectation assessments, joined — for a job whose input names an
``expectations_dataset`` — with the expectations of the dataset record whose inputs are the
same (same canonical hash); the trace's own expectations win. A dataset item carries its
record's inputs, expectations and outputs; when it has no outputs but came from a trace, or
when a scorer reads ``trace``, its trace is fetched too (its root outputs stand in for
missing ones). Traces are fetched in batches (``BatchGetTraces``).

A row that cannot be scored — its trace was deleted, its root inputs are not a dict — is not
an error of the chunk: it gets an error of its own (``ChunkRows.errors``), recorded with the
row so the job shows it, and every scorer of that row is marked "not scored".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from spyglass import canonical_json
from spyglass.entities import Trace
from spyglass.errors import InvalidArgumentError
from spyglass.evaluator.data import Record, from_trace
from spyglass.evaluator.execution import fetch_in_batches
from spyglass.evaluator.predict import Prediction
from spyglass.v1 import jobs_pb2 as pb

TRACE_SOURCE = "TRACE"


@dataclass
class ChunkRows:
    """A chunk's records (``index`` = position in the chunk), each one's row index in the
    job, and why rows cannot be scored (by position)."""

    records: list[Record]
    row_indexes: list[int]
    errors: dict[int, str] = field(default_factory=dict)

    def prediction(self, record: Record) -> Prediction:
        """The recorded outputs stand for the app's (the service runs no app)."""
        return Prediction(
            record.outputs,
            record.trace_id,
            created_trace=False,
            error=self.errors.get(record.index),
        )

    def dataset_rows(self) -> list[dict[str, Any]]:
        """The rows as dataset records (inputs, expectations, source trace), for a job's
        ``build_dataset``; rows that cannot be scored or have no inputs are left out."""
        rows = []
        for record in self.records:
            if record.index in self.errors or not record.inputs:
                continue
            row: dict[str, Any] = {"inputs": record.inputs, "expectations": record.expectations}
            if record.trace_id:
                row["source"] = {"source_type": TRACE_SOURCE, "source_id": record.trace_id}
            rows.append(row)
        return rows


def build_rows(
    items: Sequence[pb.WorkItem],
    get_traces: Callable[[list[str]], list[Trace]],
    needs_trace: bool,
    expectations_by_input: Mapping[str, dict[str, Any]],
) -> ChunkRows:
    """The chunk's rows (module docstring). ``needs_trace``: a scorer reads ``trace``;
    ``expectations_by_input``: {canonical input hash: expectations} of the job's
    expectations dataset (empty when it has none)."""
    wanted = sorted(
        {
            item.trace_id
            for item in items
            if item.HasField("trace_id")
            and (not _is_dataset_item(item) or needs_trace or not item.HasField("outputs_json"))
        }
    )
    traces = fetch_in_batches(get_traces, wanted)
    asked = set(wanted)
    rows = ChunkRows(records=[], row_indexes=[item.row_index for item in items])
    for position, item in enumerate(items):
        try:
            if _is_dataset_item(item):
                record = _dataset_record(position, item, traces, asked)
            else:
                record = _trace_record(position, item, traces, expectations_by_input)
        except InvalidArgumentError as exc:  # the row cannot be scored: keep what is known
            record = (
                exc.record
                if isinstance(exc, TraceGone) and exc.record
                else Record(
                    index=position,
                    inputs={},
                    trace_id=item.trace_id if item.trace_id in traces else None,
                )
            )
            rows.errors[position] = str(exc)
        rows.records.append(record)
    return rows


def _is_dataset_item(item: pb.WorkItem) -> bool:
    return item.HasField("inputs_json")


def _trace_record(
    position: int,
    item: pb.WorkItem,
    traces: Mapping[str, Trace],
    expectations_by_input: Mapping[str, dict[str, Any]],
) -> Record:
    trace = traces.get(item.trace_id)
    if trace is None:
        raise _missing(item)
    record = from_trace(position, trace)
    joined = expectations_by_input.get(canonical_json.canonical_hash(record.inputs))
    if joined:
        record.expectations = {**joined, **record.expectations}
    return record


def _dataset_record(
    position: int, item: pb.WorkItem, traces: Mapping[str, Trace], asked: set[str]
) -> Record:
    where = f"dataset record {item.dataset_record_id or position}"
    record = Record(
        index=position,
        inputs=_object(item.inputs_json, where, "inputs"),
        expectations=_object(item.expectations_json, where, "expectations"),
        dataset_record_id=item.dataset_record_id or None,
    )
    if item.HasField("outputs_json"):
        record.outputs, record.has_outputs = _json(item.outputs_json, where, "outputs"), True
    if not item.trace_id:
        return record
    trace = traces.get(item.trace_id)
    if trace is None and item.trace_id in asked:  # asked for, and gone
        if not record.has_outputs:
            raise _missing(item, record)
        return record  # scored on its outputs; no feedback on a trace that is gone
    record.trace_id, record.trace = item.trace_id, trace
    if trace is not None and not record.has_outputs and trace.data.root_span is not None:
        record.outputs, record.has_outputs = trace.data.root_span.outputs, True
    return record


def _missing(item: pb.WorkItem, record: Record | None = None) -> TraceGone:
    return TraceGone(
        f"trace {item.trace_id} not found: it was deleted (by hand or by "
        f"retention), so row {item.row_index} has no outputs to score",
        record,
    )


class TraceGone(InvalidArgumentError):
    """A row's trace no longer exists; ``record``: what is known of the row without it."""

    def __init__(self, message: str, record: Record | None = None) -> None:
        super().__init__(message)
        self.record = record


def _json(text: str, where: str, part: str) -> Any:
    try:
        return canonical_json.loads(text)
    except ValueError as exc:
        raise InvalidArgumentError(f"{where}: {part} are not valid JSON ({exc})") from None


def _object(text: str, where: str, part: str) -> dict[str, Any]:
    if not text:
        return {}
    value = _json(text, where, part)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidArgumentError(
            f"{where}: {part} must be a JSON object, not {type(value).__name__}"
        )
    return value
