"""How reviewers share a queue: the next trace (a claim with an expiry), submit, skip.

NextReviewItem first gives the reviewer back the trace they hold (its claim renewed: a page
reload shows the same trace). Otherwise it claims the queue's first item that is PENDING or
whose claim has expired, leaving out those the reviewer skipped: on PostgreSQL with
``SELECT … FOR UPDATE SKIP LOCKED`` (two reviewers asking at once never wait on, or get, the
same trace), on SQLite inside ``BEGIN IMMEDIATE`` (claims run one at a time) — the pattern
of the evaluator's chunk leases (``store/jobs/leases.py``). A claim that expired is still
honoured until someone else takes the trace.

SubmitReviewItem checks the values against the queue's fields, then, in one transaction
with the claim checked (and locked on PostgreSQL), writes one assessment per value through
the rows CreateAssessment writes (source HUMAN, the reviewer's name as source id, the queue
id in the metadata) and marks the item DONE with the values kept for the reviewer's
history. SkipReviewItem makes the item PENDING again for the others and records that this
reviewer skipped it.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, Engine, select, update

from spyglass.collector.store.clock import now_ms
from spyglass.collector.store.engine import write_transaction
from spyglass.collector.store.evaluation.assessments import check_trace_id, new_assessment_values
from spyglass.collector.store.models import AssessmentRow
from spyglass.collector.store.review.fields import check_values
from spyglass.collector.store.review.queues import (
    ITEMS,
    SKIPS,
    queue_message,
    queue_row,
)
from spyglass.errors import FailedPreconditionError, InvalidArgumentError, NotFoundError
from spyglass.v1 import assessments_pb2 as apb
from spyglass.v1 import review_pb2 as pb

CLAIM_DEFAULT_SECONDS, CLAIM_MAX_SECONDS = 600.0, 86_400.0
REVIEWER_MAX = 256
QUEUE_METADATA_KEY = "review_queue"

_I = ITEMS.c
_ASSESSMENTS = AssessmentRow.__table__
_STATES = {
    "PENDING": pb.ReviewItem.PENDING,
    "CLAIMED": pb.ReviewItem.CLAIMED,
    "DONE": pb.ReviewItem.DONE,
}


def next_item(engine: Engine, request: pb.NextReviewItemRequest) -> pb.NextReviewItemResponse:
    """The reviewer's current trace, held or newly claimed (module docstring)."""
    reviewer = check_reviewer(request.reviewer)
    seconds = _claim_seconds(request.claim_seconds)
    with write_transaction(engine) as connection:
        queue = queue_row(connection, request.queue_id)
        now = now_ms()
        expires = now + int(seconds * 1000)
        item = _held_by(connection, queue.queue_id, reviewer)
        if item is None:
            item = _claimable(connection, queue.queue_id, reviewer, now)
        if item is not None:
            connection.execute(
                update(ITEMS)
                .where(*_key(item))
                .values(state="CLAIMED", reviewer=reviewer, claim_expires_ms=expires)
            )
            item = connection.execute(select(ITEMS).where(*_key(item))).one()
        response = pb.NextReviewItemResponse(queue=queue_message(connection, queue, now))
        if item is not None:
            response.item.CopyFrom(item_message(item))
        return response


def _held_by(connection: Connection, queue_id: str, reviewer: str) -> Any:
    query = (
        select(ITEMS)
        .where(_I.queue_id == queue_id, _I.state == "CLAIMED", _I.reviewer == reviewer)
        .order_by(_I.position)
        .limit(1)
    )
    if connection.dialect.name == "postgresql":
        query = query.with_for_update()
    return connection.execute(query).first()


def _claimable(connection: Connection, queue_id: str, reviewer: str, now: int) -> Any:
    """The first item nobody holds (PENDING, or an expired claim) that the reviewer did not
    skip; locked, skipping rows another claimer has locked, on PostgreSQL."""
    skipped = select(SKIPS.c.position).where(
        SKIPS.c.queue_id == queue_id, SKIPS.c.reviewer == reviewer
    )
    free = (_I.state == "PENDING") | ((_I.state == "CLAIMED") & (_I.claim_expires_ms < now))
    query = (
        select(ITEMS)
        .where(_I.queue_id == queue_id, free, _I.position.not_in(skipped))
        .order_by(_I.position)
        .limit(1)
    )
    if connection.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return connection.execute(query).first()


def submit_item(engine: Engine, request: pb.SubmitReviewItemRequest) -> pb.ReviewItem:
    """Write the values as assessments and mark the trace done (module docstring)."""
    reviewer = check_reviewer(request.reviewer)
    trace_id = check_trace_id(request.trace_id.strip().lower())
    with write_transaction(engine) as connection:
        queue = queue_row(connection, request.queue_id)
        checked = check_values(json.loads(queue.fields), request.values)
        item = _require_held(connection, queue.queue_id, trace_id, reviewer)
        now = now_ms()
        for field, value_json in checked:
            message = apb.Assessment(
                trace_id=trace_id,
                name=field["name"],
                source=apb.AssessmentSource(
                    source_type=apb.AssessmentSource.HUMAN, source_id=reviewer
                ),
                metadata={QUEUE_METADATA_KEY: queue.queue_id},
            )
            if field["kind"] == "expectation":
                message.expectation.value_json = value_json
            else:
                message.feedback.value_json = value_json
                if request.rationale.strip():
                    message.rationale = request.rationale.strip()
            connection.execute(_ASSESSMENTS.insert(), new_assessment_values(message, now))
        kept = [{"name": f["name"], "value_json": v} for f, v in checked]
        connection.execute(
            update(ITEMS)
            .where(*_key(item))
            .values(
                state="DONE",
                claim_expires_ms=None,
                done_time_ms=now,
                review_values=json.dumps(kept),
            )
        )
        return item_message(connection.execute(select(ITEMS).where(*_key(item))).one())


def skip_item(engine: Engine, request: pb.SkipReviewItemRequest) -> pb.ReviewItem:
    """Give the held trace back to the others; the reviewer does not get it again."""
    reviewer = check_reviewer(request.reviewer)
    trace_id = check_trace_id(request.trace_id.strip().lower())
    with write_transaction(engine) as connection:
        queue = queue_row(connection, request.queue_id)
        item = _require_held(connection, queue.queue_id, trace_id, reviewer)
        connection.execute(
            update(ITEMS)
            .where(*_key(item))
            .values(state="PENDING", reviewer=None, claim_expires_ms=None)
        )
        connection.execute(
            SKIPS.insert().values(queue_id=item.queue_id, position=item.position, reviewer=reviewer)
        )
        return item_message(connection.execute(select(ITEMS).where(*_key(item))).one())


def list_items(engine: Engine, request: pb.ListReviewItemsRequest) -> pb.ListReviewItemsResponse:
    """The queue's items in queue order; with a reviewer, the ones they did, in the order
    they submitted them."""
    with engine.connect() as connection:
        queue = queue_row(connection, request.queue_id)
        query = select(ITEMS).where(_I.queue_id == queue.queue_id)
        if request.reviewer.strip():
            query = query.where(
                _I.state == "DONE", _I.reviewer == check_reviewer(request.reviewer)
            ).order_by(_I.done_time_ms, _I.position)
        else:
            query = query.order_by(_I.position)
        rows = connection.execute(query).all()
    return pb.ListReviewItemsResponse(items=[item_message(row) for row in rows])


def item_message(row: Any) -> pb.ReviewItem:
    """An item row as the API message."""
    message = pb.ReviewItem(
        queue_id=row.queue_id,
        position=row.position,
        trace_id=row.trace_id,
        state=_STATES.get(row.state, pb.ReviewItem.STATE_UNSPECIFIED),
        reviewer=row.reviewer or "",
        claim_expires_ms=row.claim_expires_ms or 0,
        done_time_ms=row.done_time_ms or 0,
    )
    for value in json.loads(row.review_values or "[]"):
        message.values.add(name=value["name"], value_json=value["value_json"])
    return message


def check_reviewer(value: str) -> str:
    """A reviewer's name: 1 to 256 characters (what their assessments' source id is)."""
    name = value.strip()
    if not name:
        raise InvalidArgumentError(
            "the reviewer's name is empty; give the name your assessments will carry"
        )
    if len(name) > REVIEWER_MAX:
        raise InvalidArgumentError(
            f"the reviewer's name has {len(name)} characters; at most {REVIEWER_MAX}"
        )
    return name


def _require_held(connection: Connection, queue_id: str, trace_id: str, reviewer: str) -> Any:
    """The item of ``trace_id`` held by ``reviewer`` (locked on PostgreSQL), or why not."""
    query = select(ITEMS).where(_I.queue_id == queue_id, _I.trace_id == trace_id)
    if connection.dialect.name == "postgresql":
        query = query.with_for_update()
    item = connection.execute(query).first()
    if item is None:
        raise NotFoundError(f"trace {trace_id} is not in review queue {queue_id}")
    if item.state == "DONE":
        raise FailedPreconditionError(
            f"trace {trace_id} was reviewed already by {item.reviewer}; go on to the next trace"
        )
    if item.state != "CLAIMED" or item.reviewer != reviewer:
        holder = f"{item.reviewer} holds it now" if item.state == "CLAIMED" else "it was given back"
        raise FailedPreconditionError(
            f"you ({reviewer}) no longer hold trace {trace_id}: {holder} (a claim lasts "
            "a while, then another reviewer may take the trace); go on to the next trace"
        )
    return item


def _key(item: Any) -> tuple[Any, Any]:
    return _I.queue_id == item.queue_id, _I.position == item.position


def _claim_seconds(value: float) -> float:
    if not 0 <= value <= CLAIM_MAX_SECONDS:
        raise InvalidArgumentError(
            f"claim_seconds must be between 0 and {CLAIM_MAX_SECONDS:g} "
            f"(0 = {CLAIM_DEFAULT_SECONDS:g} s), got {value}"
        )
    return value or CLAIM_DEFAULT_SECONDS
