"""The dataset record a trace makes: the one rule behind ``dataset.merge_records(traces)`` in
the SDK and the collector's MergeTraces (the web UI's "Export traces to evaluation dataset").

A trace's record holds its root span's inputs (which must be a non-empty dict: they are
what identifies the record in its dataset) and outputs, the trace's expectations, and the
source TRACE with the trace id. It has no tags. Which expectations are current is the
caller's business: the SDK reads them again from the store (a Trace object is a snapshot),
the collector reads the trace from the store itself.
"""

from __future__ import annotations

from typing import Any

from spyglass.entities import Trace
from spyglass.errors import InvalidArgumentError

SOURCE_TYPE = "TRACE"


def trace_record(
    index: int, trace: Trace, expectations: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The record dict of ``trace``, the record number ``index + 1`` of its merge, with
    ``expectations`` (None: the ones the trace carries). Keys: inputs, outputs,
    expectations, source_type, source_id. InvalidArgumentError naming the record and the
    trace when the trace has no root span or its inputs are not a non-empty dict."""
    trace_id = trace.info.trace_id
    where = f"record {index + 1} (trace {trace_id})"
    root = trace.data.root_span
    if root is None:
        raise InvalidArgumentError(
            f"{where} has no root span: its root span has not arrived yet, or the trace "
            "was fetched without spans; merge it once the traced call has returned (in "
            "Python, fetch it with spyglass.get_trace() or search_traces())"
        )
    if not isinstance(root.inputs, dict) or not root.inputs:
        raise InvalidArgumentError(
            f"{where}: the root span's inputs are {_kind(root.inputs)}, but a record needs a "
            "non-empty dict of inputs; merge a dict instead, e.g. "
            "{'inputs': {'question': ...}, 'source': DatasetRecordSource('TRACE', trace_id)}"
        )
    return {
        "inputs": root.inputs,
        "outputs": root.outputs,
        "expectations": trace.info.expectations if expectations is None else expectations,
        "source_type": SOURCE_TYPE,
        "source_id": trace_id,
    }


def _kind(value: Any) -> str:
    if value is None:
        return "missing"
    if isinstance(value, dict):
        return "an empty dict"
    return f"a {type(value).__name__}"
