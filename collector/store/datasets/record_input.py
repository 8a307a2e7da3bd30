"""The records of a MergeRecords stream, checked, in canonical form, and merged (pure: no
database).

Every JSON part of a record is kept as canonical text (compact, object keys sorted; see
``spyglass.canonical_json``): the inputs' text is what their hash identifies, and the
content hash, which the dataset digest sums, is taken over the canonical parts. Merging a
record onto another with the same inputs (a repeat within one merge, or a stored record)
merges expectations and tags key by key, the newer value winning, replaces the outputs
when the newer record has some, and keeps the older record's source.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from spyglass import canonical_json
from spyglass.collector.store.datasets.digest import content_hash
from spyglass.collector.store.evaluation.assessments import check_trace_id
from spyglass.collector.store.text import check_length
from spyglass.errors import InvalidArgumentError
from spyglass.v1 import datasets_pb2 as pb

MAX_RECORDS_PER_MERGE = 1_000_000
MAX_SOURCE_ID_LENGTH = 256
SOURCE_NAMES = {value: name for name, value in pb.DatasetRecordColumns.SourceType.items() if value}


@dataclass(slots=True)
class RecordState:
    """A record's content as canonical JSON texts, and its source."""

    inputs: str
    expectations: str
    outputs: str | None
    tags: str
    source_type: str
    source_id: str | None

    def content_hash(self) -> str:
        return content_hash(
            self.inputs,
            self.expectations,
            self.outputs,
            self.tags,
            self.source_type,
            self.source_id,
        )


@dataclass(slots=True)
class IncomingRecord:
    """One record of a merge, checked: ``index`` counts from 0 across the whole stream
    (messages count records from 1).
    Inputs and outputs are canonical text; expectations and tags stay dicts until the
    record is written, since merging them key by key needs them parsed."""

    index: int
    input_hash: str
    inputs: str
    expectations: dict[str, Any]
    outputs: str | None  # None: not given (a stored record keeps its outputs)
    tags: dict[str, str]
    source_type: str
    source_id: str | None

    def brings_content(self) -> bool:
        """Whether merging it onto a stored record could change anything."""
        return bool(self.expectations or self.tags) or self.outputs is not None

    def state(self) -> RecordState:
        """Its state as a new record."""
        canonical = canonical_json.canonical_parsed
        return RecordState(
            self.inputs,
            canonical(self.expectations),
            self.outputs,
            canonical(self.tags),
            self.source_type,
            self.source_id,
        )


def read_records(chunks: Iterable[pb.DatasetRecordColumns], start: int = 0) -> list[IncomingRecord]:
    """Every record of the chunks, checked, in stream order, numbered from ``start``;
    InvalidArgumentError naming the record number and what to fix for the first bad one.
    Each JSON column of a chunk is one array, parsed in one call."""
    records: list[IncomingRecord] = []
    for chunk in chunks:
        first = start + len(records)
        _check_output_only(chunk)
        inputs = _array(chunk.inputs, first, "inputs", None)
        count = len(inputs)
        if first + count > MAX_RECORDS_PER_MERGE:
            raise InvalidArgumentError(
                f"a merge holds at most {MAX_RECORDS_PER_MERGE:,} "
                "records; split the records into several merges"
            )
        parsed = [
            inputs,
            *(
                _array(getattr(chunk, part), first, part, count)
                for part in ("expectations", "outputs", "tags")
            ),
        ]
        kinds = _listed(chunk.source_type, 0, first, "source_type", count)
        origins = _listed(chunk.source_id, "", first, "source_id", count)
        for offset, row in enumerate(zip(*parsed, kinds, origins)):
            records.append(_record(first + offset, *row))
    return records


def fold(records: list[IncomingRecord]) -> dict[str, IncomingRecord]:
    """The records by input hash, a repeat merged onto the first record with its inputs
    (dict order: each hash's first appearance)."""
    folded: dict[str, IncomingRecord] = {}
    for record in records:
        first = folded.get(record.input_hash)
        if first is None:
            folded[record.input_hash] = record
            continue
        first.expectations = {**first.expectations, **record.expectations}
        first.tags = {**first.tags, **record.tags}
        if record.outputs is not None:
            first.outputs = record.outputs
    return folded


def merge_onto(
    stored: RecordState,
    record: IncomingRecord,
    stored_expectations: dict[str, Any] | None,
    stored_tags: dict[str, str] | None,
) -> RecordState:
    """The state of a stored record after merging ``record`` onto it. The stored
    expectations and tags come parsed (a merge parses them all in one call); None when the
    record brings none, so they stay as they are."""
    canonical = canonical_json.canonical_parsed
    expectations, tags = stored.expectations, stored.tags
    if stored_expectations is not None and record.expectations:
        expectations = canonical({**stored_expectations, **record.expectations})
    if stored_tags is not None and record.tags:
        tags = canonical({**stored_tags, **record.tags})
    outputs = stored.outputs if record.outputs is None else record.outputs
    return RecordState(
        stored.inputs, expectations, outputs, tags, stored.source_type, stored.source_id
    )


# -- one record --------------------------------------------------------------------------


def _check_output_only(chunk: pb.DatasetRecordColumns) -> None:
    if chunk.dataset_record_id or chunk.create_time_ms or chunk.last_update_time_ms:
        raise InvalidArgumentError(
            "dataset_record_id, create_time_ms and last_update_time_ms "
            "are output only; leave them empty in a merge"
        )


def _array(data: bytes, first: int, part: str, count: int | None) -> list[Any]:
    """A JSON column: one array with an entry per record (``count`` of them; None: any
    number, for ``inputs``, which sets it). Empty: no record has this part."""
    if not data:
        if count is None:
            raise InvalidArgumentError(
                f"the chunk starting at record {first + 1} has no inputs; "
                "every record needs inputs, a JSON object such as "
                '{"question": "..."}'
            )
        return [None] * count
    try:
        values = canonical_json.loads(data)
    except ValueError as exc:
        raise InvalidArgumentError(
            f"the {part} of the chunk starting at record {first + 1} are "
            f"not valid JSON ({exc}); send a JSON array with one entry "
            "per record"
        ) from None
    if type(values) is not list:
        raise InvalidArgumentError(
            f"the {part} of the chunk starting at record {first + 1} are "
            f"{_describe(values)}, not a JSON array with one entry per "
            "record"
        )
    if count is not None and len(values) != count:
        raise InvalidArgumentError(
            f"the chunk starting at record {first + 1} has {count} inputs "
            f"but {len(values)} {part}; give one entry per record "
            "(null for none), or leave the column empty"
        )
    return values


def _listed(values: Sequence[Any], default: Any, first: int, part: str, count: int) -> list[Any]:
    """A repeated column: one entry per record, or empty for ``default`` everywhere."""
    if not values:
        return [default] * count
    if len(values) != count:
        raise InvalidArgumentError(
            f"the chunk starting at record {first + 1} has {count} inputs "
            f"but {len(values)} {part}; give one entry per record, or "
            "leave the column empty"
        )
    return list(values)


def _record(
    index: int,
    inputs: Any,
    expectations: Any,
    outputs: Any,
    tags: Any,
    source_type: int,
    source_id: str,
) -> IncomingRecord:
    if type(inputs) is not dict or not inputs:
        if inputs is None:
            raise InvalidArgumentError(
                f"record {index + 1}: inputs is missing; every record needs "
                'inputs, a JSON object such as {"question": "..."}'
            )
        raise InvalidArgumentError(
            f"record {index + 1}: inputs must be a non-empty JSON object (a dict of argument "
            f'names to values, e.g. {{"question": "..."}}), got {_describe(inputs)}'
        )
    expectations = _object(expectations, index, "expectations")
    tags = _object(tags, index, "tags")
    for key, value in tags.items():
        if type(value) is not str:
            raise InvalidArgumentError(
                f"record {index + 1}: tag {key!r} has {_describe(value)} as "
                "its value; tag values are strings"
            )
    canonical = canonical_json.canonical_parsed
    outputs_text = None if outputs is None else canonical(outputs)
    kind, origin = _source(index, source_type, source_id or None, bool(expectations))
    canonical_inputs = canonical(inputs)
    return IncomingRecord(
        index,
        canonical_json.sha256_hex(canonical_inputs),
        canonical_inputs,
        expectations,
        outputs_text,
        tags,
        kind,
        origin,
    )


def _object(value: Any, index: int, part: str) -> dict[str, Any]:
    if value is None:
        return {}
    if type(value) is not dict:
        raise InvalidArgumentError(
            f"record {index + 1}: {part} must be a JSON object "
            f"({{name: value}}), got {_describe(value)}"
        )
    return value


def _source(
    index: int, source_type: int, source_id: str | None, has_expectations: bool
) -> tuple[str, str | None]:
    if source_type == 0:
        return ("HUMAN" if has_expectations else "CODE"), source_id
    where = f"record {index + 1}"
    kind = SOURCE_NAMES.get(source_type)
    if kind is None:
        raise InvalidArgumentError(
            f"{where}: source_type {source_type} is not known; use "
            f"one of {', '.join(SOURCE_NAMES.values())}"
        )
    check_length(source_id, MAX_SOURCE_ID_LENGTH, f"{where}: source_id")
    if kind == "TRACE":
        if not source_id:
            raise InvalidArgumentError(
                f"{where}: a TRACE record needs the trace id as its source_id"
            )
        return kind, check_trace_id(source_id, f"{where}: source_id")
    if kind == "DOCUMENT" and not source_id:
        raise InvalidArgumentError(
            f"{where}: a DOCUMENT record needs the document's id as its source_id"
        )
    return kind, source_id


def _describe(value: Any) -> str:
    kind = {
        dict: "an empty object",
        list: "an array",
        str: "a string",
        bool: "a boolean",
        type(None): "null",
    }.get(type(value), "a number")
    if isinstance(value, dict) and value:
        kind = "an object"
    text = canonical_json.dumps(value)
    return f"{kind} ({text if len(text) <= 40 else text[:37] + '...'})"
