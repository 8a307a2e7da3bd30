"""The write path: a bounded queue in front of one writer thread that commits in groups.

Receivers submit each request's spans (or log records) and wait for the future; the writer
takes every request waiting (up to ``max_batch_spans``), writes them in ONE transaction
(spans and log records in one each) and resolves all their futures after COMMIT returns.
Acknowledgement therefore always follows a durable commit, and durability costs one commit
per group, not per request.

When the queue holds ``max_queue_spans`` items, :meth:`Writer.submit` and
:meth:`Writer.submit_logs` raise :class:`OverloadedError` at once (backpressure, not growth).

The writer thread outlives whatever happens to one group:

* a client that gives up (deadline, cancel) while its items wait is simply not answered;
  its items are still committed, so the exporter's re-send finds them stored;
* a value the database refuses costs only the items that carry it: the group is retried
  request by request, and a refused request item by item, and the future of each request
  gives the items refused with the database's reason (the others are committed);
* any other exception fails the group's requests with a retryable error and the writer takes
  the next group.

If the thread itself cannot go on, :attr:`Writer.problem` says why, queued and later
requests are refused at once (retry elsewhere), and the ``on_failure`` callback lets the
collector report not-alive and exit.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from spyglass.collector.metrics import CollectorMetrics
from spyglass.collector.store import rows as r
from spyglass.collector.store.engine import sqlite_path
from spyglass.collector.store.rows import ExperimentRef, LogEventRow, SpanRecord
from spyglass.collector.store.traces import aggregate, log_events, resources, text_index
from spyglass.collector.store.traces.checkpoint import Checkpointer
from spyglass.collector.store.traces.experiments import ExperimentResolver
from spyglass.collector.store.traces.statements import for_dialect
from spyglass.errors import (
    InternalFaultError,
    OverloadedError,
    RetryableError,
    StoreUnavailableError,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

# attempts for one group when the database is unreachable, deadlocks or is busy
WRITE_ATTEMPTS = 3
RETRY_PAUSE_S = 0.2
# One group in the works for longer than this means the thread is stuck, not slow: every
# database call it makes is bounded (SQLite busy timeout, PostgreSQL TCP timeouts, a few
# attempts), so a healthy writer finishes a group within a couple of minutes at worst.
STALL_S = 300.0
# The write connection's SQLite page cache. The writer appends: the pages it reads again are
# the indexes' (a few MB per million spans), while a larger cache fills with appended span
# rows it never reads, ~50 MB of the collector's memory for no measurable speed.
WRITER_CACHE_KIB = 16 * 1024
# Errors by which the driver refuses a value before the database sees it (sqlite3 raises
# OverflowError for an integer beyond 64 bits; drivers raise TypeError/ValueError for values
# they cannot adapt). Like a database's data error, they come back for the same input.
_VALUE_ERRORS = (OverflowError, ValueError, TypeError)


class Refused(NamedTuple):
    """An item of a request that the database refused; the request's others were stored."""

    item: str  # e.g. "span 5b8efff798038103d269b633813fc60c/eee19b7ec3c1b174"
    reason: str  # the database's own words


@dataclass(slots=True)
class _Pending:
    records: list[SpanRecord] | list[LogEventRow]
    logs: bool = False  # log records, not spans
    future: Future = field(default_factory=Future)
    waiting: bool = True  # False once the client has given up: nobody reads the answer

    def take(self) -> None:
        """Mark the request as being written; a client that gave up stays unanswered."""
        self.waiting = self.future.set_running_or_notify_cancel()

    def answer(self, refused: list[Refused]) -> None:
        if self.waiting:
            self.future.set_result(refused)

    def fail(self, exc: BaseException) -> None:
        if self.waiting:
            self.future.set_exception(exc)


class Writer:
    """Owns the store's single write connection and the queue in front of it."""

    def __init__(
        self,
        engine: Engine,
        metrics: CollectorMetrics,
        *,
        max_queue_spans: int,
        max_batch_spans: int,
        retry_after: float,
        on_failure: Callable[[str], None] | None = None,
    ) -> None:
        self._engine = engine
        self._st = for_dialect(engine.dialect.name)
        self._metrics = metrics
        self._max_queue = max_queue_spans
        self._max_batch = max_batch_spans
        self._retry_after = retry_after
        self._queue: collections.deque[_Pending] = collections.deque()
        self._queued_spans = 0
        self._cond = threading.Condition()
        self._closing = False
        self._on_failure = on_failure
        self._failure: str | None = None  # why the thread stopped for good
        self._busy_since: float | None = None  # monotonic start of the group being written
        self._thread = threading.Thread(target=self._run, name="spyglass-writer", daemon=True)
        self._experiments = ExperimentResolver(self._st)
        self._conn: Any = None  # pooled DBAPI connection, replaced after a failure
        # the hot path uses the driver directly, so its own exceptions arrive unwrapped
        self._db_errors = (DBAPIError, engine.dialect.loaded_dbapi.Error)
        self._refusals = self._db_errors + _VALUE_ERRORS
        path = sqlite_path(engine)
        self._checkpointer = Checkpointer(path) if path is not None else None

    @property
    def queued_spans(self) -> int:
        return self._queued_spans

    @property
    def alive(self) -> bool:
        """Running and able to take requests (not stopped, not closing)."""
        return self.problem is None and not self._closing

    @property
    def problem(self) -> str | None:
        """Why the writer cannot write (stopped for good, or stuck on one group), else None."""
        if self._failure is not None:
            return self._failure
        if not self._thread.is_alive():
            return "the writer thread is not running" if not self._closing else None
        busy_since = self._busy_since
        if busy_since is not None and time.monotonic() - busy_since > STALL_S:
            return (
                f"the writer has been writing one group for over {STALL_S:g}s "
                "(stuck in a database call)"
            )
        return None

    def start(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.start()
        self._thread.start()

    def submit(self, records: list[SpanRecord]) -> Future[list[Refused]]:
        """Queue ``records``; after COMMIT the future gives the spans the database refused
        (usually none: the others are stored either way)."""
        return self._enqueue(_Pending(records))

    def submit_logs(self, rows: list[LogEventRow]) -> Future[list[Refused]]:
        """Queue log records of spans; after COMMIT the future gives those refused."""
        return self._enqueue(_Pending(rows, logs=True))

    def _enqueue(self, pending: _Pending) -> Future[list[Refused]]:
        records = pending.records
        if not records:
            pending.future.set_result([])
            return pending.future
        with self._cond:
            if self._failure is not None:
                raise OverloadedError(
                    f"this collector cannot store anything ({self._failure}) and is restarting;"
                    " retry against another replica or after it restarts",
                    self._retry_after,
                )
            if self._closing:
                raise OverloadedError(
                    "the collector is shutting down; retry against another "
                    "replica or after it restarts",
                    self._retry_after,
                )
            if self._queued_spans and self._queued_spans + len(records) > self._max_queue:
                raise OverloadedError(
                    f"write queue is full ({self._queued_spans} spans waiting, limit "
                    f"{self._max_queue}); retry after {self._retry_after:g}s",
                    self._retry_after,
                )
            self._queue.append(pending)
            self._queued_spans += len(records)
            self._metrics.queue_depth.set(self._queued_spans)
            self._cond.notify()
        return pending.future

    def close(self, timeout: float = 30.0) -> None:
        """Refuse new work, commit everything already queued, then stop the thread."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(timeout)
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._checkpointer is not None:
            self._checkpointer.stop()

    # -- writer thread -------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while True:
                group = self._take_group()
                if group is None:
                    return
                self._busy_since = time.monotonic()
                try:
                    self._commit_group(group)
                except Exception as exc:  # a fault of ours: cost this group only
                    self._fault(group, exc)
                finally:
                    self._busy_since = None
        except BaseException as exc:  # the loop itself broke: nothing more will be written
            self._stopped(exc)

    def _fault(self, group: list[_Pending], exc: Exception) -> None:
        """Answer a group that an unexpected exception interrupted: retry later."""
        log.error(
            "unexpected error while writing %d request(s); they were told to retry",
            len(group),
            exc_info=exc,
        )
        self._metrics.store_errors.labels("internal").inc()
        self._discard_connection()
        error = InternalFaultError(
            f"an internal error interrupted the commit ({type(exc).__name__}: {exc}); "
            f"nothing from this request was acknowledged, retry after {self._retry_after:g}s",
            self._retry_after,
        )
        for p in group:
            if not p.future.done():
                p.fail(error)

    def _stopped(self, exc: BaseException) -> None:
        """The thread is ending on an error: refuse what waits and tell the collector."""
        reason = f"the span writer stopped: {type(exc).__name__}: {exc}"
        log.critical("%s; this collector can no longer store anything", reason, exc_info=exc)
        with self._cond:
            self._failure = reason
            waiting, self._queue = list(self._queue), collections.deque()
            self._queued_spans = 0
            self._metrics.queue_depth.set(0)
        error = OverloadedError(
            f"{reason}; retry against another replica or after the collector restarts",
            self._retry_after,
        )
        for p in waiting:
            p.take()
            p.fail(error)
        if self._on_failure is not None:
            self._on_failure(reason)

    def _take_group(self) -> list[_Pending] | None:
        with self._cond:
            while not self._queue and not self._closing:
                self._cond.wait()
            if not self._queue:
                return None
            group = [self._queue.popleft()]
            spans = len(group[0].records)
            while self._queue and spans + len(self._queue[0].records) <= self._max_batch:
                item = self._queue.popleft()
                group.append(item)
                spans += len(item.records)
            self._queued_spans -= spans
            self._metrics.queue_depth.set(self._queued_spans)
        for item in group:
            item.take()
        return group

    def _commit_group(self, group: list[_Pending]) -> None:
        spans = [p for p in group if not p.logs]
        logs = [p for p in group if p.logs]
        if spans:
            self._commit_part(spans, self._write, "spans")
        if logs:
            self._commit_part(logs, self._write_logs, "log records")

    def _commit_part(self, group: list[_Pending], write: Callable[[list], None], what: str) -> None:
        try:
            self._write_with_retries(write, [rec for p in group for rec in p.records])
        except RetryableError as exc:
            for p in group:
                p.fail(exc)
            return
        except self._refusals:
            if len(group) > 1:  # find the request the database refuses; commit the others
                for p in group:
                    self._commit_part([p], write, what)
                return
            try:
                refused = self._write_halves(write, group[0].records)
            except RetryableError as exc:
                group[0].fail(exc)
                return
            log.warning(
                "the store refused %d of a request's %d %s, the others were stored; first: %s: %s",
                len(refused),
                len(group[0].records),
                what,
                *refused[0],
            )
            group[0].answer(refused)
            return
        for p in group:
            p.answer([])

    def _write_halves(self, write: Callable[[list], None], items: Sequence) -> list[Refused]:
        """Write ``items``, which the store refused as a whole, in halves until every item
        it refuses is alone; commit the others. Costs about 2·log2(n) transactions per
        refused item, paid only when a refusal happens."""
        if len(items) == 1:
            try:
                self._write_with_retries(write, list(items))
            except self._refusals as exc:
                return [Refused(_item_name(items[0]), _short(exc))]
            return []
        middle = len(items) // 2
        refused = []
        for half in (items[:middle], items[middle:]):
            try:
                self._write_with_retries(write, list(half))
            except self._refusals:
                refused += self._write_halves(write, half)
        return refused

    def _write_with_retries(self, write: Callable[[list], None], items: list) -> None:
        last: BaseException | None = None
        for attempt in range(WRITE_ATTEMPTS):
            try:
                started = time.perf_counter()
                write(items)
            except _VALUE_ERRORS:
                self._metrics.store_errors.labels("data").inc()
                raise
            except self._db_errors as exc:
                self._discard_connection()
                kind = _retryable_kind(exc)
                self._metrics.store_errors.labels(kind or "data").inc()
                if kind is None:
                    raise
                last = exc
                time.sleep(RETRY_PAUSE_S * (attempt + 1))
                continue
            self._metrics.commit_latency.observe(time.perf_counter() - started)
            return
        raise StoreUnavailableError(
            f"the trace store is unavailable ({_short(last)}); nothing was acknowledged, "
            f"retry after {self._retry_after:g}s",
            self._retry_after,
        ) from last

    def _connection(self) -> Any:
        if self._conn is None:
            self._conn = self._engine.raw_connection()
            if self._checkpointer is not None:  # checkpoints run on their own thread
                self._conn.driver_connection.execute("PRAGMA wal_autocheckpoint=0")
            if self._st.dialect == "sqlite":
                self._conn.driver_connection.execute(f"PRAGMA cache_size=-{WRITER_CACHE_KIB}")
        return self._conn

    def _discard_connection(self) -> None:
        self._experiments.rollback()
        if self._conn is None:
            return
        with contextlib.suppress(Exception):  # already broken: nothing left to release
            self._conn.invalidate()
        self._conn = None

    def _write(self, recs: Sequence[SpanRecord]) -> None:
        """Write spans in one transaction, applying log records that wait for them."""
        fresh, attached = self._transaction(lambda cursor: self._write_spans(cursor, recs))
        self._metrics.commit_spans.observe(len(recs))
        self._metrics.spans_stored.inc(len(fresh))
        if attached:
            self._metrics.log_records_attached.labels("span_arrived").inc(attached)

    def _write_spans(self, cursor: Any, recs: Sequence[SpanRecord]) -> tuple[list[SpanRecord], int]:
        """The spans' statements; returns the newly stored records and the number of log
        records applied to them."""
        recs = sorted(recs, key=_span_key)
        rows = resources.share(cursor, self._st.dialect, [rec.row for rec in recs])
        before = text_index.last_rowid(cursor, self._st.dialect)
        new_keys = self._insert_spans(cursor, rows)
        fresh = recs if new_keys is None else _fresh_records(recs, new_keys)
        traces = aggregate.trace_rows(self._with_experiment_ids(cursor, fresh))
        if traces:  # takes the traces' row locks (PostgreSQL) before looking for logs
            cursor.executemany(self._st.upsert_trace, traces)
        self._upsert_key_values(cursor, fresh)
        attached = log_events.attach_to_new_spans(cursor, self._st, [rec.row for rec in fresh])
        text_index.index_new(cursor, self._st.dialect, before, [rec.row for rec in fresh])
        return fresh, attached

    def _with_experiment_ids(
        self, cursor: Any, fresh: Sequence[SpanRecord]
    ) -> list[tuple[SpanRecord, int]]:
        """Each record with the id of the experiment it asks for.

        A request's spans share one or a few :class:`ExperimentRef` objects, so they are
        told apart by identity first (hashing a dataclass per span would cost more than
        the lookup) and resolved once per distinct value.
        """
        by_value: dict[ExperimentRef, int] = {}
        by_object: dict[int, int] = {}
        out = []
        for rec in fresh:
            ref = rec.experiment
            experiment_id = by_object.get(id(ref))
            if experiment_id is None:
                experiment_id = by_value.get(ref)
                if experiment_id is None:
                    experiment_id = by_value[ref] = self._experiments.resolve(cursor, ref)
                by_object[id(ref)] = experiment_id
            out.append((rec, experiment_id))
        return out

    def _write_logs(self, rows: Sequence[LogEventRow]) -> None:
        """Write log records of spans in one transaction, applying them to stored spans."""
        counts = self._transaction(lambda cursor: log_events.write_log_rows(cursor, self._st, rows))
        self._metrics.log_records_attached.labels("span_stored").inc(counts.attached)
        self._metrics.log_records_pending.inc(counts.pending)

    def _transaction(self, body: Callable[[Any], T]) -> T:
        """Run ``body(cursor)`` in one transaction on the write connection; its result."""
        conn = self._connection()
        cursor = conn.cursor()
        sqlite = self._st.dialect == "sqlite"
        try:
            if sqlite:  # take the write lock now, not at the first insert (no upgrade deadlock)
                cursor.execute("BEGIN IMMEDIATE")
            result = body(cursor)
            if sqlite:
                cursor.execute("COMMIT")
            else:
                conn.commit()
        except BaseException:
            _rollback(conn, cursor, self._st.dialect)
            self._experiments.rollback()
            raise
        finally:
            cursor.close()
        self._experiments.commit()
        return result

    def _insert_spans(self, cursor: Any, rows: list[tuple]) -> set[tuple[str, str]] | None:
        """Insert spans not stored yet; returns the keys of those this call inserted, or
        None when it inserted every row (no re-delivery, no duplicate: the usual case)."""
        if self._st.dialect == "sqlite":
            return self._insert_spans_sqlite(cursor, rows)
        return self._insert_spans_postgres(cursor, rows)

    def _insert_spans_postgres(self, cursor: Any, rows: list[tuple]) -> set[tuple[str, str]] | None:
        # COPY into a per-connection staging table (emptied at every COMMIT), then one
        # INSERT … SELECT that skips stored spans and returns the keys it inserted.
        cursor.execute(self._st.create_staging)
        with cursor.copy(self._st.copy_into_staging) as copy:
            copy.set_types(self._st.staging_types)
            for row in rows:
                copy.write_row(row)
        cursor.execute(self._st.insert_from_staging)
        inserted = set(map(tuple, cursor.fetchall()))
        return None if len(inserted) == len(rows) else inserted

    def _insert_spans_sqlite(self, cursor: Any, rows: list[tuple]) -> set[tuple[str, str]] | None:
        # executemany is SQLite's fastest insert, but it only reports how many rows it
        # inserted. When that is all of them (no re-delivery: the usual case) we are done;
        # otherwise undo it, look up which spans are stored already and insert the others.
        # The writer holds SQLite's write lock, so nothing changes the table in between.
        cursor.execute("SAVEPOINT spans_batch")
        cursor.executemany(self._st.insert_spans_each, rows)
        if cursor.rowcount == len(rows):
            cursor.execute("RELEASE spans_batch")
            return None
        cursor.execute("ROLLBACK TO spans_batch")
        cursor.execute("RELEASE spans_batch")
        stored = self._stored_keys(cursor, {row[r.TRACE_ID] for row in rows})
        new_rows, new = [], set()
        for row in rows:
            key = (row[r.TRACE_ID], row[r.SPAN_ID])
            if key not in stored and key not in new:
                new.add(key)
                new_rows.append(row)
        cursor.executemany(self._st.insert_spans_each, new_rows)
        return new

    def _stored_keys(self, cursor: Any, trace_ids: set[str]) -> set[tuple[str, str]]:
        ids = sorted(trace_ids)
        keys: set[tuple[str, str]] = set()
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            cursor.execute(self._st.span_keys_of_traces(len(chunk)), chunk)
            keys.update(map(tuple, cursor.fetchall()))
        return keys

    def _upsert_key_values(self, cursor: Any, fresh: Sequence[SpanRecord]) -> None:
        carriers = [rec for rec in fresh if rec.tags or rec.metadata]  # few spans carry any
        if not carriers:
            return
        for table, attr in (("trace_tags", "tags"), ("trace_metadata", "metadata")):
            entries: dict[tuple[str, str], str] = {}
            for rec in carriers:
                for key, value in (getattr(rec, attr) or {}).items():
                    entries[(rec.row[r.TRACE_ID], key)] = value
            if entries:
                cursor.executemany(
                    self._st.upsert_key_value(table),
                    [(t, k, v) for (t, k), v in sorted(entries.items())],
                )


def _item_name(item: SpanRecord | LogEventRow) -> str:
    """How a refusal names the item: by its span's ids."""
    if isinstance(item, SpanRecord):
        return f"span {item.row[r.TRACE_ID]}/{item.row[r.SPAN_ID]}"
    return f"log record {item.record_key} of span {item.trace_id}/{item.span_id}"


def _span_key(rec: SpanRecord) -> tuple[str, str]:
    row = rec.row
    return row[r.TRACE_ID], row[r.SPAN_ID]


def _fresh_records(recs: Sequence[SpanRecord], new_keys: set[tuple[str, str]]) -> list[SpanRecord]:
    """The records the insert actually stored (first of any duplicates within the batch)."""
    fresh, seen = [], set()
    for rec in recs:
        key = (rec.row[r.TRACE_ID], rec.row[r.SPAN_ID])
        if key in new_keys and key not in seen:
            seen.add(key)
            fresh.append(rec)
    return fresh


def _rollback(conn: Any, cursor: Any, dialect: str) -> None:
    try:
        if dialect == "sqlite":
            cursor.execute("ROLLBACK")
        else:
            conn.rollback()
    except Exception:  # the connection is gone; the transaction died with it
        pass


def _retryable_kind(exc: BaseException) -> str | None:
    """'unavailable' / 'conflict' for errors worth retrying, None for bad data."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return "unavailable"
    orig = getattr(exc, "orig", exc)
    text = str(orig).lower()
    if any(s in text for s in ("deadlock", "could not serialize", "database is locked", "busy")):
        return "conflict"
    if type(orig).__name__ in ("OperationalError", "InterfaceError") or "connection" in text:
        return "unavailable"
    return None


def _short(exc: BaseException | None) -> str:
    text = str(getattr(exc, "orig", exc)).strip().splitlines()
    return text[0] if text else type(exc).__name__
