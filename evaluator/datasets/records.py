"""The record objects users read, and the columns they travel in.

The DatasetService sends records as columns of JSON text (``DatasetRecordColumns``);
:func:`decode_columns` turns a page into plain Python lists (dicts, not JSON text), which
``to_df`` hands to pandas as they are and :class:`DatasetRecord` wraps one row of.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from spyglass import canonical_json
from spyglass.gc_pause import gc_paused
from spyglass.v1 import datasets_pb2 as pb

SOURCE_TYPES = ("TRACE", "HUMAN", "CODE", "DOCUMENT")
COLUMNS = [
    "dataset_record_id",
    "inputs",
    "expectations",
    "outputs",
    "tags",
    "source_type",
    "source_id",
    "created_time",
    "last_update_time",
]
_SOURCE_NAMES = {value: name for name, value in pb.DatasetRecordColumns.SourceType.items()}


@dataclass(frozen=True)
class DatasetRecordSource:
    """Where a record came from: TRACE (source_id = trace id), HUMAN, CODE or DOCUMENT
    (source_id = the document's id)."""

    source_type: str
    source_id: str | None = None


@dataclass
class DatasetRecord:
    """One record of a dataset: inputs for the app, what its output should be, and where
    the record came from. Times are ms since the epoch."""

    dataset_record_id: str
    inputs: dict[str, Any]
    expectations: dict[str, Any] = field(default_factory=dict)
    outputs: Any = None
    tags: dict[str, str] = field(default_factory=dict)
    source_type: str = "CODE"
    source_id: str | None = None
    created_time: int | None = None
    last_update_time: int | None = None

    @property
    def source(self) -> DatasetRecordSource:
        return DatasetRecordSource(self.source_type, self.source_id)


def decode_columns(columns: pb.DatasetRecordColumns) -> dict[str, list[Any]]:
    """A page of records as {column name: values}, JSON decoded, in :data:`COLUMNS` order."""
    loads = canonical_json.loads
    with gc_paused():  # a page builds ~10^5 containers (see gc_pause.py)
        return {
            "dataset_record_id": list(columns.dataset_record_id),
            "inputs": loads(columns.inputs),
            "expectations": loads(columns.expectations),
            "outputs": loads(columns.outputs),
            "tags": loads(columns.tags),
            "source_type": [_SOURCE_NAMES[value] for value in columns.source_type],
            "source_id": [text or None for text in columns.source_id],
            "created_time": list(columns.create_time_ms),
            "last_update_time": list(columns.last_update_time_ms),
        }


def records_of(columns: dict[str, list[Any]]) -> list[DatasetRecord]:
    """The rows of decoded columns as :class:`DatasetRecord` objects."""
    return [DatasetRecord(*row) for row in zip(*(columns[name] for name in COLUMNS))]
