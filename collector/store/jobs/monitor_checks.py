"""Monitors looking for new traces: the check that turns an experiment's newly complete,
matching, sampled traces into rows and chunks of the monitor's job.

A monitor is due when it is enabled and its last check is :data:`MONITOR_CHECK_SECONDS` old;
ClaimWork checks due monitors before it leases a chunk, so monitors need no process of
their own. A check, in one transaction with the monitor's row locked (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL: a monitor another claim is checking is skipped), looks at the
experiment's traces that are *waiting* (looked at before, not yet decided) and those after
the monitor's cursor (ingest sequence ``traces.id``), oldest first, at most
:data:`SCAN_LIMIT` new ones:

* a trace is complete when its root span has ended (status is not IN_PROGRESS) and no span
  has arrived for the quiet period; one still IN_PROGRESS after :data:`STUCK_AFTER_NS` is
  given up on. Both are *decided*. The cursor moves past every trace looked at; those not
  decided yet wait (at most :data:`WAITING_MAX`, the oldest given up beyond that), so a
  long-running trace, or one whose root never arrives, holds back nothing but itself;
* complete traces that match the filter are *seen*; a trace is *sampled* when
  ``int(sha256(monitor_id + trace_id)[:8], 16) / 2**32 < sample_rate`` — the same draw at
  every check, so re-checking never changes the answer;
* sampled traces that are not rows of the monitor's job yet become new rows (the next row
  indexes) in new chunks. Each trace is decided once, so it is counted and taken once.

On PostgreSQL the cursor does not pass traces stored in the last :data:`SETTLE_NS` (see
:func:`_settled`), which delays only monitors whose quiet period is shorter than that. A
trace that moves into the monitor's experiment after the monitor looked at it (a later span
named a higher-ranked experiment) is not scored.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, or_, select, update

from spyglass.collector.store.clock import now_ms
from spyglass.collector.store.engine import write_transaction
from spyglass.collector.store.jobs.completion import JOBS, lock_job
from spyglass.collector.store.jobs.rows import ITEMS, MONITOR_PRIORITY, insert_chunks, insert_items
from spyglass.collector.store.models import MonitorRow, TraceRow
from spyglass.collector.store.traces.filters import compile_filter

MONITOR_CHECK_SECONDS = 1.0
SCAN_LIMIT = 5000
STUCK_AFTER_NS = 3600 * 1_000_000_000
WAITING_MAX = 10_000
SETTLE_NS = 10 * 1_000_000_000

MONITORS = MonitorRow.__table__
_M = MONITORS.c
_T = TraceRow.__table__.c


@dataclass
class _Scan:
    """What one check found: where the cursor moves, the traces still waiting, how many
    decided traces count as seen and sampled, and the sampled traces to add as rows."""

    cursor: int
    waiting: list[int]
    seen: int
    sampled: int
    new_traces: list[str]


def sampled(monitor_id: str, trace_id: str, rate: float) -> bool:
    """The monitor's deterministic draw for a trace (module docstring)."""
    digest = hashlib.sha256((monitor_id + trace_id).encode()).hexdigest()
    return int(digest[:8], 16) / 2**32 < rate


def check_due_monitors(engine: Engine) -> int:
    """Check every due monitor, each in its own transaction; returns rows added."""
    now = now_ms()
    with engine.connect() as connection:
        due = list(connection.scalars(select(_M.monitor_id).where(*_due(now))))
    return sum(check_monitor(engine, monitor_id) for monitor_id in due)


def check_monitor(engine: Engine, monitor_id: str) -> int:
    """One check of one monitor, if it is still due (module docstring); rows added."""
    with write_transaction(engine) as connection:
        now = now_ms()
        query = select(MONITORS).where(_M.monitor_id == monitor_id, *_due(now))
        if connection.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        monitor = connection.execute(query).first()
        if monitor is None:
            return 0
        scan = _scan(connection, monitor, now * 1_000_000)
        if scan.new_traces:
            _append_rows(connection, monitor.job_id, scan.new_traces, now)
        connection.execute(
            update(MONITORS)
            .where(_M.monitor_id == monitor_id)
            .values(
                cursor=scan.cursor,
                waiting=json.dumps(scan.waiting),
                traces_seen=_M.traces_seen + scan.seen,
                traces_sampled=_M.traces_sampled + scan.sampled,
                last_check_ms=now,
            )
        )
    return len(scan.new_traces)


def _due(now: int) -> list[Any]:
    since = now - int(MONITOR_CHECK_SECONDS * 1000)
    return [_M.enabled.is_(True), or_(_M.last_check_ms.is_(None), _M.last_check_ms <= since)]


def _scan(connection: Connection, monitor: Any, now_ns: int) -> _Scan:
    waiting = json.loads(monitor.waiting or "[]")
    columns = (_T.id, _T.trace_id, _T.status, _T.last_span_at_ns, _T.created_at_ns)
    fresh = _settled(
        connection,
        connection.execute(
            select(*columns)
            .where(_T.experiment_id == monitor.experiment_id, _T.id > monitor.cursor)
            .order_by(_T.id)
            .limit(SCAN_LIMIT)
        ).all(),
        now_ns,
    )
    rows = _rows_by_id(connection, columns, waiting, monitor.experiment_id) + fresh
    quiet_before = now_ns - int(monitor.quiet_period_seconds * 1e9)
    complete = [r for r in rows if r.status != "IN_PROGRESS" and r.last_span_at_ns <= quiet_before]
    done = {r.id for r in complete}
    undecided = [
        r.id
        for r in rows
        if r.id not in done
        and not (r.status == "IN_PROGRESS" and r.created_at_ns <= now_ns - STUCK_AFTER_NS)
    ]
    matching = _matching(connection, monitor.filter_string, sorted(done))
    chosen = [
        r.trace_id
        for r in complete
        if r.id in matching and sampled(monitor.monitor_id, r.trace_id, monitor.sample_rate)
    ]
    taken = _already_rows(connection, monitor.job_id, set(chosen))
    return _Scan(
        cursor=fresh[-1].id if fresh else monitor.cursor,
        waiting=undecided[-WAITING_MAX:],
        seen=len(matching),
        sampled=len(chosen),
        new_traces=[t for t in chosen if t not in taken],
    )


def _settled(connection: Connection, rows: Sequence[Any], now_ns: int) -> list[Any]:
    """The leading rows the cursor may pass. On PostgreSQL a trace's id is drawn when its
    row is inserted but seen only when its transaction commits, so with several collectors
    a lower id can appear after a higher one: the cursor stops at the first trace stored
    less than :data:`SETTLE_NS` ago (SQLite commits one writer at a time, in id order)."""
    if connection.dialect.name != "postgresql":
        return list(rows)
    young = now_ns - SETTLE_NS
    settled = 0
    while settled < len(rows) and rows[settled].created_at_ns <= young:
        settled += 1
    return list(rows[:settled])


def _rows_by_id(
    connection: Connection, columns: Sequence[Any], ids: Sequence[int], experiment_id: int
) -> list[Any]:
    """The waiting traces still in the experiment, oldest first (deleted ones, and those
    that moved to another experiment, are forgotten)."""
    found: list[Any] = []
    for start in range(0, len(ids), 1000):
        found += connection.execute(
            select(*columns)
            .where(_T.id.in_(ids[start : start + 1000]), _T.experiment_id == experiment_id)
            .order_by(_T.id)
        ).all()
    return found


def _matching(connection: Connection, filter_string: str, ids: Sequence[int]) -> set[int]:
    """The ids among ``ids`` whose traces match the filter (all of them without one)."""
    condition = compile_filter(filter_string, connection.dialect.name)
    if condition is None or not ids:
        return set(ids)
    return set(connection.scalars(select(_T.id).where(_T.id.in_(ids), condition)))


def _already_rows(connection: Connection, job_id: str, trace_ids: set[str]) -> set[str]:
    if not trace_ids:
        return set()
    return set(
        connection.scalars(
            select(ITEMS.c.trace_id).where(
                ITEMS.c.job_id == job_id, ITEMS.c.trace_id.in_(sorted(trace_ids))
            )
        )
    )


def _append_rows(connection: Connection, job_id: str, trace_ids: list[str], now: int) -> None:
    """The traces as the job's next rows, in new chunks of the job's chunk size."""
    job = lock_job(connection, job_id)
    insert_items(connection, job_id, job.total_rows, [{"trace_id": t} for t in trace_ids])
    chunks = insert_chunks(
        connection,
        job_id,
        job.chunks_total,
        job.total_rows,
        len(trace_ids),
        job.chunk_size,
        MONITOR_PRIORITY,
        now,
    )
    connection.execute(
        update(JOBS)
        .where(JOBS.c.job_id == job_id)
        .values(
            total_rows=JOBS.c.total_rows + len(trace_ids), chunks_total=JOBS.c.chunks_total + chunks
        )
    )
