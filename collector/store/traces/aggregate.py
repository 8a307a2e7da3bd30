"""Per-trace aggregates of one write batch, merged into ``traces`` by the upsert.

Only spans the batch newly inserted are counted, so re-delivered spans never inflate
counts and two writers sharing a trace each add exactly their own spans.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from spyglass.collector.store import rows as r
from spyglass.collector.store.rows import SpanRecord

PREVIEW_CHARS = 1000
_NO_ROOT = (None, None, "IN_PROGRESS", None, None)


def trace_rows(batch: Iterable[tuple[SpanRecord, int]]) -> list[tuple]:
    """One ``TRACE_COLUMNS`` tuple per trace, from (record, resolved experiment id) pairs."""
    by_trace: dict[str, list[tuple[SpanRecord, int]]] = {}
    for item in batch:
        trace_id = item[0].row[r.TRACE_ID]
        items = by_trace.get(trace_id)
        if items is None:
            by_trace[trace_id] = [item]
        else:
            items.append(item)
    return [_trace_row(trace_id, by_trace[trace_id]) for trace_id in sorted(by_trace)]


def _trace_row(trace_id: str, items: Sequence[tuple[SpanRecord, int]]) -> tuple:
    """The aggregate of one trace's spans, in one pass over them (the writer's hot path)."""
    # highest routing rank wins; on a tie the lowest experiment id (order-independent)
    best = (-1, 0)
    root: tuple | None = None
    first = items[0][0].row
    start, end = first[r.START], first[r.END]
    received_min = received_max = first[r.RECEIVED]
    in_tok = out_tok = total_tok = errors = 0
    cost = 0.0
    for rec, experiment_id in items:
        row = rec.row
        choice = (rec.experiment.rank, -experiment_id)
        if choice > best:
            best = choice
        if row[r.PARENT] is None and (
            root is None or (row[r.START], row[r.SPAN_ID]) < (root[r.START], root[r.SPAN_ID])
        ):
            root = row
        if row[r.START] < start:
            start = row[r.START]
        if row[r.END] > end:
            end = row[r.END]
        received = row[r.RECEIVED]
        if received < received_min:
            received_min = received
        elif received > received_max:
            received_max = received
        in_tok += row[r.IN_TOK] or 0
        out_tok += row[r.OUT_TOK] or 0
        total_tok += row[r.TOTAL_TOK] or 0
        cost += row[r.COST] or 0.0
        if row[r.STATUS] == r.STATUS_ERROR:
            errors += 1
    rows = [rec.row for rec, _ in items]
    name, root_id, status, request, response = _root_fields(root) if root else _NO_ROOT
    return (
        trace_id,
        -best[1],
        best[0],
        name,
        root_id,
        status,
        start,
        end,
        request,
        response,
        in_tok,
        out_tok,
        total_tok,
        cost,
        len(items),
        errors,
        _first(rows, root, r.SESSION),
        _first(rows, root, r.USER),
        received_min,
        received_max,
    )


def _root_fields(root: tuple) -> tuple:
    status = "ERROR" if root[r.STATUS] == r.STATUS_ERROR else "OK"
    return (
        root[r.NAME],
        root[r.SPAN_ID],
        status,
        preview(root[r.INPUTS]),
        preview(root[r.OUTPUTS]),
    )


def preview(text: str | None) -> str | None:
    """A trace's request/response preview of its root span's inputs/outputs JSON."""
    return text if text is None or len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS]


def _first(rows: Sequence[tuple], root: tuple | None, index: int) -> str | None:
    """The root span's value, else the first span's that has one."""
    if root is not None and root[index] is not None:
        return root[index]
    return next((row[index] for row in rows if row[index] is not None), None)
