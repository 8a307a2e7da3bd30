"""The evaluator service's worker against fake collector services on a real gRPC server.

The fakes (EvaluationJobService, TraceService.BatchGetTraces, DatasetService) keep
everything in memory and answer like the collector's contract says (jobs.proto), so the
tests see exactly what the worker sent: batches of rows, releases, renewals, heartbeats.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
import httpx
import pytest

from spyglass.client import SpyglassClient
from spyglass.config import EvaluatorSettings
from spyglass.entities import AssessmentSource, Expectation, Span, Trace, TraceData, TraceInfo
from spyglass.evaluator.scorers import Scorer, ScoreResult, scorer
from spyglass.evaluator.scorers.judges import endpoints
from spyglass.evaluator.worker import serve as serve_module
from spyglass.evaluator.worker.chunk import build_rows
from spyglass.evaluator.worker.connection import Connection
from spyglass.evaluator.worker.heartbeat import Heartbeat, judge_rate_share
from spyglass.evaluator.worker.job_datasets import JobDatasets
from spyglass.evaluator.worker.lease import Lease
from spyglass.evaluator.worker.loop import Worker, WorkerOptions
from spyglass.evaluator.worker.metrics import WorkerMetrics
from spyglass.v1 import datasets_pb2 as dpb
from spyglass.v1 import datasets_pb2_grpc, jobs_pb2_grpc, traces_pb2_grpc
from spyglass.v1 import jobs_pb2 as pb
from spyglass.v1 import traces_pb2 as tpb

# -- fake collector services -------------------------------------------------------------------


class FakeJobs(jobs_pb2_grpc.EvaluationJobServiceServicer):
    """Chunks to lease, and a record of every call about them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pending: list[pb.ClaimWorkResponse] = []
        self.held: set[str] = set()
        self.stored: dict[int, pb.EvaluationRecord] = {}
        self.batches: list[int] = []
        self.releases: list[pb.ReleaseLeaseRequest] = []
        self.heartbeats: list[pb.HeartbeatRequest] = []
        self.renewals = 0
        self.live_workers = 1
        self.claim_failures = 0  # UNAVAILABLE answers to give before the next claim works
        self.log_down = False  # LogWorkResults answers UNAVAILABLE (the collector is away)
        self.lose_once_stored: int | None = None  # lose the lease once this many rows are in
        self.stored_when_lost = 0
        self.cancelled = False

    def add_chunk(self, job: pb.EvaluationJob, items: list[pb.WorkItem]) -> None:
        self.pending.append(
            pb.ClaimWorkResponse(job=job, chunk_index=len(self.pending), items=items)
        )

    def Heartbeat(self, request: pb.HeartbeatRequest, context: Any) -> pb.HeartbeatResponse:
        with self.lock:
            self.heartbeats.append(request)
            return pb.HeartbeatResponse(live_workers=self.live_workers)

    def ClaimWork(self, request: pb.ClaimWorkRequest, context: Any) -> pb.ClaimWorkResponse:
        with self.lock:
            if self.claim_failures:
                self.claim_failures -= 1
                context.abort(grpc.StatusCode.UNAVAILABLE, "collector restarting")
            if not self.pending:
                return pb.ClaimWorkResponse()
            claim = self.pending.pop(0)
            claim.lease_id = uuid.uuid4().hex
            missing = [i for i in claim.items if i.row_index not in self.stored]
            del claim.items[:]
            claim.items.extend(missing)
            self.held.add(claim.lease_id)
            return claim

    def _check_held(self, lease_id: str, context: Any) -> None:
        if lease_id not in self.held:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, f"lease {lease_id} lost")

    def RenewLease(self, request: pb.RenewLeaseRequest, context: Any) -> pb.RenewLeaseResponse:
        with self.lock:
            self.renewals += 1
            self._check_held(request.lease_id, context)
            return pb.RenewLeaseResponse(
                lease_expires_ms=int(time.time() * 1000) + 30_000, cancelled=self.cancelled
            )

    def LogWorkResults(
        self, request: pb.LogWorkResultsRequest, context: Any
    ) -> pb.LogWorkResultsResponse:
        with self.lock:
            if self.log_down:
                context.abort(grpc.StatusCode.UNAVAILABLE, "collector restarting")
            self._check_held(request.lease_id, context)
            logged = 0
            for record in request.records:
                if record.row_index not in self.stored:
                    self.stored[record.row_index] = record
                    logged += 1
            self.batches.append(len(request.records))
            if (
                self.lose_once_stored is not None
                and len(self.stored) >= self.lose_once_stored
                and request.lease_id in self.held
            ):
                self.held.discard(request.lease_id)  # expired, and another worker took it
                self.stored_when_lost = len(self.stored)
            return pb.LogWorkResultsResponse(
                records_logged=logged, records_skipped=len(request.records) - logged
            )

    def ReleaseLease(
        self, request: pb.ReleaseLeaseRequest, context: Any
    ) -> pb.ReleaseLeaseResponse:
        with self.lock:
            self._check_held(request.lease_id, context)
            self.held.discard(request.lease_id)
            self.releases.append(request)
            return pb.ReleaseLeaseResponse(job_status=pb.RUNNING)


class FakeTraces(traces_pb2_grpc.TraceServiceServicer):
    def __init__(self) -> None:
        self.traces: dict[str, tpb.Trace] = {}

    def BatchGetTraces(
        self, request: tpb.BatchGetTracesRequest, context: Any
    ) -> tpb.BatchGetTracesResponse:
        return tpb.BatchGetTracesResponse(
            traces=[self.traces[t] for t in request.trace_ids if t in self.traces]
        )


class FakeDatasets(datasets_pb2_grpc.DatasetServiceServicer):
    """Datasets by name and id, with records as (inputs, expectations) pairs."""

    def __init__(self) -> None:
        self.records: dict[str, list[tuple[dict, dict]]] = {}
        self.names: dict[str, str] = {}
        self.merged: list[tuple[str, dict[str, list]]] = []
        self.pages: list[str] = []  # the page tokens ListRecords was asked for
        self.page_size = 2

    def add(self, name: str, records: list[tuple[dict, dict]]) -> str:
        dataset_id = f"d-{len(self.names)}"
        self.names[name], self.records[dataset_id] = dataset_id, records
        return dataset_id

    def GetDataset(self, request: dpb.GetDatasetRequest, context: Any) -> dpb.Dataset:
        dataset_id = self.names.get(request.name) if request.name else request.dataset_id
        if dataset_id not in self.records:
            context.abort(grpc.StatusCode.NOT_FOUND, f"no dataset {request.name or dataset_id}")
        return dpb.Dataset(dataset_id=dataset_id, name=request.name)

    def ListRecords(self, request: dpb.ListRecordsRequest, context: Any) -> dpb.ListRecordsResponse:
        self.pages.append(request.page_token)
        records = self.records[request.dataset_id]
        start = int(request.page_token or 0)
        page = records[start : start + self.page_size]
        following = start + self.page_size
        n = len(page)
        columns = dpb.DatasetRecordColumns(
            dataset_record_id=[f"r{start + i}" for i in range(n)],
            inputs=json.dumps([i for i, _ in page]).encode(),
            expectations=json.dumps([e for _, e in page]).encode(),
            outputs=json.dumps([None] * n).encode(),
            tags=json.dumps([None] * n).encode(),
            source_type=[3] * n,
            source_id=[""] * n,
            create_time_ms=[0] * n,
            last_update_time_ms=[0] * n,
        )
        return dpb.ListRecordsResponse(
            records=columns,
            version=1,
            next_page_token=str(following) if following < len(records) else "",
        )

    def MergeRecords(
        self, requests: Iterator[dpb.MergeRecordsRequest], context: Any
    ) -> dpb.MergeRecordsResponse:
        requests = list(requests)
        columns: dict[str, list] = {"inputs": [], "expectations": [], "source_id": []}
        for request in requests:
            columns["inputs"] += json.loads(request.records.inputs)
            columns["expectations"] += json.loads(request.records.expectations)
            columns["source_id"] += list(request.records.source_id)
        self.merged.append((requests[0].dataset_id, columns))
        return dpb.MergeRecordsResponse(
            dataset=dpb.Dataset(dataset_id=requests[0].dataset_id),
            inserted_count=len(columns["inputs"]),
        )


class Collector:
    def __init__(self) -> None:
        self.jobs, self.traces, self.datasets = FakeJobs(), FakeTraces(), FakeDatasets()
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
        jobs_pb2_grpc.add_EvaluationJobServiceServicer_to_server(self.jobs, self.server)
        traces_pb2_grpc.add_TraceServiceServicer_to_server(self.traces, self.server)
        datasets_pb2_grpc.add_DatasetServiceServicer_to_server(self.datasets, self.server)
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()
        self.address = f"127.0.0.1:{self.port}"
        self.client = SpyglassClient(self.address, timeout=10)
        self.connection = Connection(self.client, WorkerMetrics())

    def worker(self, registry: dict[str, Scorer] | None = None, **options: Any) -> Worker:
        options.setdefault("concurrency", 4)
        options.setdefault("lease_seconds", 30.0)
        options.setdefault("poll_seconds", 0.05)
        return Worker(self.connection, "host:1:abcd", registry or {}, WorkerOptions(**options))

    def metric(self, name: str, **labels: str) -> float:
        value = self.connection.metrics.registry.get_sample_value(name, labels)
        return 0.0 if value is None else value


@pytest.fixture
def collector() -> Iterator[Collector]:
    fake = Collector()
    yield fake
    fake.client.close()
    fake.server.stop(None)


# -- helpers ----------------------------------------------------------------------------------


def job(
    *refs: pb.ScorerRef,
    monitor: bool = False,
    build_dataset: str = "",
    expectations_dataset: str | None = None,
) -> pb.EvaluationJob:
    message = pb.EvaluationJob(
        job_id=uuid.uuid4().hex,
        run_id=uuid.uuid4().hex,
        scorers=list(refs),
        build_dataset=build_dataset,
        monitor_id="m1" if monitor else "",
    )
    if expectations_dataset is not None:
        message.input.traces.expectations_dataset = expectations_dataset
    else:
        message.input.dataset.dataset = "qa"
    return message


def ref(kind: str, **params: Any) -> pb.ScorerRef:
    return pb.ScorerRef(type=kind, params_json=json.dumps(params) if params else "")


def answer(i: int) -> str:
    return "yes" if i % 2 == 0 else "no"


def dataset_items(count: int, first_row: int = 0, **extra: Any) -> list[pb.WorkItem]:
    return [
        pb.WorkItem(
            row_index=first_row + i,
            dataset_record_id=f"rec{i}",
            inputs_json=json.dumps({"question": f"q{i}"}),
            expectations_json=json.dumps({"expected_response": "yes"}),
            outputs_json=json.dumps(answer(i)),
            **extra,
        )
        for i in range(count)
    ]


def score_of(record: pb.EvaluationRecord, name: str) -> Any:
    return next(s for s in record.scores if s.name == name)


class PricedJudge(Scorer):
    """Stands in for an LLM judge: source LLM_JUDGE, 10 + 2 tokens per row."""

    source_type = "LLM_JUDGE"

    def __call__(self, outputs: Any) -> ScoreResult:
        return ScoreResult(
            name=self.name,
            value=1.0,
            score=1.0,
            source_type="LLM_JUDGE",
            source_id="openai:/judge-model",
            usage={"model": "judge-model", "input_tokens": 10, "output_tokens": 2},
        )


def slow(seconds: float, calls: list[int] | None = None) -> Scorer:
    """A scorer taking ``seconds`` per row; ``calls`` gets a 1 per row it really scored."""

    @scorer(name="slow")
    def slow_scorer(outputs: Any) -> bool:
        if calls is not None:
            calls.append(1)
        time.sleep(seconds)
        return True

    return slow_scorer


# -- one chunk ----------------------------------------------------------------------------------


def test_a_chunk_is_scored_sent_in_batches_and_released_done_with_judge_usage(
    collector: Collector,
) -> None:
    items = dataset_items(250, first_row=1000)
    collector.jobs.add_chunk(job(ref("ExactMatch"), ref("priced")), items)
    worker = collector.worker({"priced": PricedJudge(name="priced")})
    claim = worker._claim()

    assert worker.process(Lease(claim, worker.worker_id)) == "done"

    stored = collector.jobs.stored
    assert sorted(stored) == list(range(1000, 1250))  # the job's row indexes, each once
    assert sum(collector.jobs.batches) == 250 and len(collector.jobs.batches) >= 3
    assert max(collector.jobs.batches) <= 100
    for i in range(250):
        record = stored[1000 + i]
        assert record.dataset_record_id == f"rec{i}" and not record.log_expectations
        assert json.loads(record.outputs_json) == answer(i)
        assert json.loads(score_of(record, "exact_match").value_json) is (i % 2 == 0)
        assert score_of(record, "priced").score == 1.0
    (release,) = collector.jobs.releases
    assert release.done and release.error_message == ""
    assert [(u.model, u.input_tokens, u.output_tokens) for u in release.judge_usage] == [
        ("judge-model", 2500, 500)
    ]
    assert collector.metric("spyglass_evaluator_chunks_total", outcome="done") == 1
    assert collector.metric("spyglass_evaluator_rows_scored_total", kind="job") == 250
    assert collector.metric("spyglass_evaluator_judge_latency_seconds_count") == 250
    assert collector.metric("spyglass_evaluator_leases_held") == 0


def test_per_row_problems_are_row_errors_and_the_chunk_still_finishes(collector: Collector) -> None:
    items = dataset_items(2)
    items[1].ClearField("expectations_json")  # ExactMatch has nothing to compare with
    gone = pb.WorkItem(row_index=2, trace_id="ab" * 16, inputs_json=json.dumps({"q": "x"}))
    collector.jobs.add_chunk(
        job(ref("ExactMatch"), ref("nosuchpkg.scorers:thing"), monitor=True), [*items, gone]
    )
    worker = collector.worker()

    assert worker.process(Lease(worker._claim(), worker.worker_id)) == "done"

    stored = collector.jobs.stored
    assert json.loads(score_of(stored[0], "exact_match").value_json) is True
    assert (
        "needs expectations.expected_response"
        in score_of(stored[1], "exact_match").error.error_message
    )
    for record in (stored[0], stored[1]):  # a scorer that cannot be loaded errs on its rows
        error = score_of(record, "thing").error
        assert error.error_code == "ScorerLoadError"
        assert "could not load scorer 'nosuchpkg.scorers:thing'" in error.error_message
    assert f"trace {'ab' * 16} not found" in stored[2].error
    assert {s.error.error_code for s in stored[2].scores} == {"PredictError"}  # not scored
    assert not stored[2].HasField("trace_id")  # no feedback on a trace that is gone
    assert json.loads(stored[2].inputs_json) == {"q": "x"}  # the row keeps what is known
    assert collector.jobs.releases[0].done
    assert collector.metric("spyglass_evaluator_rows_scored_total", kind="monitor") == 3
    assert collector.metric("spyglass_evaluator_score_errors_total", scorer="thing") == 3


def test_a_lost_lease_stops_the_chunk_and_it_is_not_released(collector: Collector) -> None:
    collector.jobs.add_chunk(job(ref("slow")), dataset_items(300))
    collector.jobs.lose_once_stored = 100  # after the batch that brings it to 100
    calls: list[int] = []
    worker = collector.worker({"slow": slow(0.02, calls)}, concurrency=2, lease_seconds=0.3)

    assert worker.process(Lease(worker._claim(), worker.worker_id)) == "lost"

    assert len(calls) < 300  # the rows not started when the lease was lost never ran
    assert collector.jobs.releases == []
    assert 100 <= len(collector.jobs.stored) == collector.jobs.stored_when_lost < 300
    assert all(
        not any(s.error.error_message for s in r.scores) for r in collector.jobs.stored.values()
    )  # no half-scored row was sent
    assert collector.metric("spyglass_evaluator_chunks_total", outcome="lost") == 1


def test_a_cancelled_job_is_given_back_without_an_error(collector: Collector) -> None:
    collector.jobs.add_chunk(job(ref("slow")), dataset_items(100))
    collector.jobs.cancelled = True
    worker = collector.worker({"slow": slow(0.02)}, concurrency=2, lease_seconds=0.3)

    assert worker.process(Lease(worker._claim(), worker.worker_id)) == "given_back"

    (release,) = collector.jobs.releases
    assert not release.done and release.error_message == ""
    assert len(collector.jobs.stored) < 100
    assert collector.metric("spyglass_evaluator_chunks_total", outcome="given_back") == 1


def test_a_collector_outage_longer_than_the_lease_gives_the_chunk_back_without_blame(
    collector: Collector,
) -> None:
    collector.jobs.add_chunk(job(ref("ExactMatch")), dataset_items(3))
    collector.jobs.log_down = True
    worker = collector.worker(lease_seconds=0.3)

    assert worker.process(Lease(worker._claim(), worker.worker_id)) == "given_back"

    (release,) = collector.jobs.releases
    assert not release.done and release.error_message == ""  # not a failed attempt
    assert collector.jobs.stored == {}


def test_a_chunk_that_breaks_is_given_back_with_its_error(collector: Collector) -> None:
    collector.jobs.add_chunk(job(ref("ExactMatch"), build_dataset="missing"), dataset_items(3))
    worker = collector.worker()

    assert worker.process(Lease(worker._claim(), worker.worker_id)) == "failed"

    (release,) = collector.jobs.releases
    assert not release.done
    assert release.error_message.startswith("NotFoundError: no dataset missing")
    assert collector.jobs.stored == {}
    assert collector.metric("spyglass_evaluator_chunks_total", outcome="failed") == 1


def test_build_dataset_gets_the_rows_with_their_source_traces(collector: Collector) -> None:
    target = collector.datasets.add("built", [])
    items = dataset_items(3)
    items[0].trace_id = "cd" * 16
    collector.jobs.add_chunk(job(ref("ExactMatch"), build_dataset="built"), items)
    worker = collector.worker()

    assert worker.process(Lease(worker._claim(), worker.worker_id)) == "done"

    ((dataset_id, columns),) = collector.datasets.merged
    assert dataset_id == target
    assert columns["inputs"] == [{"question": f"q{i}"} for i in range(3)]
    assert columns["expectations"] == [{"expected_response": "yes"}] * 3
    assert columns["source_id"] == ["cd" * 16, "", ""]
    assert len(collector.jobs.stored) == 3


def test_shutdown_sends_rows_in_flight_and_gives_the_chunk_back(collector: Collector) -> None:
    collector.jobs.add_chunk(job(ref("slow")), dataset_items(400))
    worker = collector.worker({"slow": slow(0.05)}, concurrency=4)
    outcome: list[str] = []
    thread = threading.Thread(
        target=lambda: outcome.append(worker.process(Lease(worker._claim(), worker.worker_id)))
    )
    thread.start()
    deadline = time.monotonic() + 10
    while len(collector.jobs.stored) < 8 and time.monotonic() < deadline:
        time.sleep(0.01)

    worker.stop()
    thread.join(10)

    assert outcome == ["given_back"]
    (release,) = collector.jobs.releases
    assert not release.done and release.error_message == ""  # clean: not an attempt
    stored = collector.jobs.stored
    assert 8 <= len(stored) < 400
    assert all(score_of(r, "slow").HasField("value_json") for r in stored.values())


def test_claims_back_off_while_the_collector_is_down_and_readiness_says_so(
    collector: Collector,
) -> None:
    collector.jobs.claim_failures = 5  # the client's own gRPC retries take 4 of them
    collector.jobs.add_chunk(job(ref("ExactMatch")), dataset_items(2))
    worker = collector.worker()
    reasons: list[str | None] = []
    collector.connection.readiness.answered()
    original = worker._claim_failed

    def failed(state: Any) -> None:
        original(state)
        reasons.append(collector.connection.readiness.reason())

    worker._claim_failed = failed  # type: ignore[method-assign]
    loop = threading.Thread(target=worker.run)
    loop.start()
    try:
        deadline = time.monotonic() + 20
        while not collector.jobs.releases and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        worker.stop()
        loop.join(10)

    assert reasons and reasons[0].startswith("claiming work failed (collector at ")
    assert "is unavailable (collector restarting)" in reasons[0]
    assert collector.jobs.releases[0].done and len(collector.jobs.stored) == 2
    assert collector.connection.readiness.reason() is None
    assert collector.metric("spyglass_evaluator_collector_errors_total", method="ClaimWork") >= 1


# -- rows of trace jobs ---------------------------------------------------------------------------


def make_trace(
    trace_id: str, inputs: Any, outputs: Any, expectations: dict[str, Any] | None = None
) -> Trace:
    root = Span(
        trace_id=trace_id,
        span_id="1" * 16,
        parent_id=None,
        name="app",
        span_type="CHAIN",
        start_time_ns=1,
        end_time_ns=2,
        status="OK",
        inputs=inputs,
        outputs=outputs,
    )
    assessments = [
        Expectation(name=k, value=v, trace_id=trace_id, source=AssessmentSource("HUMAN"))
        for k, v in (expectations or {}).items()
    ]
    info = TraceInfo(
        trace_id=trace_id,
        experiment_id="1",
        request_time=0,
        execution_duration=1,
        state="OK",
        assessments=assessments,
    )
    return Trace(info, TraceData([root]))


def test_trace_rows_join_dataset_expectations_and_the_trace_own_win() -> None:
    from spyglass import canonical_json

    traces = {
        t.info.trace_id: t
        for t in [
            make_trace(
                "a" * 32,
                {"question": "refunds?", "lang": "en"},
                "30 days",
                {"expected_response": "thirty days"},
            ),
            make_trace("b" * 32, {"lang": "en", "question": "shipping?"}, "5 days"),
            make_trace("e" * 32, "not a dict", "?"),
        ]
    }
    joined = {
        canonical_json.canonical_hash({"question": q, "lang": "en"}): {
            "expected_response": r,
            "tone": "polite",
        }
        for q, r in [("refunds?", "dataset answer"), ("shipping?", "5 days")]
    }
    items = [
        pb.WorkItem(row_index=10 + i, trace_id=t)
        for i, t in enumerate(["a" * 32, "b" * 32, "c" * 32, "e" * 32])
    ]
    asked: list[list[str]] = []

    def get(ids: list[str]) -> list[Trace]:
        asked.append(ids)
        return [traces[i] for i in ids if i in traces]

    rows = build_rows(items, get, needs_trace=False, expectations_by_input=joined)

    assert asked == [sorted({"a" * 32, "b" * 32, "c" * 32, "e" * 32})]
    assert rows.row_indexes == [10, 11, 12, 13]
    first, second, gone, bad = rows.records
    assert first.expectations == {"expected_response": "thirty days", "tone": "polite"}
    assert (second.outputs, second.expectations["expected_response"]) == ("5 days", "5 days")
    assert second.trace is traces["b" * 32] and second.trace_id == "b" * 32
    assert rows.errors[2].startswith(f"trace {'c' * 32} not found") and gone.trace_id is None
    assert "inputs must be a dict" in rows.errors[3] and bad.trace_id == "e" * 32
    assert rows.prediction(gone).error == rows.errors[2]
    assert rows.prediction(first).error is None and rows.prediction(first).outputs == "30 days"


def test_dataset_rows_fetch_their_trace_only_when_needed() -> None:
    trace = make_trace("a" * 32, {"q": 1}, "from the trace")
    with_outputs = pb.WorkItem(
        row_index=0, inputs_json='{"q": 1}', outputs_json='"kept"', trace_id="a" * 32
    )
    without = pb.WorkItem(row_index=1, inputs_json='{"q": 2}', trace_id="a" * 32)
    asked: list[list[str]] = []

    def get(ids: list[str]) -> list[Trace]:
        asked.append(ids)
        return [trace]

    rows = build_rows([with_outputs, without], get, needs_trace=False, expectations_by_input={})
    assert asked == [["a" * 32]]  # for the row without outputs
    assert rows.records[0].outputs == "kept" and rows.records[1].outputs == "from the trace"

    asked.clear()
    rows = build_rows([with_outputs], get, needs_trace=False, expectations_by_input={})
    assert asked == [] and rows.records[0].trace is None and rows.records[0].trace_id == "a" * 32
    rows = build_rows([with_outputs], get, needs_trace=True, expectations_by_input={})
    assert asked == [["a" * 32]] and rows.records[0].trace is trace


def test_expectations_dataset_is_read_once_per_job_across_pages(collector: Collector) -> None:
    collector.datasets.add(
        "gold", [({"q": i}, {"expected_response": str(i)} if i != 3 else {}) for i in range(5)]
    )
    datasets = JobDatasets(collector.connection)
    trace_job = job(ref("ExactMatch"), expectations_dataset="gold")
    from spyglass import canonical_json

    found = datasets.expectations(trace_job)
    assert found == {
        canonical_json.canonical_hash({"q": i}): {"expected_response": str(i)} for i in (0, 1, 2, 4)
    }
    assert datasets.expectations(trace_job) is found
    assert collector.datasets.pages == ["", "2", "4"]  # read once, page by page
    by_id = job(ref("ExactMatch"), expectations_dataset=collector.datasets.names["gold"])
    assert datasets.expectations(by_id) == found  # named by id works too
    assert datasets.expectations(job(ref("ExactMatch"))) == {}


# -- heartbeat and the judge rate share -----------------------------------------------------------


def test_the_judge_rate_is_shared_among_live_workers(collector: Collector) -> None:
    assert judge_rate_share(None, 3) is None
    assert judge_rate_share(12.0, 3) == 4.0 and judge_rate_share(12.0, 0) == 12.0
    endpoints.reset()
    try:
        collector.jobs.live_workers = 4
        heartbeat = Heartbeat(
            collector.connection, "host:1:abcd", 8, ["b", "a"], 12.0, interval=0.05
        )
        assert endpoints._limiter("http://judge/v1").rate == 12.0  # alone until told
        heartbeat.start()
        assert endpoints._limiter("http://judge/v1").rate == 3.0
        collector.jobs.live_workers = 2
        deadline = time.monotonic() + 5
        while endpoints._limiter("http://judge/v1").rate != 6.0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert endpoints._limiter("http://judge/v1").rate == 6.0
        assert collector.metric("spyglass_evaluator_live_workers") == 2
        heartbeat.stop()
    finally:
        endpoints.reset()
    first, last = collector.jobs.heartbeats[0], collector.jobs.heartbeats[-1]
    assert (first.worker_id, first.concurrency, list(first.scorer_names), first.stopping) == (
        "host:1:abcd",
        8,
        ["a", "b"],
        False,
    )
    assert last.stopping and sum(h.stopping for h in collector.jobs.heartbeats) == 1


# -- the whole service in-process -----------------------------------------------------------------


def test_serve_answers_health_scores_and_gives_back_on_stop(
    collector: Collector, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        serve_module, "_configure_sdk", lambda settings: SpyglassClient(settings.collector)
    )
    collector.jobs.add_chunk(job(ref("ExactMatch")), dataset_items(5))
    collector.jobs.add_chunk(
        job(ref("ExactMatch"), build_dataset="missing"), dataset_items(1, first_row=5)
    )
    settings = EvaluatorSettings.load(
        env={}, collector=collector.address, http_port=0, poll_seconds=0.05, concurrency=2
    )
    stop = threading.Event()
    started: list[Any] = []
    result: list[bool] = []
    thread = threading.Thread(
        target=lambda: result.append(serve_module.serve(settings, stop, on_started=started.append))
    )
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not (started and collector.jobs.releases) and time.monotonic() < deadline:
            time.sleep(0.02)
        url = f"http://127.0.0.1:{started[0].port}"
        assert httpx.get(url + "/healthz").status_code == 200
        ready = httpx.get(url + "/readyz")
        assert (ready.status_code, ready.text) == (200, "ready\n")
        while len(collector.jobs.releases) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        metrics = httpx.get(url + "/metrics").text
        assert 'spyglass_evaluator_chunks_total{outcome="done"} 1.0' in metrics
        assert 'spyglass_evaluator_chunks_total{outcome="failed"} 1.0' in metrics
        assert 'spyglass_evaluator_rows_scored_total{kind="job"} 5.0' in metrics
        assert "spyglass_evaluator_live_workers 1.0" in metrics
    finally:
        stop.set()
        thread.join(30)
    assert result == [True]
    assert collector.jobs.heartbeats[-1].stopping
    assert [r.done for r in collector.jobs.releases] == [True, False]


def test_settings_the_worker_cannot_use_are_refused_at_start() -> None:
    from spyglass.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="--lease-seconds must be more than 0"):
        serve_module.check_settings(EvaluatorSettings.load(env={}, lease_seconds=0))
    with pytest.raises(ConfigurationError, match="--scorers-module nosuch_scorers_pkg"):
        serve_module.serve(EvaluatorSettings.load(env={}, scorers_modules=("nosuch_scorers_pkg",)))
