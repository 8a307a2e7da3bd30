"""Dataset records made from traces: the root span's inputs and outputs, and the trace's
expectations as they are *now* in the store.

A Trace object is a snapshot: expectations logged after it was fetched are not on it. So
the expectations are read again, for all the traces at once (one search per 500 trace
ids, without spans), and a trace the store no longer has keeps the ones it carries.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from spyglass import session
from spyglass.entities import Trace
from spyglass.errors import InvalidArgumentError
from spyglass.evaluator.datasets.records import DatasetRecordSource

LOOKUP_CHUNK = 500  # trace ids per search (the filter language allows 1,000 IN values)


def trace_rows(traces: Sequence[tuple[int, Trace]]) -> dict[int, dict[str, Any]]:
    """{record index: record dict} for traces given with their positions in the merge."""
    current = current_expectations([trace.info.trace_id for _, trace in traces])
    return {index: _row(index, trace, current.get(trace.info.trace_id)) for index, trace in traces}


def current_expectations(trace_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """{trace id: {expectation name: value}} of the valid expectations stored now."""
    session.run_before_read()
    ids = sorted(set(trace_ids))
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), LOOKUP_CHUNK):
        chunk = ids[start : start + LOOKUP_CHUNK]
        listed = ", ".join(f"'{trace_id}'" for trace_id in chunk)
        pages = session.client().search_trace_pages(
            (), f"attributes.trace_id IN ({listed})", page_size=LOOKUP_CHUNK, include_spans=False
        )
        for page, _token in pages:
            found.update((t.info.trace_id, t.info.expectations) for t in page)
    return found


def _row(index: int, trace: Trace, expectations: dict[str, Any] | None) -> dict[str, Any]:
    trace_id = trace.info.trace_id
    where = f"record {index + 1} (trace {trace_id})"
    root = trace.data.root_span
    if root is None:
        raise InvalidArgumentError(
            f"{where} has no root span: the trace was fetched without spans, or its root "
            "span has not arrived yet; fetch it with spyglass.get_trace() or "
            "search_traces() once the traced call has returned"
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
        "source": DatasetRecordSource("TRACE", trace_id),
    }


def _kind(value: Any) -> str:
    if value is None:
        return "missing"
    if isinstance(value, dict):
        return "an empty dict"
    return f"a {type(value).__name__}"
