"""Trace rows written straight into a migrated store, for store-level tests that need exact
control over what the collector would have merged from spans: a trace's status, when its
last span arrived, and its experiment and name.

Typical use::

    ids = insert_traces(engine, 400, name="answer", last_span_ns=time.time_ns() - 10**10)
"""

from __future__ import annotations

import os
import time

from sqlalchemy import Engine, update

from spyglass.collector.store.engine import write_transaction
from spyglass.collector.store.models import TraceRow


def insert_traces(
    engine: Engine,
    n: int,
    *,
    experiment_id: int = 0,
    name: str = "answer",
    status: str = "OK",
    last_span_ns: int | None = None,
    created_ns: int | None = None,
) -> list[str]:
    """Store ``n`` new traces (ids in ingest order) and return their trace ids."""
    now = time.time_ns()
    ids = [os.urandom(16).hex() for _ in range(n)]
    rows = [
        {
            "trace_id": trace_id,
            "experiment_id": experiment_id,
            "name": name,
            "status": status,
            "start_time_ns": now - 1_000_000,
            "end_time_ns": now,
            "created_at_ns": now if created_ns is None else created_ns,
            "last_span_at_ns": now if last_span_ns is None else last_span_ns,
        }
        for trace_id in ids
    ]
    with write_transaction(engine) as connection:
        connection.execute(TraceRow.__table__.insert(), rows)
    return ids


def finish_traces(engine: Engine, trace_ids: list[str], *, last_span_ns: int | None = None) -> None:
    """The root spans of these traces have ended (status OK), their last span at
    ``last_span_ns`` (default: long ago, beyond any quiet period)."""
    t = TraceRow.__table__.c
    ended = time.time_ns() - 10**12 if last_span_ns is None else last_span_ns
    with write_transaction(engine) as connection:
        connection.execute(
            update(TraceRow.__table__)
            .where(t.trace_id.in_(trace_ids))
            .values(status="OK", last_span_at_ns=ended)
        )
