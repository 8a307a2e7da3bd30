"""Trace queries behind the query API: paged search, reads with spans, tags, metadata, deletes.

Search pages use keyset pagination (:mod:`spyglass.collector.store.paging`). A page token
holds the sort-key values of the page's last trace, a snapshot bound (the highest ingest sequence
``traces.id`` the first page's statement could see) and a fingerprint of the search it belongs
to. Traces that arrive while a client pages therefore never appear in, or shift, later pages
(with one writer; two collectors committing out of id order on one PostgreSQL database can let
a trace committed just after the first page, with a lower id, show up later); the
default order (newest first by ``traces.id``, which never changes) also keeps a trace from
repeating when a late root span moves its start time. With a user-chosen sort key that can
change (``attributes.timestamp_ms``, a tag), a trace whose key changes mid-pagination may
move across the token, as in any keyset pagination.

Each page costs a constant number of statements, whatever its size (up to 500 traces): the
page's trace rows, then their tags, metadata, assessments and (when asked) spans, one
``IN`` query each, never one per trace.

Deletes remove a trace's row, spans, tags, metadata and assessments together, in
transactions of at most :data:`DELETE_BATCH` traces so that a huge delete never holds the
write lock for long.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite

from spyglass.collector.store.attribute_refs import resolve as resolve_attributes
from spyglass.collector.store.engine import write_transaction
from spyglass.collector.store.evaluation.assessments import assessments_for_traces
from spyglass.collector.store.ids import (
    parse_experiment_id,
    parse_experiment_ids,
    parse_trace_id,
    require_experiment,
)
from spyglass.collector.store.models import (
    AssessmentRow,
    SpanRow,
    TraceMetadata,
    TraceRow,
    TraceTag,
)
from spyglass.collector.store.paging import (
    SortKey,
    decode_token,
    encode_token,
    fingerprint,
    keyset_after,
)
from spyglass.collector.store.text import check_key
from spyglass.collector.store.traces import resources
from spyglass.collector.store.traces.filters import compile_filter, compile_order_by
from spyglass.errors import InvalidArgumentError, NotFoundError
from spyglass.v1 import common_pb2
from spyglass.v1 import traces_pb2 as pb

PAGE_SIZE_DEFAULT = 100
PAGE_SIZE_MAX = 1000
DELETE_BATCH = 500
IN_CHUNK = 1000  # ids per IN (...) list; pages are at most PAGE_SIZE_MAX traces

_T = TraceRow.__table__.c
_STATES = {
    "OK": pb.TraceInfo.OK,
    "ERROR": pb.TraceInfo.ERROR,
    "IN_PROGRESS": pb.TraceInfo.IN_PROGRESS,
}
_NS_PER_MS = 1_000_000


# -- search --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Search:
    """A compiled search: WHERE clause, sort keys and the fingerprint its tokens carry."""

    where: tuple[ColumnElement[bool], ...]
    order: tuple[ColumnElement, ...]
    keys: tuple[SortKey, ...]
    include_spans: bool
    fingerprint: str


@dataclass(frozen=True)
class Page:
    """One page of results and the token resuming after it ("" when nothing follows)."""

    traces: list[pb.Trace]
    next_token: str


def compile_search(
    dialect: str,
    experiment_ids: Sequence[str],
    filter_text: str,
    order_by: Sequence[str],
    include_spans: bool,
) -> Search:
    """Check and compile a search once; every page of it reuses the result.

    Raises InvalidArgumentError (bad experiment id) or InvalidFilterError (bad filter or sort
    key, with a caret under the spot).
    """
    ids = parse_experiment_ids(experiment_ids)
    where: list[ColumnElement[bool]] = [] if not ids else [_T.experiment_id.in_(ids)]
    condition = compile_filter(filter_text, dialect)
    if condition is not None:
        where.append(condition)
    order = compile_order_by(order_by, dialect) if order_by else [_T.id.desc()]
    return Search(
        tuple(where),
        tuple(order),
        tuple(SortKey.of(c) for c in order),
        include_spans,
        fingerprint(ids, filter_text, list(order_by)),
    )


def search_page(engine: Engine, search: Search, page_token: str, limit: int) -> Page:
    """Up to ``limit`` traces after ``page_token`` ("" = the first page)."""
    keys = [key.expr.label(f"sort_{i}") for i, key in enumerate(search.keys)]
    query = select(TraceRow.__table__, *keys).where(*search.where)
    if page_token:
        token = decode_token(page_token, search.fingerprint)
        if len(token["after"]) != len(search.keys) or not isinstance(token.get("snap"), int):
            raise InvalidArgumentError(
                "page_token does not fit this search; start again without a page token"
            )
        snapshot = token["snap"]
        query = query.where(_T.id <= snapshot, keyset_after(search.keys, token["after"]))
    else:  # the statement sees what is committed now; its newest id bounds later pages
        newest = select(func.max(_T.id)).scalar_subquery()
        query = query.add_columns(newest.label("snapshot"))
        snapshot = None
    query = query.order_by(*search.order).limit(limit + 1)
    with engine.connect() as connection:
        rows = connection.execute(query).all()
        more = len(rows) > limit
        rows = rows[:limit]
        traces = load_traces(connection, rows, search.include_spans)
    if not (more and rows):
        return Page(traces, "")
    last = rows[-1]._mapping
    snapshot = snapshot if snapshot is not None else last["snapshot"]
    after = [last[f"sort_{i}"] for i in range(len(keys))]
    return Page(traces, encode_token({"q": search.fingerprint, "snap": snapshot, "after": after}))


# -- reads ---------------------------------------------------------------------------------


def get_trace(engine: Engine, trace_id: str) -> pb.Trace:
    """One trace with its spans; NotFoundError until a span of it has been stored."""
    trace_id = parse_trace_id(trace_id)
    found = batch_get_traces(engine, [trace_id])
    if not found:
        raise NotFoundError(
            f"trace {trace_id} not found: no span of it is stored. Check the "
            "id; a trace appears once its exporter has flushed a span"
        )
    return found[0]


def batch_get_traces(engine: Engine, trace_ids: Sequence[str]) -> list[pb.Trace]:
    """The traces with spans, in the order asked; unknown ids are left out."""
    wanted = [parse_trace_id(t) for t in trace_ids]
    unique = list(dict.fromkeys(wanted))
    with engine.connect() as connection:
        rows: list[Any] = []
        for chunk in _chunks(unique, IN_CHUNK):
            rows += connection.execute(
                select(TraceRow.__table__).where(_T.trace_id.in_(chunk))
            ).all()
        traces = load_traces(connection, rows, include_spans=True)
    by_id = {t.info.trace_id: t for t in traces}
    return [by_id[t] for t in wanted if t in by_id]


def load_traces(
    connection: Connection,
    rows: Sequence[Any],
    include_spans: bool,
) -> list[pb.Trace]:
    """Trace messages for ``traces`` rows, with their tags, metadata, assessments and
    (optionally) spans: one query per kind of detail, whatever the number of rows."""
    if not rows:
        return []
    ids = [row.trace_id for row in rows]
    tags = _key_values(connection, TraceTag, ids)
    metadata = _key_values(connection, TraceMetadata, ids)
    assessments = assessments_for_traces(connection, ids)
    spans = _spans(connection, ids) if include_spans else {}
    traces = []
    for row in rows:
        info = trace_info(row)
        info.tags.update(tags.get(row.trace_id, {}))
        info.trace_metadata.update(metadata.get(row.trace_id, {}))
        info.assessments.extend(assessments.get(row.trace_id, ()))
        traces.append(pb.Trace(info=info, spans=spans.get(row.trace_id, ())))
    return traces


def trace_info(row: Any) -> pb.TraceInfo:
    """A ``traces`` row as a TraceInfo (without tags, metadata and assessments)."""
    info = pb.TraceInfo(
        trace_id=row.trace_id,
        experiment_id=str(row.experiment_id),
        request_time=(row.start_time_ns or 0) // _NS_PER_MS,
        state=_STATES.get(row.status, pb.TraceInfo.STATE_UNSPECIFIED),
        ingest_sequence=row.id,
        token_usage=common_pb2.TokenUsage(
            input_tokens=row.input_tokens,
            output_tokens=row.output_tokens,
            total_tokens=row.total_tokens,
        ),
        cost=row.cost,
        span_count=row.span_count,
        error_count=row.error_count,
    )
    if row.start_time_ns is not None and row.end_time_ns is not None:
        info.execution_duration_ms = (row.end_time_ns - row.start_time_ns) // _NS_PER_MS
    for field in ("name", "request_preview", "response_preview", "session_id", "user_id"):
        value = getattr(row, field)
        if value is not None:
            setattr(info, field, value)
    return info


_SPAN_OPTIONAL = (
    "parent_span_id",
    "inputs",
    "outputs",
    "events",
    "links",
    "model",
    "provider",
    "cost",
    "session_id",
    "user_id",
)


def span_message(row: Any, pairs: dict[str, tuple] | None = None) -> pb.Span:
    """A ``spans`` row as the API message (JSON columns passed on as text, the attributes
    with the values they share with ``inputs``/``outputs`` put back, and the resource and
    scope from ``pairs`` (:func:`resources.lookup`) when the row names them by key)."""
    span = pb.Span(
        trace_id=row.trace_id,
        span_id=row.span_id,
        name=row.name,
        kind=row.kind,
        span_type=row.span_type,
        start_time_ns=row.start_time_ns,
        end_time_ns=row.end_time_ns,
        status_code=row.status_code,
        status_message=row.status_message or "",
        attributes=resolve_attributes(row.attributes, row.inputs, row.outputs),
    )
    for field in _SPAN_OPTIONAL:
        value = getattr(row, field)
        if value is not None:
            setattr(span, field, value)
    resource, scope = resources.expand(row.resource, row.scope, pairs or {})
    if resource is not None:
        span.resource = resource
    if scope is not None:
        span.scope = scope
    for field in ("input_tokens", "output_tokens", "total_tokens"):
        value = getattr(row, field)
        if value is not None:
            setattr(span.token_usage, field, value)
    return span


def _spans(connection: Connection, ids: list[str]) -> dict[str, list[pb.Span]]:
    out: dict[str, list[pb.Span]] = defaultdict(list)
    s = SpanRow.__table__.c
    for chunk in _chunks(ids, IN_CHUNK):
        query = (
            select(SpanRow.__table__)
            .where(s.trace_id.in_(chunk))
            .order_by(s.trace_id, s.start_time_ns, s.span_id)
        )
        rows = connection.execute(query).all()
        pairs = resources.lookup(connection, (row.resource for row in rows))
        for row in rows:
            out[row.trace_id].append(span_message(row, pairs))
    return out


def _key_values(
    connection: Connection, model: type[TraceTag | TraceMetadata], ids: list[str]
) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = defaultdict(dict)
    c = model.__table__.c
    for chunk in _chunks(ids, IN_CHUNK):
        query = select(c.trace_id, c.key, c.value).where(c.trace_id.in_(chunk))
        for trace_id, key, value in connection.execute(query):
            if value is not None:  # a NULL value counts as absent, as in filters
                out[trace_id][key] = value
    return out


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


# -- tags and metadata ---------------------------------------------------------------------


def upsert(
    engine_or_connection: Engine | Connection,
    table: Any,
    index: Sequence[str],
    rows: list[dict[str, Any]],
) -> Any:
    """INSERT … ON CONFLICT (index) DO UPDATE SET the other columns, for either dialect."""
    dialect = engine_or_connection.dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table).values(rows)
    updates = {c: statement.excluded[c] for c in rows[0] if c not in index}
    return statement.on_conflict_do_update(index_elements=list(index), set_=updates)


def set_tag(engine: Engine, trace_id: str, key: str, value: str) -> None:
    """Add or replace one tag of a stored trace."""
    set_key_values(engine, TraceTag, trace_id, {check_key(key, "tag key"): value})


def set_metadata(engine: Engine, trace_id: str, entries: dict[str, str]) -> None:
    """Add or replace metadata entries of a stored trace; other entries stay."""
    for key in entries:
        check_key(key, "metadata key")
    set_key_values(engine, TraceMetadata, trace_id, entries)


def set_key_values(
    engine: Engine, model: type[TraceTag | TraceMetadata], trace_id: str, entries: dict[str, str]
) -> None:
    trace_id = parse_trace_id(trace_id)
    with write_transaction(engine) as connection:
        _require_trace(connection, trace_id)
        if entries:
            rows = [{"trace_id": trace_id, "key": k, "value": v} for k, v in entries.items()]
            connection.execute(upsert(connection, model.__table__, ("trace_id", "key"), rows))


def delete_tag(engine: Engine, trace_id: str, key: str) -> None:
    """Remove one tag; NotFoundError when the trace or the tag does not exist."""
    trace_id = parse_trace_id(trace_id)
    check_key(key, "tag key")
    c = TraceTag.__table__.c
    with write_transaction(engine) as connection:
        _require_trace(connection, trace_id)
        deleted = connection.execute(
            delete(TraceTag.__table__).where(c.trace_id == trace_id, c.key == key)
        ).rowcount
    if not deleted:
        raise NotFoundError(f"trace {trace_id} has no tag {key!r}")


def _require_trace(connection: Connection, trace_id: str) -> None:
    if connection.execute(select(_T.id).where(_T.trace_id == trace_id)).first() is None:
        raise NotFoundError(
            f"trace {trace_id} not found: no span of it is stored. Check the "
            "id; a trace appears once its exporter has flushed a span"
        )


# -- deletes -------------------------------------------------------------------------------


def delete_traces_by_id(engine: Engine, trace_ids: Iterable[str]) -> int:
    """Delete these traces with everything attached to them; returns how many existed."""
    ids = list(dict.fromkeys(parse_trace_id(t) for t in trace_ids))
    deleted = 0
    for chunk in _chunks(ids, DELETE_BATCH):
        with write_transaction(engine) as connection:
            deleted += _delete(connection, chunk)
    return deleted


def delete_traces_before(
    engine: Engine,
    experiment_id: int,
    before_ns: int,
    max_traces: int | None = None,
    batch: int = DELETE_BATCH,
    should_stop: Callable[[], bool] = lambda: False,
) -> int:
    """Delete the experiment's traces that started before ``before_ns``, oldest first, at
    most ``max_traces``, ``batch`` per transaction; returns how many were deleted."""
    deleted = 0
    while max_traces is None or deleted < max_traces:
        size = batch if max_traces is None else min(batch, max_traces - deleted)
        with write_transaction(engine) as connection:
            ids = list(
                connection.scalars(
                    select(_T.trace_id)
                    .where(_T.experiment_id == experiment_id, _T.start_time_ns < before_ns)
                    .order_by(_T.start_time_ns, _T.id)
                    .limit(size)
                )
            )
            deleted += _delete(connection, ids) if ids else 0
        if len(ids) < size or should_stop():
            break
    return deleted


def _delete(connection: Connection, ids: Sequence[str]) -> int:
    """Delete the rows of these trace ids from every table; the number of traces rows.

    The traces rows go first: the span writer locks a trace's row before its tags, so taking
    the row lock first never waits in a cycle with it (PostgreSQL).
    """
    deleted = connection.execute(delete(TraceRow.__table__).where(_T.trace_id.in_(ids))).rowcount
    for model in (SpanRow, TraceTag, TraceMetadata, AssessmentRow):
        table = model.__table__
        connection.execute(delete(table).where(table.c.trace_id.in_(ids)))
    return deleted


def delete_traces(
    engine: Engine,
    trace_ids: Sequence[str],
    experiment_id: str | None,
    max_timestamp_ms: int | None,
    max_traces: int | None,
) -> int:
    """DeleteTraces: either ``trace_ids``, or ``experiment_id`` + ``max_timestamp_ms`` (and
    optionally ``max_traces``, oldest first). Returns the number of traces deleted."""
    if trace_ids:
        if experiment_id is not None or max_timestamp_ms is not None or max_traces is not None:
            raise InvalidArgumentError(
                "delete either by trace_ids, or by experiment_id with "
                "max_timestamp_ms (and max_traces), not both"
            )
        return delete_traces_by_id(engine, trace_ids)
    if experiment_id is None or max_timestamp_ms is None:
        raise InvalidArgumentError(
            "say which traces to delete: trace_ids, or experiment_id "
            "with max_timestamp_ms (ms since the epoch)"
        )
    if max_traces is not None and max_traces < 1:
        raise InvalidArgumentError(f"max_traces must be at least 1, got {max_traces}")
    experiment = parse_experiment_id(experiment_id)
    with engine.connect() as connection:
        require_experiment(connection, experiment)
    return delete_traces_before(engine, experiment, max_timestamp_ms * _NS_PER_MS, max_traces)
