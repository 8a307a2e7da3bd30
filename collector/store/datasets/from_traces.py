"""MergeTraces in the store: stored traces merged into a dataset as records.

Each trace becomes the record :func:`spyglass.trace_records.trace_record` makes of it (the
rule the SDK's ``dataset.merge_records(traces)`` follows too), with the expectations the
store holds now. The traces are read in chunks (spans included, since the root span's
inputs are the record's), every one is checked, and only then are the records handed to
the MergeRecords path (:func:`spyglass.collector.store.datasets.records.merge_records`),
which writes them in one transaction: an unknown trace id or a trace without usable inputs
leaves the dataset as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine

from spyglass.canonical_json import dumps_bytes
from spyglass.collector.store.datasets.catalog import check_dataset_id, get_dataset
from spyglass.collector.store.datasets.records import merge_records
from spyglass.collector.store.ids import parse_trace_id
from spyglass.collector.store.traces.queries import batch_get_traces
from spyglass.entities import Trace
from spyglass.errors import InvalidArgumentError, NotFoundError
from spyglass.trace_records import trace_record
from spyglass.v1 import datasets_pb2 as pb

MAX_TRACES = 10_000
READ_CHUNK = 500  # traces read (with their spans) at a time
_SHOWN_UNKNOWN = 10
_TRACE = pb.DatasetRecordColumns.SourceType.TRACE


def merge_traces(
    engine: Engine, dataset_id: str, trace_ids: Sequence[str], user: str
) -> pb.MergeRecordsResponse:
    """Merge the traces ``trace_ids`` into the dataset, one record each in this order
    (module docstring). NotFoundError naming the unknown ids; InvalidArgumentError naming
    the record and trace whose root span cannot make a record."""
    dataset_id = check_dataset_id(dataset_id)
    if len(trace_ids) > MAX_TRACES:
        raise InvalidArgumentError(
            f"{len(trace_ids):,} traces in one merge; merge at most {MAX_TRACES:,} at a "
            "time (split the selection)"
        )
    dataset = get_dataset(engine, dataset_id, "", None)  # an unknown dataset fails first
    if not trace_ids:
        return pb.MergeRecordsResponse(dataset=dataset)
    columns = _columns(_records(engine, list(trace_ids)))
    return merge_records(engine, dataset_id, [columns], user)


def _records(engine: Engine, trace_ids: list[str]) -> list[dict[str, Any]]:
    """The record dicts of the traces, in order; raises before returning any when a trace
    is unknown or unusable."""
    rows: list[dict[str, Any]] = []
    unknown: list[str] = []
    for start in range(0, len(trace_ids), READ_CHUNK):
        chunk = trace_ids[start : start + READ_CHUNK]
        found = {t.info.trace_id: t for t in batch_get_traces(engine, chunk)}
        for offset, trace_id in enumerate(chunk):
            message = found.get(parse_trace_id(trace_id))
            if message is None:
                unknown.append(trace_id)
            elif not unknown:  # once one is missing, only the missing ones matter
                rows.append(trace_record(start + offset, Trace.from_proto(message)))
    if unknown:
        raise NotFoundError(_unknown_message(unknown))
    return rows


def _unknown_message(unknown: list[str]) -> str:
    shown = ", ".join(dict.fromkeys(unknown[:_SHOWN_UNKNOWN]))
    more = len(set(unknown)) - len(set(unknown[:_SHOWN_UNKNOWN]))
    count = len(set(unknown))
    return (
        f"{'trace' if count == 1 else f'{count} traces'} not found: {shown}"
        + (f" and {more} more" if more > 0 else "")
        + "; no span of them is stored. Check the ids (a trace appears once its exporter "
        "has flushed a span)"
    )


def _columns(rows: list[dict[str, Any]]) -> pb.DatasetRecordColumns:
    """The records as one chunk of columns, encoded as the SDK encodes them."""
    inputs, expectations, outputs = [], [], []
    for index, row in enumerate(rows):
        where = f"record {index + 1}"
        inputs.append(dumps_bytes(row["inputs"], what=f"{where}: inputs"))
        expectations.append(dumps_bytes(row["expectations"], what=f"{where}: expectations"))
        value = row["outputs"]
        outputs.append(b"null" if value is None else dumps_bytes(value, what=f"{where}: outputs"))
    return pb.DatasetRecordColumns(
        inputs=_array(inputs),
        expectations=_array(expectations),
        outputs=_array(outputs),
        source_type=[_TRACE] * len(rows),
        source_id=[row["source_id"] for row in rows],
    )


def _array(values: list[bytes]) -> bytes:
    return b"[" + b",".join(values) + b"]"
