"""Dataset records as file content: JSON Lines, CSV and Parquet.

One writer for both places that write dataset files: the SDK's ``export``
(``spyglass.evaluator.datasets.files``) and the web UI's downloads, which must not import
the evaluator. Records come as decoded columns (:func:`decode_columns`: {column: values}
in :data:`COLUMNS` order, plain Python values) and leave as bytes, page by page for JSON
Lines and CSV (so a large dataset streams), whole for Parquet.

JSON Lines holds one record per line as a JSON object with :data:`COLUMNS`. CSV and Parquet
hold the same columns with ``inputs``, ``expectations``, ``outputs`` and ``tags`` as JSON
text (nested values and integers of any size survive); an empty ``outputs`` cell means "no
outputs". Parquet needs pyarrow, which only the ``[evaluator]`` extra installs:
:func:`parquet_bytes` raises :class:`~spyglass.extras.MissingExtraError` naming it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

from spyglass import canonical_json
from spyglass.extras import require_extra
from spyglass.gc_pause import gc_paused
from spyglass.v1 import datasets_pb2 as pb

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
JSON_COLUMNS = ("inputs", "expectations", "outputs", "tags")
FORMATS = ("jsonl", "csv", "parquet")
MEDIA_TYPES = {
    "jsonl": "application/x-ndjson",
    "csv": "text/csv; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
}
_SOURCE_NAMES = {value: name for name, value in pb.DatasetRecordColumns.SourceType.items()}


def decode_columns(columns: pb.DatasetRecordColumns) -> dict[str, list[Any]]:
    """A page of records as {column name: values}, JSON decoded, in :data:`COLUMNS` order."""
    loads = canonical_json.loads
    count = len(columns.dataset_record_id)
    with gc_paused():  # a page builds ~10^5 containers (see gc_pause.py)
        return {
            "dataset_record_id": list(columns.dataset_record_id),
            "inputs": loads(columns.inputs) if count else [],
            "expectations": loads(columns.expectations) if count else [],
            "outputs": loads(columns.outputs) if count else [],
            "tags": loads(columns.tags) if count else [],
            "source_type": [_SOURCE_NAMES[value] for value in columns.source_type],
            "source_id": [text or None for text in columns.source_id],
            "created_time": list(columns.create_time_ms),
            "last_update_time": list(columns.last_update_time_ms),
        }


def jsonl_bytes(columns: Mapping[str, Sequence[Any]]) -> bytes:
    """The records as JSON Lines (one object per record, each line ending in ``\\n``)."""
    rows = zip(*(columns[name] for name in COLUMNS))
    return "".join(canonical_json.dumps(dict(zip(COLUMNS, row))) + "\n" for row in rows).encode()


def csv_bytes(columns: Mapping[str, Sequence[Any]], header: bool = True) -> bytes:
    """The records as CSV rows (JSON columns as JSON text, no outputs as an empty cell),
    after the header line when ``header``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if header:
        writer.writerow(COLUMNS)
    flat = _flat(columns)
    writer.writerows(
        ["" if value is None else value for value in row]
        for row in zip(*(flat[name] for name in COLUMNS))
    )
    return out.getvalue().encode()


def parquet_bytes(columns: Mapping[str, Sequence[Any]]) -> bytes:
    """The records as one Parquet file (JSON columns as JSON text, no outputs as null);
    MissingExtraError when pyarrow (the ``[evaluator]`` extra) is not installed."""
    require_extra("evaluator", "Parquet files of dataset records", modules=("pyarrow",))
    import pyarrow as pa  # type: ignore[import-untyped]
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    flat = _flat(columns)
    types = {"created_time": pa.int64(), "last_update_time": pa.int64()}
    table = pa.table(
        {name: pa.array(list(flat[name]), type=types.get(name, pa.string())) for name in COLUMNS}
    )
    out = io.BytesIO()
    pq.write_table(table, out)
    return out.getvalue()


def _flat(columns: Mapping[str, Sequence[Any]]) -> Mapping[str, Sequence[Any]]:
    """The columns with the JSON ones as JSON text (None for no outputs)."""
    flat: dict[str, Sequence[Any]] = dict(columns)
    for name in JSON_COLUMNS:
        flat[name] = [
            None if name == "outputs" and value is None else canonical_json.dumps(value)
            for value in columns[name]
        ]
    return flat
