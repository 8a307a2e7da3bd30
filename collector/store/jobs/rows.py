"""The rows of a job, snapshotted when it is submitted (or when a monitor takes traces), and
their split into chunks.

A dataset job's rows are the dataset's records at the chosen version (inputs, expectations,
outputs as JSON; the source trace when a record came from a trace); a trace job's rows are
the ids of the experiment's traces matching the filter and time range (with ``max_traces``,
the newest), oldest first. Row ``i`` belongs to chunk ``i // chunk_size`` of the rows added
together, so a chunk is a contiguous range of row indexes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, select

from spyglass import canonical_json
from spyglass.collector.store.datasets import records as dataset_records
from spyglass.collector.store.models import (
    EvaluationJobChunk,
    EvaluationJobItem,
    TraceRow,
)
from spyglass.collector.store.traces.filters import compile_filter
from spyglass.errors import InvalidArgumentError
from spyglass.v1 import datasets_pb2 as dpb
from spyglass.v1 import jobs_pb2 as pb

ITEMS = EvaluationJobItem.__table__
CHUNKS = EvaluationJobChunk.__table__
INSERT_BATCH = 5000
MONITOR_PRIORITY, JOB_PRIORITY = 0, 1  # monitors' chunks are claimed first

_T = TraceRow.__table__.c
_NS_PER_MS = 1_000_000
_MAX_TIME_MS = (2**63 - 1) // _NS_PER_MS
_TRACE_SOURCE = dpb.DatasetRecordColumns.TRACE
_TRACE_ID_LENGTH = 32


def dataset_items(engine: Engine, dataset_id: str, version: int) -> list[dict[str, Any]]:
    """The dataset's records at ``version`` as item rows (without job id and row index)."""
    items: list[dict[str, Any]] = []
    token = ""
    while True:
        page = dataset_records.list_records(
            engine, dataset_id, version, dataset_records.PAGE_SIZE_MAX, token
        )
        items.extend(_record_items(page.records))
        token = page.next_page_token
        if not token:
            return items


def _record_items(columns: dpb.DatasetRecordColumns) -> Iterator[dict[str, Any]]:
    ids = list(columns.dataset_record_id)
    inputs, expectations, outputs = (
        canonical_json.loads(raw) if raw else [None] * len(ids)
        for raw in (columns.inputs, columns.expectations, columns.outputs)
    )
    kinds: list[int] = list(columns.source_type) or [0] * len(ids)
    origins = list(columns.source_id) or [""] * len(ids)
    for n, record_id in enumerate(ids):
        from_trace = kinds[n] == _TRACE_SOURCE and len(origins[n]) == _TRACE_ID_LENGTH
        yield {
            "dataset_record_id": record_id,
            "trace_id": origins[n].lower() if from_trace else None,
            "inputs": canonical_json.dumps(inputs[n] or {}),
            "expectations": canonical_json.dumps(expectations[n] or {}),
            "outputs": None if outputs[n] is None else canonical_json.dumps(outputs[n]),
        }


def trace_items(
    connection: Connection, experiment_id: int, source: pb.TraceInput
) -> list[dict[str, Any]]:
    """The matching traces as item rows, oldest first (InvalidFilterError for a bad
    filter)."""
    query = select(_T.trace_id).where(_T.experiment_id == experiment_id)
    condition = compile_filter(source.filter_string, connection.dialect.name)
    if condition is not None:
        query = query.where(condition)
    if source.HasField("start_time_ms"):
        query = query.where(_T.start_time_ns >= _time_ns(source.start_time_ms, "start_time_ms"))
    if source.HasField("end_time_ms"):
        query = query.where(_T.start_time_ns < _time_ns(source.end_time_ms, "end_time_ms"))
    query = query.order_by(_T.start_time_ns.desc().nulls_last(), _T.id.desc())
    if source.max_traces > 0:
        query = query.limit(source.max_traces)
    newest_first = list(connection.scalars(query))
    return [{"trace_id": trace_id} for trace_id in reversed(newest_first)]


def _time_ns(value_ms: int, field: str) -> int:
    """A time bound in ns, refused when it does not fit the store's 64-bit timestamps."""
    if not 0 <= value_ms <= _MAX_TIME_MS:
        raise InvalidArgumentError(
            f"input.traces.{field} {value_ms} is out of range: give ms since the epoch "
            f"between 0 and {_MAX_TIME_MS} (year 2262)"
        )
    return value_ms * _NS_PER_MS


def insert_items(
    connection: Connection, job_id: str, first_row: int, items: Sequence[dict[str, Any]]
) -> None:
    """Store ``items`` as rows ``first_row``, ``first_row + 1``, ... of the job."""
    blank = {
        "trace_id": None,
        "dataset_record_id": None,
        "inputs": None,
        "expectations": None,
        "outputs": None,
    }
    for start in range(0, len(items), INSERT_BATCH):
        batch = items[start : start + INSERT_BATCH]
        connection.execute(
            ITEMS.insert(),
            [
                {**blank, **item, "job_id": job_id, "row_index": first_row + start + n}
                for n, item in enumerate(batch)
            ],
        )


def insert_chunks(
    connection: Connection,
    job_id: str,
    first_chunk: int,
    first_row: int,
    rows: int,
    chunk_size: int,
    priority: int,
    now: int,
) -> int:
    """Chunks over rows ``first_row`` .. ``first_row + rows - 1``; returns how many."""
    chunks = [
        {
            "job_id": job_id,
            "chunk_index": first_chunk + n,
            "first_row": first_row + start,
            "row_count": min(chunk_size, rows - start),
            "priority": priority,
            "state": "PENDING",
            "created_time_ms": now,
            "lease_id": None,
            "lease_owner": None,
            "lease_expires_ms": None,
            "lease_seconds": None,
            "claims": 0,
            "failures": 0,
            "last_error": None,
            "finished_time_ms": None,
        }
        for n, start in enumerate(range(0, rows, chunk_size))
    ]
    for start in range(0, len(chunks), INSERT_BATCH):
        connection.execute(CHUNKS.insert(), chunks[start : start + INSERT_BATCH])
    return len(chunks)
