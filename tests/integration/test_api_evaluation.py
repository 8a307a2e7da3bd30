"""EvaluationService on a real collector, on SQLite and PostgreSQL, through the client.

Proves that a run goes RUNNING → FINISHED with its metrics (NaN kept) and judge usage priced
by the collector; that a batch of results writes records, scores, feedback (with the run id)
and expectations in one transaction, visible through TraceService's feedback filters and
TraceInfo.assessments; that sending the same batch again adds nothing; that a bad record
fails the whole batch without writing any of it; that search filters, orders and pages; and
that results page in record order.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterator

import pytest
from otlp_builders import hex_id, make_request, make_span, new_trace_id
from processes import GrpcSender

from spyglass.client import SpyglassClient
from spyglass.collector.server import Collector
from spyglass.errors import FailedPreconditionError, InvalidArgumentError, NotFoundError
from spyglass.v1 import assessments_pb2 as apb
from spyglass.v1 import evaluation_pb2 as pb
from spyglass.v1 import evaluation_pb2_grpc as pb_grpc

Source = apb.AssessmentSource


@pytest.fixture
def client(collector: Collector) -> Iterator[SpyglassClient]:
    c = SpyglassClient(f"127.0.0.1:{collector.grpc_port}")
    yield c
    c.close()


def call(client: SpyglassClient, method: str, request: object) -> object:
    return client.call(getattr(client.stub(pb_grpc.EvaluationServiceStub), method), request)


def new_run(client: SpyglassClient, **fields: object) -> pb.EvaluationRun:
    fields.setdefault("name", "run")
    fields.setdefault(
        "scorers",
        [
            pb.EvaluationScorer(
                name="quality", source_type="LLM_JUDGE", source_id="openai:/gpt-4o-mini"
            )
        ],
    )
    return call(client, "CreateEvaluationRun", pb.CreateEvaluationRunRequest(**fields))


def scored(
    row: int,
    trace_id: str | None,
    quality: float | None = 1.0,
    expectations: dict | None = None,
    **record: object,
) -> pb.EvaluationRecord:  # type: ignore[type-arg]
    score = pb.EvaluationScore(
        name="quality",
        rationale="fine",
        source=Source(source_type=Source.LLM_JUDGE, source_id="openai:/gpt-4o-mini"),
        metadata={"judge": "q"},
    )
    if quality is None:
        score.error.error_code, score.error.error_message = "JudgeError", "endpoint down"
    else:
        score.value_json, score.score = json.dumps(quality), quality
    record.setdefault("inputs_json", json.dumps({"question": f"q{row}"}))
    message = pb.EvaluationRecord(
        row_index=row,
        expectations_json=json.dumps(expectations or {}),
        outputs_json=json.dumps(f"answer {row}"),
        scores=[score],
        **record,
    )
    if trace_id is not None:
        message.trace_id = trace_id
    return message


def send_traces(collector: Collector, n: int) -> list[str]:
    sender = GrpcSender(f"127.0.0.1:{collector.grpc_port}")
    ids = []
    for i in range(n):
        trace = new_trace_id()
        sender.send(make_request([make_span(f"answer-{i}", trace)]))
        ids.append(hex_id(trace))
    sender.close()
    return ids


def test_run_lifecycle_with_feedback_on_traces(
    collector: Collector, client: SpyglassClient
) -> None:
    traces = send_traces(collector, 3)
    run = new_run(
        client,
        model_id="bot-v1",
        dataset_id="d-1",
        dataset_name="qa",
        dataset_digest="abc",
        dataset_version=4,
    )
    assert run.status == pb.EvaluationRun.RUNNING and len(run.run_id) == 32
    batch = pb.LogEvaluationResultsRequest(
        run_id=run.run_id,
        records=[
            scored(
                0,
                traces[0],
                1.0,
                {"expected_response": "yes"},
                log_expectations=True,
                dataset_record_id="rec-0",
            ),
            scored(1, traces[1], 0.0),
            scored(2, traces[2], None),
        ],
    )
    logged = call(client, "LogEvaluationResults", batch)
    assert (logged.records_logged, logged.records_skipped, logged.assessments_logged) == (3, 0, 4)
    again = call(client, "LogEvaluationResults", batch)  # a retried batch
    assert (again.records_logged, again.records_skipped, again.assessments_logged) == (0, 3, 0)

    low = client.search_trace_pages(filter_string="feedback.quality < 0.5")
    assert [t.info.trace_id for page, _ in low for t in page] == [traces[1]]
    first = client.get_trace(traces[0])
    feedback = [a for a in first.info.assessments if a.name == "quality"]
    assert len(feedback) == 1  # not duplicated by the retry
    assert (feedback[0].value, feedback[0].run_id, feedback[0].rationale) == (
        1.0,
        run.run_id,
        "fine",
    )
    assert feedback[0].source.source_type == "LLM_JUDGE"
    assert first.info.expectations == {"expected_response": "yes"}
    failed = client.get_trace(traces[2]).info.assessments
    assert failed[0].error.error_message == "endpoint down" and failed[0].value is None

    finished = call(
        client,
        "FinishEvaluationRun",
        pb.FinishEvaluationRunRequest(
            run_id=run.run_id,
            status=pb.EvaluationRun.FINISHED,
            metrics={"quality/score": 0.5, "other/score": math.nan},
            judge_usage=[
                pb.ModelUsage(model="gpt-4o-mini", input_tokens=2_000_000, output_tokens=1_000_000),
                pb.ModelUsage(model="my-private-model", input_tokens=10, output_tokens=1),
            ],
        ),
    )
    assert finished.status == pb.EvaluationRun.FINISHED and finished.record_count == 3
    assert finished.end_time_ms >= finished.start_time_ms
    assert finished.metrics["quality/score"] == 0.5 and math.isnan(finished.metrics["other/score"])
    usage = finished.judge_usage
    assert (usage.input_tokens, usage.output_tokens) == (2_000_010, 1_000_001)
    # gpt-4o-mini at the shipped prices (0.15 / 0.60 USD per 1M); the unknown model is unpriced
    assert usage.cost == pytest.approx(2 * 0.15 + 0.60)
    assert [m.HasField("cost") for m in usage.models] == [True, False]
    got = call(client, "GetEvaluationRun", pb.GetEvaluationRunRequest(run_id=run.run_id))
    assert (got.dataset_id, got.dataset_digest, got.dataset_version, got.model_id) == (
        "d-1",
        "abc",
        4,
        "bot-v1",
    )
    with pytest.raises(FailedPreconditionError, match="is FINISHED"):
        call(
            client,
            "LogEvaluationResults",
            pb.LogEvaluationResultsRequest(run_id=run.run_id, records=[scored(3, traces[0])]),
        )


def test_a_bad_record_fails_the_whole_batch(collector: Collector, client: SpyglassClient) -> None:
    run = new_run(client)
    good = scored(0, "0af7651916cd43dd8448eb211c80319c")
    bad_score = scored(1, "0af7651916cd43dd8448eb211c80319d")
    bad_score.scores[0].value_json = "{not json"
    with pytest.raises(
        InvalidArgumentError, match=r"records\[1\].scores\[0\]: .*value_json is not valid JSON"
    ):
        call(
            client,
            "LogEvaluationResults",
            pb.LogEvaluationResultsRequest(run_id=run.run_id, records=[good, bad_score]),
        )
    for record, message in [
        (scored(0, "not-a-trace"), r"records\[0\].trace_id"),
        (scored(0, None, inputs_json="[1, 2]"), "must be a JSON object"),
        (scored(-1, None), "row indexes start at 0"),
    ]:
        with pytest.raises(InvalidArgumentError, match=message):
            call(
                client,
                "LogEvaluationResults",
                pb.LogEvaluationResultsRequest(run_id=run.run_id, records=[record]),
            )
    with pytest.raises(InvalidArgumentError, match="appears twice"):
        call(
            client,
            "LogEvaluationResults",
            pb.LogEvaluationResultsRequest(
                run_id=run.run_id, records=[scored(0, None), scored(0, None)]
            ),
        )
    got = call(client, "GetEvaluationRun", pb.GetEvaluationRunRequest(run_id=run.run_id))
    assert got.record_count == 0
    listed = call(
        client, "ListEvaluationResults", pb.ListEvaluationResultsRequest(run_id=run.run_id)
    )
    assert list(listed.records) == []
    unknown = uuid.uuid4().hex
    with pytest.raises(NotFoundError, match=f"evaluation run {unknown} not found"):
        call(client, "GetEvaluationRun", pb.GetEvaluationRunRequest(run_id=unknown))
    with pytest.raises(NotFoundError):
        call(client, "LogEvaluationResults", pb.LogEvaluationResultsRequest(run_id=unknown))
    with pytest.raises(InvalidArgumentError, match="not an evaluation run id"):
        call(client, "GetEvaluationRun", pb.GetEvaluationRunRequest(run_id="run-1"))
    with pytest.raises(NotFoundError, match="experiment 999 not found"):
        new_run(client, experiment_id="999")
    with pytest.raises(InvalidArgumentError, match="FINISHED or FAILED"):
        call(
            client,
            "FinishEvaluationRun",
            pb.FinishEvaluationRunRequest(run_id=run.run_id, status=pb.EvaluationRun.RUNNING),
        )


def test_search_filters_orders_and_pages(client: SpyglassClient) -> None:
    runs = [
        new_run(
            client, name=f"run-{i}", model_id=f"bot-v{i % 2}", dataset_id="d-1" if i < 3 else "d-2"
        )
        for i in range(5)
    ]
    call(
        client,
        "FinishEvaluationRun",
        pb.FinishEvaluationRunRequest(
            run_id=runs[1].run_id, status=pb.EvaluationRun.FAILED, error_message="stopped"
        ),
    )

    def search(**fields: object) -> list[str]:
        names, token = [], ""
        while True:
            page = call(
                client,
                "SearchEvaluationRuns",
                pb.SearchEvaluationRunsRequest(page_token=token, **fields),
            )
            names += [r.name for r in page.runs]
            token = page.next_page_token
            if not token:
                return names

    assert search(order_by=["name ASC"], max_results=2) == [f"run-{i}" for i in range(5)]
    assert search(order_by=["name DESC"]) == [f"run-{i}" for i in reversed(range(5))]
    assert search(model_id="bot-v1", order_by=["name"]) == ["run-1", "run-3"]
    assert search(dataset_id="d-2", order_by=["name"]) == ["run-3", "run-4"]
    assert search(status=pb.EvaluationRun.FAILED) == ["run-1"]
    assert search(name="run-2") == ["run-2"]
    assert (
        search(experiment_ids=["0"], max_results=1, order_by=["end_time DESC", "name"])[0]
        == "run-1"
    )  # the only finished run first, then the rest (no end time) by name
    assert sorted(search()) == [f"run-{i}" for i in range(5)]
    with pytest.raises(InvalidArgumentError, match="cannot sort evaluation runs by 'score'"):
        search(order_by=["score"])


def test_results_page_in_record_order(client: SpyglassClient) -> None:
    run = new_run(client)
    records = [scored(i, None, i / 10) for i in range(7)]
    call(
        client,
        "LogEvaluationResults",
        pb.LogEvaluationResultsRequest(run_id=run.run_id, records=records[4:]),
    )
    call(
        client,
        "LogEvaluationResults",
        pb.LogEvaluationResultsRequest(run_id=run.run_id, records=records[:4]),
    )
    seen, token = [], ""
    while True:
        page = call(
            client,
            "ListEvaluationResults",
            pb.ListEvaluationResultsRequest(run_id=run.run_id, page_size=3, page_token=token),
        )
        seen += [(r.row_index, r.scores[0].score) for r in page.records]
        token = page.next_page_token
        if not token:
            break
    assert seen == [(i, i / 10) for i in range(7)]
    first = call(
        client,
        "ListEvaluationResults",
        pb.ListEvaluationResultsRequest(run_id=run.run_id, page_size=1),
    ).records[0]
    assert len(first.input_hash) == 64 and not first.HasField("trace_id")
    assert not first.scores[0].HasField("assessment_id")  # no trace: no feedback written
