"""What ``evaluate(data=...)`` accepts, turned into one list of :class:`Record`.

``data`` may be a Dataset (anything with ``dataset_id`` and ``records``, as
:mod:`spyglass.evaluator.datasets` makes), a pandas DataFrame, a list of dicts, or a list of
:class:`~spyglass.entities.Trace` (a list may mix dicts and traces). A dict row has
``inputs`` (a dict; required), and optionally ``expectations`` (a dict), ``outputs``,
``trace_id``, ``trace`` and ``dataset_record_id``; any other key is refused, since it is
most likely a misspelling. A DataFrame has the same columns; other columns (those of
``Dataset.to_df()`` or ``search_traces()``) are ignored. Dataset records and DataFrame rows
whose ``source_type`` is TRACE point at the trace they were made from (``source_id``), so
without ``predict_fn`` they are scored on that trace.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from spyglass.entities import Trace
from spyglass.errors import InvalidArgumentError

ROW_KEYS = ("inputs", "expectations", "outputs", "trace_id", "trace", "dataset_record_id")


@dataclass
class Record:
    """One row to evaluate, in the order given (``index``)."""

    index: int
    inputs: dict[str, Any]
    expectations: dict[str, Any] = field(default_factory=dict)
    outputs: Any = None
    has_outputs: bool = False
    trace_id: str | None = None
    trace: Trace | None = None
    dataset_record_id: str | None = None


@dataclass(frozen=True)
class DatasetInfo:
    """The dataset an evaluation ran on, as the run records it."""

    dataset_id: str
    name: str | None = None
    digest: str | None = None
    version: int | None = None


def normalize(data: Any) -> tuple[list[Record], DatasetInfo | None]:
    """The records of ``data`` (see the module docstring) and its dataset, if it is one."""
    if _is_dataset(data):
        return _from_dataset(data), _dataset_info(data)
    if _is_dataframe(data):
        records = [
            _from_mapping(i, row, strict=False) for i, row in enumerate(data.to_dict("records"))
        ]
    elif isinstance(data, Trace):
        raise InvalidArgumentError(
            "data is a single Trace; pass a list of traces, e.g. "
            "data=[trace] or data=spyglass.search_traces(...)"
        )
    elif isinstance(data, (list, tuple)):
        records = [_from_item(i, item) for i, item in enumerate(data)]
    else:
        raise InvalidArgumentError(
            f"data is a {type(data).__name__}; evaluate() takes a Dataset, a pandas "
            "DataFrame, a list of dicts with 'inputs' (and optional 'expectations', "
            "'outputs', 'trace_id'), or a list of Trace"
        )
    if not records:
        raise InvalidArgumentError("data holds no records; give at least one row to evaluate")
    return records, None


def from_trace(index: int, trace: Trace) -> Record:
    """A record scored on ``trace``: its root span's inputs and outputs, its expectations."""
    root = trace.data.root_span
    inputs = root.inputs if root is not None else None
    return Record(
        index=index,
        inputs=_inputs(inputs, f"trace {trace.info.trace_id}"),
        expectations=dict(trace.info.expectations),
        outputs=root.outputs if root is not None else None,
        has_outputs=root is not None,
        trace_id=trace.info.trace_id,
        trace=trace,
    )


# -- the kinds of data ---------------------------------------------------------------------------


def _is_dataset(data: Any) -> bool:
    return hasattr(data, "dataset_id") and hasattr(data, "records")


def _is_dataframe(data: Any) -> bool:
    return type(data).__name__ == "DataFrame" and hasattr(data, "to_dict")


def _dataset_info(dataset: Any) -> DatasetInfo:
    version = getattr(dataset, "version", None)
    return DatasetInfo(
        dataset_id=str(dataset.dataset_id),
        name=getattr(dataset, "name", None),
        digest=getattr(dataset, "digest", None),
        version=int(version) if version is not None else None,
    )


def _from_dataset(dataset: Any) -> list[Record]:
    records = []
    for i, item in enumerate(dataset.records):
        where = f"dataset record {item.dataset_record_id}"
        trace_id = item.source_id if str(item.source_type).upper() == "TRACE" else None
        outputs = getattr(item, "outputs", None)
        records.append(
            Record(
                index=i,
                inputs=_inputs(item.inputs, where),
                expectations=_expectations(item.expectations, where),
                outputs=outputs,
                has_outputs=outputs is not None,
                trace_id=trace_id or None,
                dataset_record_id=item.dataset_record_id,
            )
        )
    if not records:
        raise InvalidArgumentError(
            f"dataset {getattr(dataset, 'name', dataset.dataset_id)!r} "
            "has no records; merge some with dataset.merge_records(...) "
            "first"
        )
    return records


def _from_item(index: int, item: Any) -> Record:
    if isinstance(item, Trace):
        return from_trace(index, item)
    if isinstance(item, Mapping):
        return _from_mapping(index, item, strict=True)
    raise InvalidArgumentError(
        f"data[{index}] is a {type(item).__name__}; each row is a dict "
        "with 'inputs' (and optional 'expectations', 'outputs', "
        "'trace_id') or a Trace"
    )


def _from_mapping(index: int, row: Mapping[str, Any], strict: bool) -> Record:
    """A dict row, or a DataFrame row (``strict=False``: other columns are ignored)."""
    where = f"data[{index}]" if strict else f"data row {index}"
    if strict:
        unknown = sorted(str(k) for k in row if k not in ROW_KEYS)
        if unknown:
            raise InvalidArgumentError(
                f"{where} has unknown key(s) {', '.join(unknown)}; a row "
                f"may have {', '.join(ROW_KEYS)}"
            )
    trace = _present(row.get("trace"))
    if trace is not None and not isinstance(trace, Trace):
        raise InvalidArgumentError(
            f"{where}['trace'] is a {type(trace).__name__}, not a "
            "Trace; pass trace_id='<32 hex>' instead"
        )
    if "inputs" not in row and trace is not None:
        record = from_trace(index, trace)
        record.expectations.update(_expectations(_present(row.get("expectations")), where))
        return record
    if "inputs" not in row:
        raise InvalidArgumentError(
            f"{where} has no 'inputs'; every row needs an inputs dict, "
            "e.g. {'inputs': {'question': '...'}}"
        )
    trace_id = _present(row.get("trace_id")) or (trace.info.trace_id if trace else None)
    if trace_id is None and str(_present(row.get("source_type")) or "").upper() == "TRACE":
        trace_id = _present(row.get("source_id"))
    if trace_id is not None and not isinstance(trace_id, str):
        raise InvalidArgumentError(
            f"{where}['trace_id'] must be a trace id string (32 hex "
            f"characters), not {type(trace_id).__name__}"
        )
    outputs = _present(row.get("outputs"))
    record_id = _present(row.get("dataset_record_id"))
    return Record(
        index=index,
        inputs=_inputs(row["inputs"], where),
        expectations=_expectations(_present(row.get("expectations")), where),
        outputs=outputs,
        has_outputs=outputs is not None,
        trace_id=trace_id,
        trace=trace,
        dataset_record_id=str(record_id) if record_id else None,
    )


# -- checking fields -----------------------------------------------------------------------------


def _inputs(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidArgumentError(
            f"{where}: inputs must be a dict of argument name → value "
            f"(predict_fn is called as predict_fn(**inputs)), not a "
            f"{type(value).__name__}: {_short(value)}"
        )
    bad = [k for k in value if not isinstance(k, str)]
    if bad:
        raise InvalidArgumentError(
            f"{where}: inputs keys must be strings (argument names), not {bad[0]!r}"
        )
    return dict(value)


def _expectations(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidArgumentError(
            f"{where}: expectations must be a dict of name → expected "
            f"value, e.g. {{'expected_response': '...'}}, not a "
            f"{type(value).__name__}: {_short(value)}"
        )
    return {str(k): v for k, v in value.items()}


def _present(value: Any) -> Any:
    """None for a missing DataFrame cell (NaN/None/NaT), the value otherwise."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if type(value).__name__ in ("NaTType", "NAType"):
        return None
    return value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def records_needing_traces(records: Iterable[Record]) -> list[Record]:
    """Records that name a trace but do not hold it."""
    return [r for r in records if r.trace is None and r.trace_id]
