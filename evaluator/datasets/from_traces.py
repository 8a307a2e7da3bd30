"""Dataset records made from traces: the root span's inputs and outputs, and the trace's
expectations as they are *now* in the store. The record itself is the rule of
:mod:`spyglass.trace_records`, which the collector's MergeTraces follows too.

A Trace object is a snapshot: expectations logged after it was fetched are not on it. So
the expectations are read again, for all the traces at once (one search per 500 trace
ids, without spans), and a trace the store no longer has keeps the ones it carries.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from spyglass import session
from spyglass.entities import Trace
from spyglass.trace_records import trace_record

LOOKUP_CHUNK = 500  # trace ids per search (the filter language allows 1,000 IN values)


def trace_rows(traces: Sequence[tuple[int, Trace]]) -> dict[int, dict[str, Any]]:
    """{record index: record dict} for traces given with their positions in the merge."""
    current = current_expectations([trace.info.trace_id for _, trace in traces])
    return {
        index: trace_record(index, trace, current.get(trace.info.trace_id))
        for index, trace in traces
    }


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
