"""``search_traces``: traces of the active experiment, as Trace objects or a DataFrame."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from spyglass import session
from spyglass.entities import Trace
from spyglass.errors import InvalidArgumentError
from spyglass.extract import parse_field
from spyglass.extras import require_extra

COLUMNS = [
    "trace_id",
    "trace",
    "request_time",
    "execution_duration",
    "state",
    "inputs",
    "outputs",
    "expectations",
    "assessments",
    "tags",
    "trace_metadata",
]
PAGE_SIZE = 500


def search_traces(
    experiment_ids: Sequence[str] | None = None,
    filter_string: str | None = None,
    order_by: Sequence[str] | None = None,
    max_results: int | None = None,
    page_token: str | None = None,
    return_type: Literal["pandas", "list"] = "pandas",
    extract_fields: Sequence[str] | None = None,
) -> Any:
    """Traces matching ``filter_string``, newest first unless ``order_by`` says otherwise.

    ``experiment_ids=None`` means the active experiment; ``max_results=None`` returns every
    match (paging under the hood). Pending spans of this process are flushed first, so a
    trace is searchable as soon as the traced call returns.
    """
    if return_type not in ("pandas", "list"):
        raise InvalidArgumentError(f"return_type must be 'pandas' or 'list', not {return_type!r}")
    if return_type == "pandas":
        require_extra(
            "evaluator", "search_traces(return_type='pandas') (the default)", modules=("pandas",)
        )
    fields = [parse_field(f) for f in extract_fields or ()]
    session.run_before_read()
    ids = [str(e) for e in experiment_ids] if experiment_ids else [session.active_experiment_id()]
    traces: list[Trace] = []
    pages = session.client().search_trace_pages(
        ids,
        filter_string or "",
        list(order_by or ()),
        max_results,
        page_token or "",
        page_size=min(PAGE_SIZE, max_results or PAGE_SIZE),
    )
    for page, _token in pages:
        traces.extend(page)
    if max_results is not None:
        traces = traces[:max_results]
    if return_type == "list":
        return traces
    return _frame(traces, fields)


def _frame(traces: list[Trace], fields: list[Any]) -> Any:
    import pandas as pd

    rows = [_row(t) for t in traces]
    frame = pd.DataFrame(rows, columns=COLUMNS)
    for f in fields:
        frame[f.text] = pd.Series([f.value(t) for t in traces], index=frame.index, dtype=object)
    return frame


def _row(trace: Trace) -> list[Any]:
    info = trace.info
    return [
        info.trace_id,
        trace,
        info.request_time,
        info.execution_duration,
        info.state,
        trace.data.request,
        trace.data.response,
        info.expectations,
        info.assessments,
        info.tags,
        info.trace_metadata,
    ]
