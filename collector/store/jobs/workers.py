"""Evaluator workers as their heartbeats describe them: who is alive, and which custom
scorer names they offer.

A worker is live when its last heartbeat (or claim: a claim counts as one) came within
:data:`LIVE_SECONDS` and it has not said it is stopping. SubmitJob accepts the scorer names
live workers registered; Heartbeat answers how many workers are live, so a service-wide
rate limit can be shared among them. Workers not heard from for a day are forgotten.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite

from spyglass.collector.store.clock import now_ms
from spyglass.collector.store.engine import write_transaction
from spyglass.collector.store.models import EvaluationWorker
from spyglass.collector.store.text import check_text
from spyglass.errors import InvalidArgumentError
from spyglass.v1 import jobs_pb2 as pb

LIVE_SECONDS = 15.0
FORGET_AFTER_MS = 24 * 3600 * 1000
WORKER_ID_MAX = 256

_WORKERS = EvaluationWorker.__table__
_W = _WORKERS.c


def check_worker_id(worker_id: str) -> str:
    if not worker_id.strip():
        raise InvalidArgumentError(
            "worker_id is empty; each worker process sends a unique id such as 'host:pid:random'"
        )
    return check_text(worker_id, WORKER_ID_MAX, "worker_id")


def heartbeat(engine: Engine, request: pb.HeartbeatRequest) -> pb.HeartbeatResponse:
    """Note that the worker is alive (or stopping) and what it offers; count live workers."""
    worker_id = check_worker_id(request.worker_id)
    if request.concurrency < 0:
        raise InvalidArgumentError(f"concurrency must not be negative, got {request.concurrency}")
    names = sorted({n.strip() for n in request.scorer_names if n.strip()})
    now = now_ms()
    values = {
        "worker_id": worker_id,
        "concurrency": request.concurrency,
        "scorer_names": json.dumps(names),
        "stopping": request.stopping,
        "first_seen_ms": now,
        "last_seen_ms": now,
    }
    with write_transaction(engine) as connection:
        connection.execute(
            _upsert(
                connection, values, [c for c in values if c not in ("worker_id", "first_seen_ms")]
            )
        )
        connection.execute(delete(_WORKERS).where(_W.last_seen_ms < now - FORGET_AFTER_MS))
        live = live_workers(connection, now)
    return pb.HeartbeatResponse(live_workers=live)


def touch_worker(connection: Connection, worker_id: str, now: int) -> None:
    """A claim counts as a heartbeat: the worker is seen now (known or not)."""
    values = {
        "worker_id": worker_id,
        "concurrency": 0,
        "scorer_names": "[]",
        "stopping": False,
        "first_seen_ms": now,
        "last_seen_ms": now,
    }
    connection.execute(_upsert(connection, values, ["last_seen_ms", "stopping"]))


def live_workers(connection: Connection, now: int) -> int:
    return int(
        connection.scalar(select(func.count()).select_from(_WORKERS).where(*_live(now))) or 0
    )


def registered_names(connection: Connection, now: int) -> set[str]:
    """The scorer names live workers registered from their --scorers-module."""
    names: set[str] = set()
    for text in connection.scalars(select(_W.scorer_names).where(*_live(now))):
        names.update(json.loads(text))
    return names


def _live(now: int) -> list[Any]:
    return [_W.last_seen_ms >= now - int(LIVE_SECONDS * 1000), _W.stopping.is_(False)]


def _upsert(connection: Connection, values: dict[str, Any], updated: list[str]) -> Any:
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    statement = insert(_WORKERS).values(values)
    return statement.on_conflict_do_update(
        index_elements=["worker_id"], set_={c: statement.excluded[c] for c in updated}
    )
