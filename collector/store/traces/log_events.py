"""Log records of spans in the store: kept in ``span_log_events``, applied to their span.

A span and its log records (GenAI events, other logs) travel separately and arrive in any
order, possibly at two collectors at once. Both write paths therefore meet in the same
rows, one after the other:

* log records (:func:`write_log_rows`): stored (re-deliveries skipped), then every stored
  span they belong to is recomputed from all of its rows;
* spans (:func:`attach_to_new_spans`, called by the span writer inside its transaction,
  after the trace upsert): the rows waiting for the spans just inserted are applied.

They serialise per trace: on SQLite the database write lock does it; on PostgreSQL both
hold the trace's row lock (the span writer through its upsert of ``traces``; the log writer
through :attr:`Statements.lock_traces`, which inserts a row without spans where the trace
has none yet and deletes it again before COMMIT), and each reads the other's rows only
after taking it, so neither can miss what the other committed.

Both paths compute a span's fields with the same pure functions of (the span's own
attributes and events, all its rows), so the result never depends on the order of arrival
and re-sent records change nothing. The span's own inputs/outputs win; log records fill
what is missing, and the root span's fields also refresh the trace's previews.

Rows are kept for a day (:data:`ROW_TTL_NS`), long enough for any span to arrive and for
all records of one call to meet, then deleted by the retention task (:func:`purge_expired`):
what they gave their span stays in the span. A row whose span never came goes with them.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
from sqlalchemy import Engine

from spyglass.collector.genai.events import LogRow, combine, merge, own_events
from spyglass.collector.genai.normalize import normalize
from spyglass.collector.store import rows as r
from spyglass.collector.store.attribute_refs import resolve as resolve_attributes
from spyglass.collector.store.engine import write_transaction
from spyglass.collector.store.rows import LogEventRow
from spyglass.collector.store.traces.aggregate import preview
from spyglass.collector.store.traces.statements import Statements, for_dialect

PAIRS_PER_QUERY = 500
ROW_TTL_NS = 24 * 3600 * 1_000_000_000
PURGE_BATCH = 5000  # rows per delete transaction, so the span writer never waits long

Pair = tuple[str, str]  # (trace_id, span_id)
K = TypeVar("K", str, Pair)


@dataclass(slots=True)
class LogWriteCounts:
    """New (not re-delivered) rows of one write: applied to a stored span, or waiting."""

    attached: int = 0
    pending: int = 0


def write_log_rows(
    cursor: Any, st: Statements, rows: Sequence[LogEventRow], now_ns: int | None = None
) -> LogWriteCounts:
    """Store ``rows`` and apply them to their spans that are stored; inside the caller's
    transaction (on SQLite, one begun with BEGIN IMMEDIATE)."""
    counts = LogWriteCounts()
    trace_ids = sorted({row.trace_id for row in rows})
    placeholders = _lock_traces(cursor, st, trace_ids, now_ns) if st.dialect != "sqlite" else []
    stored_rows = _log_rows(cursor, st, {(row.trace_id, row.span_id) for row in rows})
    new = _not_stored(rows, stored_rows)
    if new:
        cursor.executemany(
            st.insert_log_event, [row for added in new.values() for row in added.values()]
        )
    spans = _stored_spans(cursor, st, new.keys())
    for pair, added in new.items():
        span = spans.get(pair)
        if span is None:
            counts.pending += len(added)
            continue
        counts.attached += len(added)
        _refresh_stored_span(
            cursor, st, span, [*stored_rows.get(pair, {}).values(), *map(_log_row, added.values())]
        )
    if placeholders:
        cursor.execute(st.drop_trace_placeholders, [placeholders])
    return counts


def attach_to_new_spans(cursor: Any, st: Statements, span_rows: Sequence[tuple]) -> int:
    """Apply waiting log records to spans this transaction just inserted (``SpanRecord``
    rows); returns how many records were applied. One cheap query when none wait."""
    if not span_rows or cursor.execute(st.any_log_event).fetchone() is None:
        return 0
    by_pair = {(row[r.TRACE_ID], row[r.SPAN_ID]): row for row in span_rows}
    applied = 0
    for pair, found in _log_rows_of_traces(cursor, st, by_pair.keys()).items():
        row = by_pair[pair]
        fields = combine(row[r.INPUTS], row[r.OUTPUTS], row[r.EVENTS], merge(found.values()))
        _update_span(cursor, st, pair, row[r.PARENT], fields)
        applied += len(found)
    return applied


def purge_expired(
    engine: Engine, now_ns: int | None = None, ttl_ns: int = ROW_TTL_NS, batch: int = PURGE_BATCH
) -> int:
    """Delete rows received more than ``ttl_ns`` ago, ``batch`` rows per transaction;
    returns how many. Run by the retention task."""
    cutoff = (time.time_ns() if now_ns is None else now_ns) - ttl_ns
    statement = for_dialect(engine.dialect.name).purge_log_events
    deleted = 0
    while True:
        with write_transaction(engine) as connection:
            count = connection.exec_driver_sql(statement, (cutoff, batch)).rowcount
        deleted += count
        if count < batch:
            return deleted


# --- internals ----------------------------------------------------------------------------


def _lock_traces(
    cursor: Any, st: Statements, trace_ids: list[str], now_ns: int | None
) -> list[str]:
    """Take the row lock of each trace (PostgreSQL); returns the placeholders inserted."""
    now = time.time_ns() if now_ns is None else now_ns
    cursor.execute(st.lock_traces, [now, now, trace_ids])
    return [trace_id for trace_id, span_count in cursor.fetchall() if span_count == 0]


def _not_stored(
    rows: Sequence[LogEventRow],
    stored: dict[Pair, dict[str, LogRow]],
) -> dict[Pair, dict[str, LogEventRow]]:
    """``rows`` not stored yet (nor repeated within ``rows``), by pair and record key."""
    new: dict[Pair, dict[str, LogEventRow]] = {}
    for row in sorted(rows):
        pair = (row.trace_id, row.span_id)
        if row.record_key not in stored.get(pair, {}):
            new.setdefault(pair, {}).setdefault(row.record_key, row)
    return new


def _log_row(row: LogEventRow) -> LogRow:
    return LogRow(row.kind, row.time_unix_nano, row.seq, row.record_key, row.content)


def _chunks(items: Iterable[K]) -> Iterator[list[K]]:
    """``items`` in order, a bounded number at a time (SQLite binds each value separately)."""
    ordered = sorted(items)
    for i in range(0, len(ordered), PAIRS_PER_QUERY):
        yield ordered[i : i + PAIRS_PER_QUERY]


def _log_rows(
    cursor: Any, st: Statements, pairs: Collection[Pair]
) -> dict[Pair, dict[str, LogRow]]:
    """Stored rows of ``pairs``, by pair and record key."""
    found: dict[Pair, dict[str, LogRow]] = {}
    for chunk in _chunks(pairs):
        cursor.execute(st.log_events_of(len(chunk)), st.key_params(chunk))
        _collect(cursor.fetchall(), found, pairs)
    return found


def _log_rows_of_traces(
    cursor: Any, st: Statements, pairs: Collection[Pair]
) -> dict[Pair, dict[str, LogRow]]:
    """Stored rows of ``pairs``, looked up by trace (a trace's spans usually come together,
    so this probes the index far fewer times than by span)."""
    found: dict[Pair, dict[str, LogRow]] = {}
    for chunk in _chunks({trace_id for trace_id, _ in pairs}):
        cursor.execute(
            st.log_events_of_traces(len(chunk)), st.key_params([(trace_id,) for trace_id in chunk])
        )
        _collect(cursor.fetchall(), found, pairs)
    return found


def _collect(
    fetched: Sequence[Any], found: dict[Pair, dict[str, LogRow]], pairs: Collection[Pair]
) -> None:
    for trace_id, span_id, kind, when, seq, key, content in fetched:
        if (trace_id, span_id) in pairs:
            found.setdefault((trace_id, span_id), {})[key] = LogRow(kind, when, seq, key, content)


def _stored_spans(cursor: Any, st: Statements, pairs: Collection[Pair]) -> dict[Pair, tuple]:
    """(trace_id, span_id, parent, inputs, outputs, attributes, events) of stored ``pairs``."""
    found: dict[Pair, tuple] = {}
    for chunk in _chunks(pairs):
        cursor.execute(st.spans_of(len(chunk)), st.key_params(chunk))
        for span in cursor.fetchall():
            found[(span[0], span[1])] = tuple(span)
    return found


def _refresh_stored_span(cursor: Any, st: Statements, span: tuple, rows: list[LogRow]) -> None:
    """Recompute a stored span's inputs, outputs and events from its own attributes and
    events (normalised again, as at ingest) and all its log rows."""
    trace_id, span_id, parent, inputs, outputs, attributes, events = span
    own = own_events(events)
    # normalize matches events by name: one whose stored name is not a string matches none
    named = [(e["name"], e.get("attributes") or {}) for e in own if isinstance(e.get("name"), str)]
    canonical = normalize(_loads_object(resolve_attributes(attributes, inputs, outputs)), named)
    fields = combine(canonical.inputs, canonical.outputs, events, merge(rows))
    if fields != (inputs, outputs, events):
        _update_span(cursor, st, (trace_id, span_id), parent, fields)


def _update_span(
    cursor: Any,
    st: Statements,
    pair: Pair,
    parent: str | None,
    fields: tuple[str | None, str | None, str | None],
) -> None:
    inputs, outputs, events = fields
    cursor.execute(st.update_span_content, [inputs, outputs, events, *pair])
    if parent is None:  # a root: the trace's previews are its root span's
        cursor.execute(st.update_root_previews, [preview(inputs), preview(outputs), *pair])


def _loads_object(text: str | None) -> dict[str, Any]:
    try:
        value = orjson.loads(text) if text else {}
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}
