"""The record objects users read, and the columns they travel in.

The DatasetService sends records as columns of JSON text (``DatasetRecordColumns``);
:func:`decode_columns` turns a page into plain Python lists (dicts, not JSON text), which
``to_df`` hands to pandas as they are and :class:`DatasetRecord` wraps one row of.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from spyglass.record_files import COLUMNS, decode_columns

__all__ = [
    "COLUMNS",
    "SOURCE_TYPES",
    "DatasetRecord",
    "DatasetRecordSource",
    "decode_columns",
    "records_of",
]

SOURCE_TYPES = ("TRACE", "HUMAN", "CODE", "DOCUMENT")


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


def records_of(columns: dict[str, list[Any]]) -> list[DatasetRecord]:
    """The rows of decoded columns as :class:`DatasetRecord` objects."""
    return [DatasetRecord(*row) for row in zip(*(columns[name] for name in COLUMNS))]
