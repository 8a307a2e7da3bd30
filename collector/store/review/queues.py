"""Review queues: make one (its traces resolved to ids at once: a filter's matches or the
given ids), list an experiment's queues, read one, delete one, each with its progress.

Progress counts the items DONE and those CLAIMED whose claim has not expired (in progress);
an expired claim counts as pending, as the next reviewer may take it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, case, delete, func, select
from sqlalchemy.exc import IntegrityError

from spyglass.collector.store.clock import now_ms
from spyglass.collector.store.engine import write_transaction
from spyglass.collector.store.evaluation.assessments import check_name, check_trace_id
from spyglass.collector.store.ids import parse_experiment_id, require_experiment
from spyglass.collector.store.models import ReviewItemRow, ReviewQueueRow, ReviewSkip, TraceRow
from spyglass.collector.store.review.fields import check_fields, field_messages
from spyglass.collector.store.text import check_length
from spyglass.collector.store.traces.filters import compile_filter
from spyglass.errors import AlreadyExistsError, InvalidArgumentError, NotFoundError
from spyglass.v1 import review_pb2 as pb

QUEUES = ReviewQueueRow.__table__
ITEMS = ReviewItemRow.__table__
SKIPS = ReviewSkip.__table__
DEFAULT_TRACES, MAX_TRACES = 1000, 10_000
NAME_MAX = 256
INSERT_BATCH = 1000

_T = TraceRow.__table__.c


def create_queue(engine: Engine, request: pb.CreateReviewQueueRequest) -> pb.ReviewQueue:
    """Store a queue and its traces (module docstring); errors name the request's field."""
    experiment_id = parse_experiment_id(request.experiment_id)
    name = check_name(request.name.strip(), "name")
    fields = check_fields(request.fields)
    created_by = check_length(request.created_by.strip(), NAME_MAX, "created_by") or ""
    source = request.WhichOneof("traces")
    if source is None:
        raise InvalidArgumentError(
            "choose the traces: a filter (filter_string; empty = every trace) or trace ids"
        )
    now = now_ms()
    queue_id = uuid.uuid4().hex
    with write_transaction(engine) as connection:
        require_experiment(connection, experiment_id)
        if source == "filter_string":
            trace_ids = _matching(
                connection, experiment_id, request.filter_string, request.max_traces
            )
        else:
            trace_ids = _given(request.trace_ids.trace_ids)
        if not trace_ids:
            raise InvalidArgumentError(
                "no traces to review: the filter matches none of the experiment's traces"
                if source == "filter_string"
                else "no traces to review: give at least one trace id"
            )
        try:
            with connection.begin_nested():
                connection.execute(
                    QUEUES.insert().values(
                        queue_id=queue_id,
                        experiment_id=experiment_id,
                        name=name,
                        fields=json.dumps(fields),
                        filter_string=request.filter_string if source == "filter_string" else None,
                        created_by=created_by,
                        created_time_ms=now,
                    )
                )
        except IntegrityError:
            raise AlreadyExistsError(
                f"the experiment has a review queue named {name!r} already; choose another name"
            ) from None
        for start in range(0, len(trace_ids), INSERT_BATCH):
            connection.execute(
                ITEMS.insert(),
                [
                    {
                        "queue_id": queue_id,
                        "position": start + n,
                        "trace_id": trace_id,
                        "state": "PENDING",
                        "reviewer": None,
                        "claim_expires_ms": None,
                        "done_time_ms": None,
                        "review_values": None,
                    }
                    for n, trace_id in enumerate(trace_ids[start : start + INSERT_BATCH])
                ],
            )
        return queue_message(connection, queue_row(connection, queue_id), now)


def _matching(
    connection: Connection, experiment_id: int, filter_string: str, max_traces: int
) -> list[str]:
    """The experiment's traces matching the filter, newest first (InvalidFilterError for a
    bad filter)."""
    if not 0 <= max_traces <= MAX_TRACES:
        raise InvalidArgumentError(
            f"max_traces must be between 0 ({DEFAULT_TRACES:,}) and {MAX_TRACES:,}, "
            f"got {max_traces}"
        )
    query = select(_T.trace_id).where(_T.experiment_id == experiment_id)
    condition = compile_filter(filter_string, connection.dialect.name)
    if condition is not None:
        query = query.where(condition)
    query = query.order_by(_T.start_time_ns.desc().nulls_last(), _T.id.desc())
    return list(connection.scalars(query.limit(max_traces or DEFAULT_TRACES)))


def _given(values: Sequence[str]) -> list[str]:
    if len(values) > MAX_TRACES:
        raise InvalidArgumentError(
            f"{len(values):,} trace ids; a queue holds at most {MAX_TRACES:,} traces"
        )
    ids = [check_trace_id(v.strip().lower(), f"trace_ids[{n}]") for n, v in enumerate(values)]
    return list(dict.fromkeys(ids))


def list_queues(engine: Engine, request: pb.ListReviewQueuesRequest) -> pb.ListReviewQueuesResponse:
    """The experiment's queues with their progress, newest first."""
    experiment_id = parse_experiment_id(request.experiment_id)
    now = now_ms()
    with engine.connect() as connection:
        rows = connection.execute(
            select(QUEUES)
            .where(QUEUES.c.experiment_id == experiment_id)
            .order_by(QUEUES.c.created_time_ms.desc(), QUEUES.c.queue_id)
        ).all()
        counts = _progress(connection, [r.queue_id for r in rows], now)
    return pb.ListReviewQueuesResponse(
        queues=[_message(row, counts.get(row.queue_id, (0, 0, 0))) for row in rows]
    )


def get_queue(engine: Engine, queue_id: str) -> pb.ReviewQueue:
    """One queue with its progress (NotFoundError if unknown)."""
    with engine.connect() as connection:
        return queue_message(connection, queue_row(connection, queue_id), now_ms())


def delete_queue(engine: Engine, queue_id: str) -> None:
    """Delete the queue, its items and skips (assessments written stay)."""
    with write_transaction(engine) as connection:
        queue_row(connection, queue_id)
        for table in (SKIPS, ITEMS, QUEUES):
            connection.execute(delete(table).where(table.c.queue_id == queue_id))


def queue_message(connection: Connection, row: Any, now: int) -> pb.ReviewQueue:
    """A queue row with its progress as the API message."""
    return _message(row, _progress(connection, [row.queue_id], now).get(row.queue_id, (0, 0, 0)))


def queue_row(connection: Connection, queue_id: str, lock: bool = False) -> Any:
    if not queue_id.strip():
        raise InvalidArgumentError("queue_id is empty; give the id CreateReviewQueue returned")
    query = select(QUEUES).where(QUEUES.c.queue_id == queue_id)
    if lock and connection.dialect.name == "postgresql":
        query = query.with_for_update()
    row = connection.execute(query).first()
    if row is None:
        raise NotFoundError(
            f"review queue {queue_id} not found; it may have been deleted "
            "(the experiment's Review page lists its queues)"
        )
    return row


def _progress(
    connection: Connection, queue_ids: list[str], now: int
) -> dict[str, tuple[int, int, int]]:
    """(items, done, in progress) per queue, in one grouped query."""
    if not queue_ids:
        return {}
    c = ITEMS.c
    held = (c.state == "CLAIMED") & (c.claim_expires_ms >= now)
    rows = connection.execute(
        select(
            c.queue_id,
            func.count(),
            func.sum(case((c.state == "DONE", 1), else_=0)),
            func.sum(case((held, 1), else_=0)),
        )
        .where(c.queue_id.in_(queue_ids))
        .group_by(c.queue_id)
    ).all()
    return {r[0]: (int(r[1]), int(r[2] or 0), int(r[3] or 0)) for r in rows}


def _message(row: Any, counts: tuple[int, int, int]) -> pb.ReviewQueue:
    return pb.ReviewQueue(
        queue_id=row.queue_id,
        experiment_id=str(row.experiment_id),
        name=row.name,
        fields=field_messages(row.fields),
        filter_string=row.filter_string or "",
        created_by=row.created_by,
        create_time_ms=row.created_time_ms,
        item_count=counts[0],
        done_count=counts[1],
        in_progress_count=counts[2],
    )
