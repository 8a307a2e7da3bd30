"""What ``Dataset.merge_records`` accepts, turned into the columns a merge sends.

Accepted: a list of :class:`~spyglass.entities.Trace` (see ``from_traces.py``), a list of
dicts, a list of :class:`DatasetRecord` (copying records between datasets), a pandas
DataFrame with the columns ``inputs`` and optionally ``expectations``, ``outputs``,
``tags``, ``source`` (or ``source_type``/``source_id``), and the DataFrame
``spyglass.search_traces`` returns (its ``trace`` column: TRACE records). The columns of
``Dataset.to_df()`` are accepted too; its ids and times are ignored (the target dataset
assigns its own).

A record's ``source`` is a :class:`DatasetRecordSource`, a dict ``{"source_type": ...,
"source_id": ...}`` or just the type's name. Without one, the collector makes it HUMAN when
the record has expectations and CODE otherwise. Values must be JSON: anything else (NaN, a
set, a datetime, non-string keys) is refused with the record's number and the path of the
value, never converted silently. The finer checks (empty inputs, a TRACE source without a
trace id, tag values that are not strings) happen in the collector, which names the record
by the same number.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from spyglass.canonical_json import dumps_bytes
from spyglass.entities import Trace
from spyglass.errors import InvalidArgumentError
from spyglass.evaluator.datasets.from_traces import trace_rows
from spyglass.evaluator.datasets.records import SOURCE_TYPES, DatasetRecord, DatasetRecordSource
from spyglass.gc_pause import gc_paused
from spyglass.v1 import datasets_pb2 as pb

RECORD_KEYS = ("inputs", "expectations", "outputs", "tags", "source", "source_type", "source_id")
IGNORED_KEYS = ("dataset_record_id", "created_time", "last_update_time")
TRACE_FRAME_COLUMNS = {"trace_id", "trace"}  # spyglass.search_traces' DataFrame
CHUNK_RECORDS = 5_000
CHUNK_BYTES = 4 << 20
_SOURCE_VALUES = dict(pb.DatasetRecordColumns.SourceType.items())
_KNOWN_KEYS = frozenset(RECORD_KEYS + IGNORED_KEYS)
_SOURCE_KEYS = ("source", "source_type", "source_id")
_SOURCE_KEY_SET = frozenset(_SOURCE_KEYS)


@dataclass
class RecordColumns:
    """Records as the columns of ``DatasetRecordColumns``: per record, the JSON of each part
    (``b"null"`` when absent), its source type and id."""

    inputs: list[bytes] = field(default_factory=list)
    expectations: list[bytes] = field(default_factory=list)
    outputs: list[bytes] = field(default_factory=list)
    tags: list[bytes] = field(default_factory=list)
    source_type: list[int] = field(default_factory=list)
    source_id: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.inputs)

    def chunks(
        self, max_records: int = CHUNK_RECORDS, max_bytes: int = CHUNK_BYTES
    ) -> Iterator[pb.DatasetRecordColumns]:
        """Messages of at most ``max_records`` records and about ``max_bytes`` bytes."""
        start, size = 0, 0
        for i in range(len(self)):
            size += (
                len(self.inputs[i])
                + len(self.expectations[i])
                + len(self.outputs[i])
                + len(self.tags[i])
            )
            if i + 1 - start >= max_records or size >= max_bytes or i + 1 == len(self):
                yield self._slice(start, i + 1)
                start, size = i + 1, 0

    def _slice(self, start: int, end: int) -> pb.DatasetRecordColumns:
        return pb.DatasetRecordColumns(
            inputs=_array(self.inputs, start, end),
            expectations=_array(self.expectations, start, end),
            outputs=_array(self.outputs, start, end),
            tags=_array(self.tags, start, end),
            # protoc's stubs want the enum class; its values are the ints stored here
            source_type=self.source_type[start:end],  # type: ignore[arg-type]
            source_id=self.source_id[start:end],
        )


def _array(values: list[bytes], start: int, end: int) -> bytes:
    """One JSON array of the values from ``start`` to ``end``."""
    return b"[" + b",".join(values[start:end]) + b"]"


def to_columns(records: Any) -> RecordColumns:
    """The columns of ``records`` (module docstring); InvalidArgumentError naming the record
    and what to fix when one cannot be used."""
    items, traces = _prepared(records)
    return _columns_of(items, traces, 0, len(items))


def record_chunks(
    records: Any, max_records: int = CHUNK_RECORDS, max_bytes: int = CHUNK_BYTES
) -> Iterator[pb.DatasetRecordColumns]:
    """The columns of ``records`` as chunk messages, each made when it is asked for (a
    merge sends one while the next is made); a bad record raises as in :func:`to_columns`
    when its chunk is reached."""
    items, traces = _prepared(records)
    for start in range(0, len(items), max_records):
        end = min(start + max_records, len(items))
        yield from _columns_of(items, traces, start, end).chunks(max_records, max_bytes)


def _prepared(records: Any) -> tuple[list[Any], dict[int, dict[str, Any]]]:
    """The records as a list of items, and the record dicts of those that are traces."""
    if _is_dataframe(records):
        if set(records.columns) >= TRACE_FRAME_COLUMNS:
            items = list(records["trace"])
        else:
            _check_frame_columns(records)
            items = _frame_rows(records)
    elif isinstance(records, (Mapping, Trace, DatasetRecord, str, bytes)):
        raise InvalidArgumentError(
            f"merge_records takes a list of records, not a single {type(records).__name__}; "
            "wrap it in a list: merge_records([record])"
        )
    else:
        try:
            items = list(records)
        except TypeError:
            raise InvalidArgumentError(
                f"merge_records takes a list of traces or dicts, a list of DatasetRecord, or "
                f"a pandas DataFrame, not a {type(records).__name__}"
            ) from None
    traces = trace_rows([(i, item) for i, item in enumerate(items) if isinstance(item, Trace)])
    return items, traces


def _columns_of(
    items: list[Any], traces: dict[int, dict[str, Any]], start: int, end: int
) -> RecordColumns:
    """The columns of ``items[start:end]`` (``index`` counts from 0 over all items;
    messages count records from 1)."""
    columns = RecordColumns()
    with gc_paused():  # a few strings per record, no cycles (see gc_pause.py)
        for index in range(start, end):
            _append(columns, index, _row(index, items[index], traces))
    return columns


def _row(index: int, item: Any, traces: dict[int, dict[str, Any]]) -> Mapping[str, Any]:
    if isinstance(item, Trace):
        return traces[index]
    if isinstance(item, DatasetRecord):
        return {
            "inputs": item.inputs,
            "expectations": item.expectations,
            "outputs": item.outputs,
            "tags": item.tags,
            "source": item.source,
        }
    if isinstance(item, Mapping):
        return item
    raise InvalidArgumentError(
        f"record {index + 1} is a {type(item).__name__}; merge_records takes Trace objects, "
        "dicts with 'inputs' (and optional 'expectations', 'outputs', 'tags', 'source'), "
        "DatasetRecord objects, or a DataFrame"
    )


_NULL = b"null"


def _append(columns: RecordColumns, index: int, row: Mapping[str, Any]) -> None:
    if not _KNOWN_KEYS.issuperset(row):
        unknown = next(key for key in row if key not in _KNOWN_KEYS)
        raise InvalidArgumentError(
            f"record {index + 1} has the unknown key {unknown!r}; a record has "
            f"{', '.join(RECORD_KEYS[:5])} (or source_type and source_id)"
        )
    get = row.get
    inputs = get("inputs")
    if inputs is None:
        raise InvalidArgumentError(
            f"record {index + 1} has no inputs; give the app's arguments "
            "as a dict, e.g. {'inputs': {'question': '...'}}"
        )
    columns.inputs.append(_object_json(inputs, index, "inputs"))
    expectations, outputs, tags = get("expectations"), get("outputs"), get("tags")
    columns.expectations.append(
        _NULL if expectations is None else _object_json(expectations, index, "expectations")
    )
    columns.outputs.append(_NULL if outputs is None else _json(outputs, index, "outputs"))
    columns.tags.append(_NULL if tags is None else _object_json(tags, index, "tags"))
    source_type, source_id = None, None
    if not _SOURCE_KEY_SET.isdisjoint(row):
        source_type, source_id = _source(row, f"record {index + 1}")
    columns.source_type.append(_SOURCE_VALUES[source_type] if source_type else 0)
    columns.source_id.append(source_id or "")


def _json(value: Any, index: int, part: str) -> bytes:
    try:
        return dumps_bytes(value)
    except InvalidArgumentError:
        dumps_bytes(value, what=f"record {index + 1}: {part}")  # the same error, naming the record
        raise


def _object_json(value: Any, index: int, part: str) -> bytes:
    if type(value) is not dict:
        if not isinstance(value, Mapping):
            raise InvalidArgumentError(
                f"record {index + 1}: {part} must be a dict, got a {type(value).__name__} "
                f"({_short(value)})"
                + (
                    "; if it holds JSON text, decode it first with json.loads"
                    if isinstance(value, str)
                    else ""
                )
            )
        value = dict(value)
    return _json(value, index, part)


def _source(row: Mapping[str, Any], where: str) -> tuple[str | None, str | None]:
    """(type name or None for "let the collector decide", source id)."""
    source, source_type, source_id = (row.get(key) for key in _SOURCE_KEYS)
    if source is not None and (source_type is not None or source_id is not None):
        raise InvalidArgumentError(
            f"{where} has both 'source' and 'source_type'/'source_id'; give one or the other"
        )
    if isinstance(source, DatasetRecordSource):
        source_type, source_id = source.source_type, source.source_id
    elif isinstance(source, Mapping):
        extra = set(source) - {"source_type", "source_id"}
        if extra or "source_type" not in source:
            raise InvalidArgumentError(
                f"{where}: source must look like {{'source_type': 'HUMAN', 'source_id': "
                f"'alice'}}, got {_short(source)}"
            )
        source_type, source_id = source["source_type"], source.get("source_id")
    elif isinstance(source, str):
        source_type = source
    elif source is not None:
        raise InvalidArgumentError(
            f"{where}: source must be a DatasetRecordSource, a dict "
            f"or a source type name, got a {type(source).__name__}"
        )
    if source_type is None:
        if source_id is not None:
            raise InvalidArgumentError(
                f"{where} has a source_id but no source_type; say "
                f"which it is: one of {', '.join(SOURCE_TYPES)}"
            )
        return None, None
    name = str(source_type).upper()
    if name not in SOURCE_TYPES:
        raise InvalidArgumentError(
            f"{where}: source type {source_type!r} is not one of {', '.join(SOURCE_TYPES)}"
        )
    if source_id is not None and not isinstance(source_id, str):
        raise InvalidArgumentError(
            f"{where}: source_id must be a string, got a {type(source_id).__name__}"
        )
    return name, source_id


def _frame_rows(frame: Any) -> list[dict[str, Any]]:
    """The rows of a records DataFrame as dicts, empty cells (NaN, NA, None) as None."""
    cleaned = frame.astype(object).where(frame.notna(), None)
    rows: list[dict[str, Any]] = cleaned.to_dict("records")
    return rows


def _is_dataframe(value: Any) -> bool:
    return type(value).__name__ == "DataFrame" and hasattr(value, "to_dict")


def _check_frame_columns(frame: Any) -> None:
    unknown = [c for c in frame.columns if c not in RECORD_KEYS and c not in IGNORED_KEYS]
    if unknown:
        raise InvalidArgumentError(
            f"the DataFrame has the unknown column {unknown[0]!r}; a records DataFrame has "
            f"the columns {', '.join(RECORD_KEYS[:5])} (or source_type and source_id), or is "
            "the DataFrame spyglass.search_traces() returns"
        )
    if "inputs" not in frame.columns:
        raise InvalidArgumentError(
            "the DataFrame has no 'inputs' column; each row needs the app's arguments as a dict"
        )


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
