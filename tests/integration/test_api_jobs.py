"""EvaluationJobService on a real collector, on SQLite and PostgreSQL, through the client.

What it proves:

* a dataset job and a trace-filter job snapshot their rows at submit (dataset records with
  inputs/expectations/outputs; the matching traces of the experiment, oldest first, the
  newest with max_traces) and split them into chunks;
* claim → log → release finishes the job and its run, with metrics from the stored results,
  judge usage priced, errors by scorer and rows with errors on the job, feedback on traces;
* LogWorkResults skips rows the run has, refuses rows of other chunks, and a chunk cannot be
  released done with rows missing;
* a lease that expired but was not claimed again still works; once another worker claims
  the chunk it gets only the missing rows and the old lease fails with
  FAILED_PRECONDITION ("lost");
* a chunk given back with an error five times fails, and so does its job, naming it; a
  clean give-back is not an attempt;
* cancel stops the job (its run FAILED "cancelled"; the holder learns it on renew);
* bad specs are refused with messages that say what to fix, and nothing is stored;
* heartbeats count live workers and register scorer names SubmitJob then accepts;
* a monitor feeds its job with new traces over OTLP and shows what it scored.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator

import pytest
from otlp_builders import hex_id, make_request, make_span, new_trace_id
from processes import GrpcSender

from spyglass.client import SpyglassClient
from spyglass.collector.server import Collector
from spyglass.errors import (
    FailedPreconditionError,
    InvalidArgumentError,
    InvalidFilterError,
    NotFoundError,
)
from spyglass.evaluator.datasets.normalize import to_columns
from spyglass.v1 import datasets_pb2 as dpb
from spyglass.v1 import datasets_pb2_grpc as dpb_grpc
from spyglass.v1 import evaluation_pb2 as epb
from spyglass.v1 import evaluation_pb2_grpc as epb_grpc
from spyglass.v1 import jobs_pb2 as pb
from spyglass.v1 import jobs_pb2_grpc as pb_grpc

EXACT = pb.ScorerRef(type="ExactMatch")


@pytest.fixture
def client(collector: Collector) -> Iterator[SpyglassClient]:
    c = SpyglassClient(f"127.0.0.1:{collector.grpc_port}")
    yield c
    c.close()


@pytest.fixture
def jobs(client: SpyglassClient) -> Callable[[str, object], object]:
    """``jobs("Method", request)``: one EvaluationJobService call."""
    stub = client.stub(pb_grpc.EvaluationJobServiceStub)
    return lambda method, request: client.call(getattr(stub, method), request)


def make_dataset(client: SpyglassClient, name: str, records: list[dict]) -> dpb.Dataset:
    stub = client.stub(dpb_grpc.DatasetServiceStub)
    dataset = client.call(stub.CreateDataset, dpb.CreateDatasetRequest(name=name))
    if records:
        chunks = to_columns(records).chunks()
        client.call(
            stub.MergeRecords,
            iter(
                [
                    dpb.MergeRecordsRequest(
                        dataset_id=dataset.dataset_id if n == 0 else "", records=chunk
                    )
                    for n, chunk in enumerate(chunks)
                ]
            ),
        )
    return dataset


def send_traces(collector: Collector, names: list[str], experiment: str | None = None) -> list[str]:
    sender = GrpcSender(f"127.0.0.1:{collector.grpc_port}")
    ids = []
    for n, name in enumerate(names):
        trace = new_trace_id()
        root = make_span(
            name, trace, attributes={"input.value": f"question {n}", "output.value": f"answer {n}"}
        )
        assert sender.send(make_request([root]), experiment=experiment).ok
        ids.append(hex_id(trace))
    sender.close()
    return ids


def record(row: int, value: float | None, trace_id: str | None = None) -> epb.EvaluationRecord:
    score = epb.EvaluationScore(name="quality")
    if value is None:
        score.error.error_code, score.error.error_message = "JudgeError", "judge timed out"
    else:
        score.value_json, score.score = json.dumps(value), value
    message = epb.EvaluationRecord(row_index=row, scores=[score])
    if trace_id:
        message.trace_id = trace_id
    return message


def run_of(client: SpyglassClient, run_id: str) -> epb.EvaluationRun:
    stub = client.stub(epb_grpc.EvaluationServiceStub)
    return client.call(stub.GetEvaluationRun, epb.GetEvaluationRunRequest(run_id=run_id))


def dataset_job(
    jobs: Callable, client: SpyglassClient, rows: int, chunk_size: int, name: str = "qa"
) -> pb.EvaluationJob:
    make_dataset(
        client,
        name,
        [{"inputs": {"q": f"q{i}"}, "expectations": {"a": f"a{i}"}} for i in range(rows)],
    )
    return jobs(
        "SubmitJob",
        pb.SubmitJobRequest(
            input=pb.JobInput(dataset=pb.DatasetInput(dataset=name)),
            scorers=[EXACT],
            chunk_size=chunk_size,
        ),
    )


def log(
    jobs: Callable, claim: pb.ClaimWorkResponse, worker: str, records: list[epb.EvaluationRecord]
) -> pb.LogWorkResultsResponse:
    return jobs(
        "LogWorkResults",
        pb.LogWorkResultsRequest(lease_id=claim.lease_id, worker_id=worker, records=records),
    )


def release(
    jobs: Callable, claim: pb.ClaimWorkResponse, worker: str, done: bool = True, **fields: object
) -> pb.ReleaseLeaseResponse:
    return jobs(
        "ReleaseLease",
        pb.ReleaseLeaseRequest(lease_id=claim.lease_id, worker_id=worker, done=done, **fields),
    )


def claim(jobs: Callable, worker: str, **fields: object) -> pb.ClaimWorkResponse:
    return jobs("ClaimWork", pb.ClaimWorkRequest(worker_id=worker, **fields))


# -- tests -----------------------------------------------------------------------------------


def test_dataset_job_runs_to_the_end(client: SpyglassClient, jobs: Callable) -> None:
    make_dataset(
        client,
        "qa",
        [
            {"inputs": {"q": "q0"}, "expectations": {"a": "a0"}, "outputs": "a0"},
            *({"inputs": {"q": f"q{i}"}, "expectations": {"a": f"a{i}"}} for i in range(1, 5)),
        ],
    )
    job = jobs(
        "SubmitJob",
        pb.SubmitJobRequest(
            name="nightly",
            input=pb.JobInput(dataset=pb.DatasetInput(dataset="qa")),
            scorers=[pb.ScorerRef(type="Guidelines", params_json='{"name": "quality"}')],
            chunk_size=2,
        ),
    )
    assert (job.status, job.total_rows, job.chunks_total, job.chunk_size) == (pb.PENDING, 5, 3, 2)
    assert job.input.dataset.version == 1  # the version scored is recorded
    run = run_of(client, job.run_id)
    assert run.status == epb.EvaluationRun.RUNNING and run.dataset_name == "qa"
    assert [s.name for s in run.scorers] == ["quality"]

    values = {0: 1.0, 1: 0.0, 2: None, 3: 1.0, 4: 1.0}
    usage = [epb.ModelUsage(model="gpt-4o-mini", input_tokens=1_000_000, output_tokens=0)]
    first = claim(jobs, "w1")
    assert first.chunk_index == 0 and first.previous_attempts == 0
    assert first.job.job_id == job.job_id and first.job.status == pb.RUNNING
    items = list(first.items)
    assert [i.row_index for i in items] == [0, 1]
    assert json.loads(items[0].inputs_json) == {"q": "q0"}
    assert json.loads(items[0].expectations_json) == {"a": "a0"}
    assert json.loads(items[0].outputs_json) == "a0" and not items[1].HasField("outputs_json")
    statuses = []
    lease = first
    while lease.lease_id:
        rows = [i.row_index for i in lease.items]
        logged = log(jobs, lease, "w1", [record(r, values[r]) for r in rows])
        assert (logged.records_logged, logged.records_skipped) == (len(rows), 0)
        statuses.append(release(jobs, lease, "w1", judge_usage=usage).job_status)
        lease = claim(jobs, "w1")
    assert statuses == [pb.RUNNING, pb.RUNNING, pb.FINISHED]

    done = jobs("GetJob", pb.GetJobRequest(job_id=job.job_id))
    assert (done.status, done.rows_done, done.rows_with_errors) == (pb.FINISHED, 5, 1)
    assert (done.chunks_done, done.chunks_leased, done.chunks_failed) == (3, 0, 0)
    assert [(e.name, e.count, e.last_error) for e in done.errors] == [
        ("quality", 1, "judge timed out")
    ]
    assert done.finished_time_ms >= done.started_time_ms >= done.created_time_ms
    assert not done.HasField("eta_seconds") and not done.HasField("error_message")
    run = run_of(client, job.run_id)
    assert run.status == epb.EvaluationRun.FINISHED and run.record_count == 5
    assert run.metrics["quality/score"] == pytest.approx(0.75)
    assert run.metrics["quality/error_count"] == 1
    assert run.judge_usage.input_tokens == 3_000_000
    assert run.judge_usage.cost == pytest.approx(3 * 0.15)  # gpt-4o-mini's shipped price


def test_trace_job_takes_the_matching_traces(
    collector: Collector, client: SpyglassClient, jobs: Callable
) -> None:
    shop = send_traces(collector, ["good", "bad", "good", "good"], experiment="shop")
    send_traces(collector, ["good"])  # another experiment
    job = jobs(
        "SubmitJob",
        pb.SubmitJobRequest(
            input=pb.JobInput(
                traces=pb.TraceInput(experiment="shop", filter_string="trace.name = 'good'")
            ),
            scorers=[EXACT],
        ),
    )
    assert job.total_rows == 3 and job.experiment_id == job.input.traces.experiment != "0"
    newest = jobs(
        "SubmitJob",
        pb.SubmitJobRequest(
            input=pb.JobInput(
                traces=pb.TraceInput(
                    experiment="shop", filter_string="trace.name = 'good'", max_traces=2
                )
            ),
            scorers=[EXACT],
        ),
    )
    assert newest.total_rows == 2

    lease = claim(jobs, "w")
    assert [i.trace_id for i in lease.items] == [shop[0], shop[2], shop[3]]
    assert not lease.items[0].HasField("inputs_json")
    log(jobs, lease, "w", [record(i.row_index, 1.0, i.trace_id) for i in lease.items])
    assert release(jobs, lease, "w").job_status == pb.FINISHED
    feedback = [a for a in client.get_trace(shop[0]).info.assessments if a.name == "quality"]
    assert [(a.value, a.run_id) for a in feedback] == [(1.0, job.run_id)]
    second = claim(jobs, "w")
    assert second.job.job_id == newest.job_id
    assert [i.trace_id for i in second.items] == [shop[2], shop[3]]


def test_bad_specs_are_refused(client: SpyglassClient, jobs: Callable) -> None:
    make_dataset(client, "qa", [{"inputs": {"q": "1"}}])
    dataset = pb.JobInput(dataset=pb.DatasetInput(dataset="qa"))
    cases = [
        (
            {"input": dataset, "scorers": [pb.ScorerRef(type="Nonsense")]},
            InvalidArgumentError,
            r"scorers\[0\]: unknown scorer 'Nonsense'.*built-in scorer",
        ),
        (
            {"input": dataset, "scorers": [pb.ScorerRef(type="guidelines")]},
            InvalidArgumentError,
            "did you mean 'Guidelines'",
        ),
        (
            {"input": dataset, "scorers": [pb.ScorerRef(type="Guidelines", params_json="{x")]},
            InvalidArgumentError,
            r"scorers\[0\]: params are not valid JSON",
        ),
        ({"input": dataset}, InvalidArgumentError, "no scorers"),
        (
            {"input": dataset, "scorers": [EXACT], "chunk_size": 5000},
            InvalidArgumentError,
            "chunk_size must be between 1 and 1000",
        ),
        ({"scorers": [EXACT]}, InvalidArgumentError, "input is empty"),
        (
            {
                "input": pb.JobInput(traces=pb.TraceInput(filter_string="trace.name = ")),
                "scorers": [EXACT],
            },
            InvalidFilterError,
            "invalid filter",
        ),
        (
            {"input": pb.JobInput(dataset=pb.DatasetInput(dataset="nope")), "scorers": [EXACT]},
            NotFoundError,
            r"input.dataset.dataset: no dataset has the id or name 'nope'",
        ),
        (
            {
                "input": pb.JobInput(dataset=pb.DatasetInput(dataset="qa", version=7)),
                "scorers": [EXACT],
            },
            InvalidArgumentError,
            "version 7 does not exist",
        ),
        (
            {"input": pb.JobInput(traces=pb.TraceInput(experiment="nowhere")), "scorers": [EXACT]},
            NotFoundError,
            "no experiment has the id or name 'nowhere'",
        ),
        (
            {"input": pb.JobInput(traces=pb.TraceInput(experiment="999")), "scorers": [EXACT]},
            NotFoundError,
            "experiment 999 not found",
        ),
        (
            {
                "input": pb.JobInput(traces=pb.TraceInput(expectations_dataset="gone")),
                "scorers": [EXACT],
            },
            NotFoundError,
            "expectations_dataset: no dataset",
        ),
        (
            {
                "input": pb.JobInput(traces=pb.TraceInput(start_time_ms=32_503_680_000_000_000)),
                "scorers": [EXACT],
            },
            InvalidArgumentError,
            r"start_time_ms .* out of range",
        ),
    ]
    for fields, error, message in cases:
        with pytest.raises(error, match=message):
            jobs("SubmitJob", pb.SubmitJobRequest(**fields))
    listed = jobs("ListJobs", pb.ListJobsRequest(include_monitors=True))
    assert list(listed.jobs) == []
    with pytest.raises(NotFoundError, match="not found"):
        jobs("GetJob", pb.GetJobRequest(job_id="0" * 32))
    with pytest.raises(InvalidArgumentError, match="not a job id"):
        jobs("GetJob", pb.GetJobRequest(job_id="job-1"))


def test_log_skips_stored_rows_and_keeps_to_the_chunk(
    client: SpyglassClient, jobs: Callable
) -> None:
    job = dataset_job(jobs, client, rows=4, chunk_size=4)
    lease = claim(jobs, "w")
    assert log(jobs, lease, "w", [record(0, 1.0), record(1, 1.0)]).records_logged == 2
    again = log(jobs, lease, "w", [record(1, 0.0), record(2, 1.0)])
    assert (again.records_logged, again.records_skipped) == (1, 1)
    with pytest.raises(InvalidArgumentError, match="row_index 7 is not a row of chunk 0"):
        log(jobs, lease, "w", [record(7, 1.0)])
    with pytest.raises(FailedPreconditionError, match=r"1 row.s. not logged"):
        release(jobs, lease, "w")
    log(jobs, lease, "w", [record(3, 1.0)])
    assert release(jobs, lease, "w").job_status == pb.FINISHED
    assert release(jobs, lease, "w").job_status == pb.FINISHED  # a retried release
    run = run_of(client, job.run_id)
    assert run.record_count == 4 and run.metrics["quality/score"] == 1.0  # row 1 kept once


def test_lost_and_expired_leases(client: SpyglassClient, jobs: Callable) -> None:
    job = dataset_job(jobs, client, rows=3, chunk_size=3)
    held = claim(jobs, "a", lease_seconds=0.3)
    log(jobs, held, "a", [record(0, 1.0)])
    time.sleep(0.5)  # expired, nobody claimed it: still honoured
    assert log(jobs, held, "a", [record(1, 1.0)]).records_logged == 1
    with pytest.raises(FailedPreconditionError, match=r"worker .a. holds it, not .b."):
        log(jobs, held, "b", [record(2, 1.0)])
    retaken = claim(jobs, "b")
    assert retaken.chunk_index == 0 and retaken.previous_attempts == 1
    assert [i.row_index for i in retaken.items] == [2]  # only the missing row
    for call in (
        lambda: log(jobs, held, "a", [record(2, 0.0)]),
        lambda: jobs("RenewLease", pb.RenewLeaseRequest(lease_id=held.lease_id, worker_id="a")),
        lambda: release(jobs, held, "a"),
    ):
        with pytest.raises(FailedPreconditionError, match=f"lease {held.lease_id} lost"):
            call()
    renewed = jobs(
        "RenewLease",
        pb.RenewLeaseRequest(lease_id=retaken.lease_id, worker_id="b", lease_seconds=60),
    )
    assert renewed.lease_expires_ms > retaken.lease_expires_ms and not renewed.cancelled
    log(jobs, retaken, "b", [record(2, 1.0)])
    assert release(jobs, retaken, "b").job_status == pb.FINISHED
    assert run_of(client, job.run_id).record_count == 3


def test_failed_attempts_fail_the_chunk_and_the_job(client: SpyglassClient, jobs: Callable) -> None:
    job = dataset_job(jobs, client, rows=2, chunk_size=1)
    clean = claim(jobs, "w")
    release(jobs, clean, "w", done=False)  # a shutdown: not an attempt
    for attempt in range(5):
        lease = claim(jobs, "w")
        assert (lease.chunk_index, lease.previous_attempts) == (0, attempt)
        status = release(
            jobs, lease, "w", done=False, error_message=f"judge unavailable ({attempt})"
        ).job_status
        assert status == pb.RUNNING
    other = claim(jobs, "w")
    assert other.chunk_index == 1
    log(jobs, other, "w", [record(1, 1.0)])
    assert release(jobs, other, "w").job_status == pb.FAILED
    failed = jobs("GetJob", pb.GetJobRequest(job_id=job.job_id))
    assert failed.chunks_failed == 1 and failed.chunks_done == 1
    assert "1 chunk(s) failed (chunk 0: judge unavailable (4))" in failed.error_message
    run = run_of(client, job.run_id)
    assert run.status == epb.EvaluationRun.FAILED and run.error_message == failed.error_message
    assert run.metrics["quality/score"] == 1.0


def test_cancel(client: SpyglassClient, jobs: Callable) -> None:
    job = dataset_job(jobs, client, rows=4, chunk_size=2)
    held = claim(jobs, "w")
    cancelled = jobs("CancelJob", pb.CancelJobRequest(job_id=job.job_id))
    assert cancelled.status == pb.CANCELLED and cancelled.HasField("finished_time_ms")
    assert not claim(jobs, "w").lease_id  # nothing handed out any more
    renewed = jobs("RenewLease", pb.RenewLeaseRequest(lease_id=held.lease_id, worker_id="w"))
    assert renewed.cancelled
    with pytest.raises(FailedPreconditionError, match="was cancelled"):
        log(jobs, held, "w", [record(0, 1.0)])
    assert release(jobs, held, "w", done=False).job_status == pb.CANCELLED
    run = run_of(client, job.run_id)
    assert run.status == epb.EvaluationRun.FAILED and run.error_message == "cancelled"
    again = jobs("CancelJob", pb.CancelJobRequest(job_id=job.job_id))
    assert again.status == pb.CANCELLED


def test_heartbeats_and_registered_scorers(client: SpyglassClient, jobs: Callable) -> None:
    make_dataset(client, "qa", [{"inputs": {"q": "1"}}])
    request = pb.SubmitJobRequest(
        input=pb.JobInput(dataset=pb.DatasetInput(dataset="qa")),
        scorers=[pb.ScorerRef(type="support_quality")],
    )
    with pytest.raises(InvalidArgumentError, match="no running evaluator registered"):
        jobs("SubmitJob", request)
    beat = jobs(
        "Heartbeat",
        pb.HeartbeatRequest(worker_id="w1", concurrency=4, scorer_names=["support_quality"]),
    )
    assert beat.live_workers == 1
    assert jobs("SubmitJob", request).status == pb.PENDING
    claim(jobs, "w2")  # a claim counts as a heartbeat
    assert jobs("Heartbeat", pb.HeartbeatRequest(worker_id="w3")).live_workers == 3
    stopping = jobs("Heartbeat", pb.HeartbeatRequest(worker_id="w1", stopping=True))
    assert stopping.live_workers == 2
    with pytest.raises(InvalidArgumentError, match="unknown scorer 'support_quality'"):
        jobs("SubmitJob", request)
    with pytest.raises(InvalidArgumentError, match="worker_id is empty"):
        jobs("Heartbeat", pb.HeartbeatRequest())


def test_list_pages_newest_first(client: SpyglassClient, jobs: Callable) -> None:
    make_dataset(client, "qa", [{"inputs": {"q": "1"}}])
    made = [
        jobs(
            "SubmitJob",
            pb.SubmitJobRequest(
                name=f"job-{i}",
                input=pb.JobInput(dataset=pb.DatasetInput(dataset="qa")),
                scorers=[EXACT],
                build_dataset="built" if i == 0 else "",
            ),
        )
        for i in range(3)
    ]
    names, token = [], ""
    while True:
        page = jobs("ListJobs", pb.ListJobsRequest(max_results=2, page_token=token))
        names += [j.name for j in page.jobs]
        token = page.next_page_token
        if not token:
            break
    assert names == ["job-2", "job-1", "job-0"]
    jobs("CancelJob", pb.CancelJobRequest(job_id=made[1].job_id))
    cancelled = jobs("ListJobs", pb.ListJobsRequest(status=pb.CANCELLED))
    assert [j.name for j in cancelled.jobs] == ["job-1"]
    built = client.call(
        client.stub(dpb_grpc.DatasetServiceStub).GetDataset, dpb.GetDatasetRequest(name="built")
    )
    assert built.experiment_ids == ["0"] and made[0].build_dataset == "built"


def test_monitor_over_otlp_traces(
    collector: Collector, client: SpyglassClient, jobs: Callable
) -> None:
    monitor = jobs(
        "CreateMonitor",
        pb.CreateMonitorRequest(
            name="live",
            scorers=[EXACT],
            quiet_period_seconds=0,
            filter_string="trace.name = 'answer'",
        ),
    )
    assert monitor.enabled and monitor.sample_rate == 1.0 and monitor.traces_seen == 0
    ids = send_traces(collector, ["answer", "other", "answer"])
    deadline = time.monotonic() + 20
    lease = pb.ClaimWorkResponse()
    while not lease.lease_id and time.monotonic() < deadline:
        lease = claim(jobs, "w")  # checks the due monitor first
        time.sleep(0.2)
    assert lease.job.monitor_id == monitor.monitor_id
    assert [i.trace_id for i in lease.items] == [ids[0], ids[2]]
    log(jobs, lease, "w", [record(i.row_index, 1.0, i.trace_id) for i in lease.items])
    assert release(jobs, lease, "w").job_status == pb.RUNNING
    shown = jobs("GetMonitor", pb.GetMonitorRequest(monitor="live"))
    assert (shown.traces_seen, shown.traces_sampled, shown.traces_scored) == (2, 2, 2)
    hour = shown.windows[0]
    assert hour.window == "1h" and hour.rows == 2 and hour.scores[0].mean == 1.0
    assert not math.isnan(hour.scores[0].mean)
    with pytest.raises(FailedPreconditionError, match="belongs to monitor"):
        jobs("CancelJob", pb.CancelJobRequest(job_id=monitor.job_id))
    listed = jobs("ListJobs", pb.ListJobsRequest(include_monitors=True))
    assert [j.monitor_id for j in listed.jobs] == [monitor.monitor_id]
    assert list(jobs("ListJobs", pb.ListJobsRequest()).jobs) == []
    jobs("DeleteMonitor", pb.DeleteMonitorRequest(monitor="live"))
    assert list(jobs("ListMonitors", pb.ListMonitorsRequest()).monitors) == []
    ended = jobs("GetJob", pb.GetJobRequest(job_id=monitor.job_id))
    assert ended.status == pb.FINISHED and ended.rows_done == 2


def test_a_chunk_stored_whole_is_done_when_claimed_again(
    client: SpyglassClient, jobs: Callable
) -> None:
    job = dataset_job(jobs, client, rows=3, chunk_size=2)
    held = claim(jobs, "a", lease_seconds=0.2)
    log(jobs, held, "a", [record(0, 1.0), record(1, 1.0)])
    time.sleep(0.4)  # "a" dies before releasing: every row is stored, the lease expires
    other = claim(jobs, "b")
    assert other.chunk_index == 1 and [i.row_index for i in other.items] == [2]
    log(jobs, other, "b", [record(2, 0.0)])
    assert release(jobs, other, "b").job_status == pb.FINISHED
    done = jobs("GetJob", pb.GetJobRequest(job_id=job.job_id))
    assert (done.chunks_done, done.rows_done) == (2, 3)


def test_a_jobs_run_ends_with_its_job_and_odd_list_requests_are_refused(
    client: SpyglassClient, jobs: Callable
) -> None:
    make_dataset(client, "qa", [{"inputs": {"q": "1"}}])
    job = jobs(
        "SubmitJob",
        pb.SubmitJobRequest(
            input=pb.JobInput(dataset=pb.DatasetInput(dataset="qa")), scorers=[EXACT]
        ),
    )
    runs = client.stub(epb_grpc.EvaluationServiceStub)
    with pytest.raises(
        FailedPreconditionError, match=f"belongs to evaluation job {job.job_id}.*eval cancel"
    ):
        client.call(
            runs.FinishEvaluationRun,
            epb.FinishEvaluationRunRequest(run_id=job.run_id, status=epb.EvaluationRun.FINISHED),
        )
    assert jobs("GetJob", pb.GetJobRequest(job_id=job.job_id)).status == pb.PENDING
    with pytest.raises(InvalidArgumentError, match="status 99 is not a job status"):
        jobs("ListJobs", pb.ListJobsRequest(status=99))
    with pytest.raises(InvalidArgumentError, match="NUL character"):
        jobs(
            "SubmitJob",
            pb.SubmitJobRequest(
                name="bad\x00name",
                input=pb.JobInput(dataset=pb.DatasetInput(dataset="qa")),
                scorers=[EXACT],
            ),
        )


def test_the_run_names_scorers_as_their_scores_will_be_named(
    client: SpyglassClient, jobs: Callable
) -> None:
    make_dataset(client, "qa", [{"inputs": {"q": "1"}}])
    job = jobs(
        "SubmitJob",
        pb.SubmitJobRequest(
            input=pb.JobInput(dataset=pb.DatasetInput(dataset="qa")),
            scorers=[
                EXACT,
                pb.ScorerRef(
                    type="Guidelines", params_json='{"name": "polite", "guidelines": "x"}'
                ),
                pb.ScorerRef(type="mypkg.scorers:contains_required_info"),
            ],
        ),
    )
    runs = client.stub(epb_grpc.EvaluationServiceStub)
    run = client.call(runs.GetEvaluationRun, epb.GetEvaluationRunRequest(run_id=job.run_id))
    assert [(s.name, s.source_id) for s in run.scorers] == [
        ("exact_match", "ExactMatch"),
        ("polite", "Guidelines"),
        ("contains_required_info", "mypkg.scorers:contains_required_info"),
    ]
