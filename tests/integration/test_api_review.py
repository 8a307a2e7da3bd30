"""ReviewService on a real collector, on SQLite and PostgreSQL, through the gRPC client;
and reviewers racing for one queue's traces straight on the store.

What it proves:

* a queue made from a filter holds the matching traces (resolved at once: a trace arriving
  later is not added); one made from ids keeps their order without duplicates; bad queues
  (no fields, a categorical field with one option, a bad filter, no matching trace, a name
  in use, an unknown experiment) are refused saying what to fix, and nothing is stored;
* next gives a reviewer the trace they hold (a reload) or one nobody holds; submit writes
  each value as an expectation or feedback with source HUMAN and the reviewer's name,
  checked against the field's type, and marks the trace done; skip gives it to the others
  but never back to the one who skipped; progress counts done and held traces;
* a claim expires: another reviewer then gets the trace, and the first one's submit is
  refused (FAILED_PRECONDITION); an expired claim nobody took is still honoured;
* eight reviewers over two engines, starting together, never get the same trace and
  review every trace exactly once (PostgreSQL: ``FOR UPDATE SKIP LOCKED``).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, func, inspect, select
from stored_traces import insert_traces

from spyglass.client import SpyglassClient
from spyglass.collector.server import Collector
from spyglass.collector.store import migrate
from spyglass.collector.store.engine import create_store_engine
from spyglass.collector.store.models import AssessmentRow, ReviewQueueRow
from spyglass.collector.store.review import claims, queues
from spyglass.errors import (
    AlreadyExistsError,
    FailedPreconditionError,
    InvalidArgumentError,
    InvalidFilterError,
    NotFoundError,
)
from spyglass.v1 import review_pb2 as pb
from spyglass.v1 import review_pb2_grpc as pb_grpc
from spyglass.v1 import traces_pb2 as tpb
from spyglass.v1 import traces_pb2_grpc as tpb_grpc

F = pb.ReviewField
FIELDS = [
    F(name="expected_answer", kind=F.EXPECTATION, type=F.TEXT),
    F(name="correct", kind=F.FEEDBACK, type=F.BOOL),
    F(name="quality", kind=F.FEEDBACK, type=F.CATEGORICAL, options=["good", "bad"]),
    F(name="score", kind=F.FEEDBACK, type=F.NUMBER),
]


@pytest.fixture
def client(collector: Collector) -> Iterator[SpyglassClient]:
    c = SpyglassClient(f"127.0.0.1:{collector.grpc_port}")
    yield c
    c.close()


@pytest.fixture
def review(client: SpyglassClient) -> Callable[[str, Any], Any]:
    """``review("Method", request)``: one ReviewService call."""
    stub = client.stub(pb_grpc.ReviewServiceStub)
    return lambda method, request: client.call(getattr(stub, method), request)


@pytest.fixture
def store(collector: Collector, store_url: str) -> Iterator[Engine]:
    """A second engine on the collector's store, to insert traces and look at rows."""
    engine = create_store_engine(store_url)
    yield engine
    engine.dispose()


def make_queue(review: Callable[[str, Any], Any], name: str, **traces: Any) -> pb.ReviewQueue:
    return review(
        "CreateReviewQueue",
        pb.CreateReviewQueueRequest(experiment_id="0", name=name, fields=FIELDS, **traces),
    )


def values(**given: Any) -> list[pb.ReviewValue]:
    return [pb.ReviewValue(name=k, value_json=json.dumps(v)) for k, v in given.items()]


def test_queues_from_a_filter_and_from_ids(review: Any, store: Engine) -> None:
    picked = insert_traces(store, 3, name="pick me")
    insert_traces(store, 2, name="leave me")
    queue = make_queue(review, "from filter", filter_string="trace.name = 'pick me'")
    assert (queue.item_count, queue.done_count, queue.in_progress_count) == (3, 0, 0)
    assert queue.filter_string == "trace.name = 'pick me'"
    assert [f.name for f in queue.fields] == [f.name for f in FIELDS]
    assert list(queue.fields[2].options) == ["good", "bad"]
    insert_traces(store, 1, name="pick me")  # later traces are not added
    got = review("GetReviewQueue", pb.GetReviewQueueRequest(queue_id=queue.queue_id))
    assert got.item_count == 3
    items = review("ListReviewItems", pb.ListReviewItemsRequest(queue_id=queue.queue_id)).items
    assert sorted(i.trace_id for i in items) == sorted(picked)
    assert {i.state for i in items} == {pb.ReviewItem.PENDING}

    given = [picked[2], picked[0], picked[2].upper()]
    by_ids = make_queue(review, "from ids", trace_ids=pb.ReviewTraceIds(trace_ids=given))
    items = review("ListReviewItems", pb.ListReviewItemsRequest(queue_id=by_ids.queue_id)).items
    assert [i.trace_id for i in items] == [picked[2], picked[0]]
    assert by_ids.filter_string == ""

    listed = review("ListReviewQueues", pb.ListReviewQueuesRequest(experiment_id="0")).queues
    assert [q.name for q in listed][:2] == ["from ids", "from filter"]


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"fields": []}, InvalidArgumentError, "no fields"),
        (
            {"fields": [F(name="q", kind=F.FEEDBACK, type=F.CATEGORICAL, options=["only"])]},
            InvalidArgumentError,
            "two or more distinct options",
        ),
        ({"fields": [F(name="q", kind=F.FEEDBACK)]}, InvalidArgumentError, "choose a type"),
        (
            {"fields": [F(name="q", type=F.TEXT), F(name="q", type=F.TEXT)]},
            InvalidArgumentError,
            "expectation or feedback",
        ),
        ({"filter_string": "trace.name = "}, InvalidFilterError, "trace.name"),
        (
            {"filter_string": "trace.name = 'nothing like this'"},
            InvalidArgumentError,
            "matches none",
        ),
        ({"experiment_id": "987654"}, NotFoundError, "987654"),
        ({"trace_ids": pb.ReviewTraceIds(trace_ids=["xyz"])}, InvalidArgumentError, "xyz"),
    ],
)
def test_bad_queues_are_refused(
    review: Any, store: Engine, change: dict[str, Any], error: type, match: str
) -> None:
    insert_traces(store, 1)
    request = pb.CreateReviewQueueRequest(
        experiment_id="0", name="bad", fields=FIELDS, filter_string=""
    )
    for key, value in change.items():
        if isinstance(value, list):
            del getattr(request, key)[:]
            getattr(request, key).extend(value)
        elif isinstance(value, pb.ReviewTraceIds):
            request.trace_ids.CopyFrom(value)
        else:
            setattr(request, key, value)
    with pytest.raises(error, match=match):
        review("CreateReviewQueue", request)
    with store.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(ReviewQueueRow)) == 0


def test_a_name_in_use_is_refused(review: Any, store: Engine) -> None:
    insert_traces(store, 1)
    make_queue(review, "twice", filter_string="")
    with pytest.raises(AlreadyExistsError, match="twice"):
        make_queue(review, "twice", filter_string="")


def test_next_submit_skip_and_progress(review: Any, client: SpyglassClient, store: Engine) -> None:
    ids = insert_traces(store, 3, name="r")
    queue = make_queue(review, "shared", trace_ids=pb.ReviewTraceIds(trace_ids=ids))
    q = queue.queue_id

    def next_for(reviewer: str) -> pb.NextReviewItemResponse:
        return review("NextReviewItem", pb.NextReviewItemRequest(queue_id=q, reviewer=reviewer))

    alice = next_for("alice")
    assert alice.item.trace_id == ids[0] and alice.item.state == pb.ReviewItem.CLAIMED
    assert alice.item.reviewer == "alice" and alice.queue.in_progress_count == 1
    assert next_for("alice").item.trace_id == ids[0]  # a reload: the same trace
    bob = next_for("bob")
    assert bob.item.trace_id == ids[1]

    with pytest.raises(InvalidArgumentError, match="'correct' takes true or false"):
        review(
            "SubmitReviewItem",
            pb.SubmitReviewItemRequest(
                queue_id=q, trace_id=ids[0], reviewer="alice", values=values(correct=1)
            ),
        )
    with pytest.raises(InvalidArgumentError, match="one of good, bad"):
        review(
            "SubmitReviewItem",
            pb.SubmitReviewItemRequest(
                queue_id=q, trace_id=ids[0], reviewer="alice", values=values(quality="meh")
            ),
        )
    with pytest.raises(FailedPreconditionError, match="bob holds it"):
        review(
            "SubmitReviewItem",
            pb.SubmitReviewItemRequest(
                queue_id=q, trace_id=ids[1], reviewer="alice", values=values(correct=True)
            ),
        )
    done = review(
        "SubmitReviewItem",
        pb.SubmitReviewItemRequest(
            queue_id=q,
            trace_id=ids[0],
            reviewer="alice",
            values=values(expected_answer="30 days", correct=True, quality="good", score=0.5),
            rationale="checked the policy",
        ),
    )
    assert done.state == pb.ReviewItem.DONE and done.reviewer == "alice"
    assert [v.name for v in done.values] == ["expected_answer", "correct", "quality", "score"]

    traces = client.stub(tpb_grpc.TraceServiceStub)
    info = client.call(traces.GetTrace, tpb.GetTraceRequest(trace_id=ids[0])).info
    found = {a.name: a for a in info.assessments}
    assert found["expected_answer"].expectation.value_json == '"30 days"'
    assert found["correct"].feedback.value_json == "true"
    assert found["score"].feedback.value_json == "0.5"
    assert found["quality"].rationale == "checked the policy"
    assert {a.source.source_type for a in found.values()} == {1}  # HUMAN
    assert {a.source.source_id for a in found.values()} == {"alice"}
    assert found["correct"].metadata["review_queue"] == q

    with pytest.raises(FailedPreconditionError, match="reviewed already by alice"):
        review(
            "SubmitReviewItem",
            pb.SubmitReviewItemRequest(
                queue_id=q, trace_id=ids[0], reviewer="alice", values=values(correct=False)
            ),
        )

    skipped = review(
        "SkipReviewItem", pb.SkipReviewItemRequest(queue_id=q, trace_id=ids[1], reviewer="bob")
    )
    assert skipped.state == pb.ReviewItem.PENDING and skipped.reviewer == ""
    assert next_for("bob").item.trace_id == ids[2]  # never the skipped one again
    assert next_for("alice").item.trace_id == ids[1]  # the others get it
    progress = review("GetReviewQueue", pb.GetReviewQueueRequest(queue_id=q))
    assert (progress.item_count, progress.done_count, progress.in_progress_count) == (3, 1, 2)
    review("SkipReviewItem", pb.SkipReviewItemRequest(queue_id=q, trace_id=ids[2], reviewer="bob"))
    assert not next_for("bob").HasField("item")  # bob skipped everything left

    mine = review("ListReviewItems", pb.ListReviewItemsRequest(queue_id=q, reviewer="alice"))
    assert [i.trace_id for i in mine.items] == [ids[0]]

    review("DeleteReviewQueue", pb.DeleteReviewQueueRequest(queue_id=q))
    with pytest.raises(NotFoundError, match="not found"):
        review("GetReviewQueue", pb.GetReviewQueueRequest(queue_id=q))
    info = client.call(traces.GetTrace, tpb.GetTraceRequest(trace_id=ids[0])).info
    assert len(info.assessments) == 4  # the assessments stay


def test_claims_expire(review: Any, store: Engine) -> None:
    ids = insert_traces(store, 1, name="e")
    q = make_queue(review, "expiring", trace_ids=pb.ReviewTraceIds(trace_ids=ids)).queue_id
    short = pb.NextReviewItemRequest(queue_id=q, reviewer="alice", claim_seconds=0.2)
    assert review("NextReviewItem", short).item.trace_id == ids[0]
    time.sleep(0.4)
    # expired: no longer in progress, and the next reviewer takes the trace
    late = review("GetReviewQueue", pb.GetReviewQueueRequest(queue_id=q))
    assert late.in_progress_count == 0
    carol = review("NextReviewItem", pb.NextReviewItemRequest(queue_id=q, reviewer="carol"))
    assert carol.item.trace_id == ids[0] and carol.item.reviewer == "carol"
    with pytest.raises(FailedPreconditionError, match="carol holds it now"):
        review(
            "SubmitReviewItem",
            pb.SubmitReviewItemRequest(
                queue_id=q, trace_id=ids[0], reviewer="alice", values=values(correct=True)
            ),
        )
    ids2 = insert_traces(store, 1, name="e2")
    q2 = make_queue(review, "honoured", trace_ids=pb.ReviewTraceIds(trace_ids=ids2)).queue_id
    review(
        "NextReviewItem", pb.NextReviewItemRequest(queue_id=q2, reviewer="dan", claim_seconds=0.1)
    )
    time.sleep(0.3)
    done = review(
        "SubmitReviewItem",
        pb.SubmitReviewItemRequest(
            queue_id=q2, trace_id=ids2[0], reviewer="dan", values=values(score=3)
        ),
    )
    assert done.state == pb.ReviewItem.DONE
    with pytest.raises(InvalidArgumentError, match="claim_seconds"):
        review(
            "NextReviewItem", pb.NextReviewItemRequest(queue_id=q, reviewer="x", claim_seconds=-1)
        )
    with pytest.raises(InvalidArgumentError, match="reviewer's name is empty"):
        review("NextReviewItem", pb.NextReviewItemRequest(queue_id=q, reviewer="  "))


def test_the_migration_downgrades_and_upgrades_again(store_url: str) -> None:
    engine = create_store_engine(store_url)
    try:
        migrate.upgrade(engine)
        with engine.connect() as connection:
            command.downgrade(migrate._config(connection), "0006")
            connection.commit()
        assert migrate.current_revision(engine) == "0006"
        tables = set(inspect(engine).get_table_names())
        assert not tables & {"review_queues", "review_items", "review_skips"}
        assert "evaluation_jobs" in tables
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == migrate.head_revision()
        assert {"review_queues", "review_items", "review_skips"} <= set(
            inspect(engine).get_table_names()
        )
    finally:
        engine.dispose()


# -- reviewers racing, straight on the store ------------------------------------------------

ITEMS, REVIEWERS, ENGINES = 40, 8, 2


@pytest.fixture
def engines(store_url: str) -> Iterator[list[Engine]]:
    made = [create_store_engine(store_url) for _ in range(ENGINES)]
    migrate.upgrade(made[0])
    yield made
    for engine in made:
        engine.dispose()


def reviewer_loop(
    engine: Engine,
    queue_id: str,
    name: str,
    start: threading.Barrier,
    handed: list[tuple[str, str]],
    errors: list[BaseException],
) -> None:
    """Next, submit, until nothing is left for this reviewer."""
    try:
        start.wait()
        while True:
            got = claims.next_item(
                engine, pb.NextReviewItemRequest(queue_id=queue_id, reviewer=name)
            )
            if not got.HasField("item"):
                return
            handed.append((got.item.trace_id, name))
            claims.submit_item(
                engine,
                pb.SubmitReviewItemRequest(
                    queue_id=queue_id,
                    trace_id=got.item.trace_id,
                    reviewer=name,
                    values=values(correct=True),
                ),
            )
    except BaseException as exc:  # reported by the test
        errors.append(exc)


def test_concurrent_reviewers_never_share_a_trace(engines: list[Engine]) -> None:
    ids = insert_traces(engines[0], ITEMS, name="race")
    queue = queues.create_queue(
        engines[0],
        pb.CreateReviewQueueRequest(
            experiment_id="0", name="race", fields=FIELDS, filter_string="trace.name = 'race'"
        ),
    )
    start = threading.Barrier(REVIEWERS)
    handed: list[tuple[str, str]] = []
    errors: list[BaseException] = []
    threads = [
        threading.Thread(
            target=reviewer_loop,
            args=(engines[n % ENGINES], queue.queue_id, f"r{n}", start, handed, errors),
        )
        for n in range(REVIEWERS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    counts = Counter(trace_id for trace_id, _ in handed)
    assert sorted(counts) == sorted(ids)
    assert set(counts.values()) == {1}, [t for t, n in counts.items() if n > 1]
    assert len({name for _, name in handed}) > 1  # they really shared the queue
    final = queues.get_queue(engines[0], queue.queue_id)
    assert (final.item_count, final.done_count, final.in_progress_count) == (ITEMS, ITEMS, 0)
    with engines[0].connect() as connection:
        written = connection.execute(
            select(
                AssessmentRow.trace_id, AssessmentRow.source_type, AssessmentRow.source_id
            ).where(AssessmentRow.name == "correct")
        ).all()
    assert sorted(r.trace_id for r in written) == sorted(ids)
    assert {r.source_type for r in written} == {"HUMAN"}
    assert {r.source_id for r in written} == {name for _, name in handed}
