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
        by_trace.setdefault(item[0].row[r.TRACE_ID], []).append(item)
    return [_trace_row(trace_id, items) for trace_id, items in sorted(by_trace.items())]


def _trace_row(trace_id: str, items: Sequence[tuple[SpanRecord, int]]) -> tuple:
    rows = [rec.row for rec, _ in items]
    # highest routing rank wins; on a tie the lowest experiment id (order-independent)
    rank, neg_experiment_id = max((rec.experiment.rank, -exp) for rec, exp in items)
    root = min(
        (row for row in rows if row[r.PARENT] is None),
        key=lambda row: (row[r.START], row[r.SPAN_ID]),
        default=None,
    )
    name, root_id, status, request, response = _root_fields(root) if root else _NO_ROOT
    return (
        trace_id,
        -neg_experiment_id,
        rank,
        name,
        root_id,
        status,
        min(row[r.START] for row in rows),
        max(row[r.END] for row in rows),
        request,
        response,
        sum(row[r.IN_TOK] or 0 for row in rows),
        sum(row[r.OUT_TOK] or 0 for row in rows),
        sum(row[r.TOTAL_TOK] or 0 for row in rows),
        sum(row[r.COST] or 0.0 for row in rows),
        len(rows),
        sum(1 for row in rows if row[r.STATUS] == r.STATUS_ERROR),
        _first(rows, root, r.SESSION),
        _first(rows, root, r.USER),
        min(row[r.RECEIVED] for row in rows),
        max(row[r.RECEIVED] for row in rows),
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
