"""How a job's outcome reaches the user, on a real collector (SQLite) through the real CLI:

* a job whose every row's scoring failed ends FAILED, naming the errors by scorer, and its
  run too; a job with some failed rows ends FINISHED with them counted;
* ``eval submit --wait`` and ``eval status --watch`` exit 1 when rows failed, 0 when none did;
* ``eval submit --wait`` with no evaluator alive says so at once, with the command that starts
  one against this collector, and gives up after the grace period instead of waiting silently.

The worker is played through the API (heartbeat, claim, log, release), as a real one does.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from spyglass import session
from spyglass.cli import cli, evaluations
from spyglass.client import SpyglassClient
from spyglass.collector.server import Collector
from spyglass.evaluator.datasets.normalize import to_columns
from spyglass.v1 import datasets_pb2 as dpb
from spyglass.v1 import datasets_pb2_grpc as dpb_grpc
from spyglass.v1 import evaluation_pb2 as epb
from spyglass.v1 import evaluation_pb2_grpc as epb_grpc
from spyglass.v1 import jobs_pb2 as pb
from spyglass.v1 import jobs_pb2_grpc as pb_grpc

WORKER = "test-host:1:abc"


@pytest.fixture
def address(
    start_collector: Callable[..., Collector], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    monkeypatch.delenv("SPYGLASS_COLLECTOR", raising=False)
    monkeypatch.delenv("SPYGLASS_API_KEY", raising=False)
    collector = start_collector(f"sqlite:///{tmp_path / 'spyglass.db'}")
    yield f"127.0.0.1:{collector.grpc_port}"
    session._shutdown()


@pytest.fixture
def client(address: str) -> Iterator[SpyglassClient]:
    c = SpyglassClient(address)
    yield c
    c.close()


def call(client: SpyglassClient, method: str, request: object) -> object:
    return client.call(getattr(client.stub(pb_grpc.EvaluationJobServiceStub), method), request)


def dataset(client: SpyglassClient, rows: int) -> None:
    stub = client.stub(dpb_grpc.DatasetServiceStub)
    created = client.call(stub.CreateDataset, dpb.CreateDatasetRequest(name="qa"))
    records = [{"inputs": {"q": f"q{i}"}, "outputs": f"a{i}"} for i in range(rows)]
    client.call(
        stub.MergeRecords,
        iter(
            [
                dpb.MergeRecordsRequest(dataset_id=created.dataset_id if n == 0 else "", records=c)
                for n, c in enumerate(to_columns(records).chunks())
            ]
        ),
    )


def submit(client: SpyglassClient) -> pb.EvaluationJob:
    request = pb.SubmitJobRequest(
        input=pb.JobInput(dataset=pb.DatasetInput(dataset="qa")),
        scorers=[pb.ScorerRef(type="ExactMatch")],
    )
    return call(client, "SubmitJob", request)  # type: ignore[return-value]


def work(client: SpyglassClient, failing: set[int]) -> None:
    """Score every chunk there is: the rows in ``failing`` with an error, the rest 1.0."""
    while True:
        lease = call(client, "ClaimWork", pb.ClaimWorkRequest(worker_id=WORKER))
        if not lease.lease_id:  # type: ignore[attr-defined]
            return
        records = []
        for item in lease.items:  # type: ignore[attr-defined]
            score = epb.EvaluationScore(name="exact_match")
            if item.row_index in failing:
                score.error.error_code = "ExpectationsMissing"
                score.error.error_message = "ExactMatch needs expectations.expected_response"
            else:
                score.value_json, score.score = "true", 1.0
            records.append(epb.EvaluationRecord(row_index=item.row_index, scores=[score]))
        call(
            client,
            "LogWorkResults",
            pb.LogWorkResultsRequest(lease_id=lease.lease_id, worker_id=WORKER, records=records),  # type: ignore[attr-defined]
        )
        call(
            client,
            "ReleaseLease",
            pb.ReleaseLeaseRequest(lease_id=lease.lease_id, worker_id=WORKER, done=True),  # type: ignore[attr-defined]
        )


def heartbeat(client: SpyglassClient) -> None:
    call(client, "Heartbeat", pb.HeartbeatRequest(worker_id=WORKER, concurrency=1))


def run_cli(*args: str) -> tuple[Result, str]:
    """The command's result and everything it told the user (stderr, or the error raised)."""
    result = CliRunner().invoke(cli, list(args))
    told = result.stderr + (str(result.exception) if result.exception else "")
    return result, told


def test_a_job_whose_every_row_failed_ends_failed_and_watch_exits_1(
    client: SpyglassClient, address: str
) -> None:
    dataset(client, 3)
    job = submit(client)
    heartbeat(client)
    work(client, failing={0, 1, 2})
    done = call(client, "GetJob", pb.GetJobRequest(job_id=job.job_id))
    assert done.status == pb.FAILED, done  # type: ignore[attr-defined]
    assert done.error_message == (  # type: ignore[attr-defined]
        "every row's scoring failed (3 row(s)); exact_match: 3 row(s), first error: "
        "ExactMatch needs expectations.expected_response"
    )
    run = client.call(
        client.stub(epb_grpc.EvaluationServiceStub).GetEvaluationRun,
        epb.GetEvaluationRunRequest(run_id=job.run_id),
    )
    assert run.status == epb.EvaluationRun.FAILED
    assert (run.metrics["exact_match/count"], run.metrics["exact_match/error_count"]) == (0, 3)

    result, told = run_cli("eval", "status", job.job_id, "--watch", "--collector", address)
    assert result.exit_code == 1, result.output
    assert "every row's scoring failed" in result.stdout
    assert f"job {job.job_id} is FAILED" in told


def test_some_failed_rows_finish_the_job_but_watch_still_exits_1(
    client: SpyglassClient, address: str
) -> None:
    dataset(client, 3)
    job = submit(client)
    work(client, failing={1})
    done = call(client, "GetJob", pb.GetJobRequest(job_id=job.job_id))
    assert (done.status, done.rows_with_errors) == (pb.FINISHED, 1)  # type: ignore[attr-defined]

    result, told = run_cli("eval", "status", job.job_id, "--watch", "--collector", address)
    assert result.exit_code == 1, result.output
    assert f"1 of 3 row(s) of job {job.job_id} had score errors" in told
    shown, _ = run_cli("eval", "show", job.run_id, "--collector", address, "--no-records")
    assert "1.000 (2 scored, 1 error)" in shown.output


def test_submit_wait_follows_a_live_worker_and_exits_by_the_rows(
    client: SpyglassClient, address: str
) -> None:
    dataset(client, 2)
    heartbeat(client)
    stop = threading.Event()

    def worker(failing: set[int]) -> None:
        while not stop.wait(0.1):
            heartbeat(client)
            work(client, failing)

    for failing, status in (({0}, 1), (set(), 0)):
        stop.clear()
        thread = threading.Thread(target=worker, args=(failing,), daemon=True)
        thread.start()
        try:
            result, told = run_cli(
                "eval", "submit", "--dataset", "qa", "--scorer", "ExactMatch", "--wait",
                "--format", "json", "--collector", address,
            )  # fmt: skip
        finally:
            stop.set()
            thread.join()
        assert result.exit_code == status, told
        assert json.loads(result.stdout)["status"] == "FINISHED"
        assert "no evaluator is running" not in told


def test_submit_wait_with_no_evaluator_says_how_to_start_one(
    client: SpyglassClient, address: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset(client, 2)
    monkeypatch.setattr(evaluations, "NO_WORKER_GRACE_SECONDS", 0.5)
    result, told = run_cli(
        "eval", "submit", "--dataset", "qa", "--scorer", "ExactMatch", "--wait",
        "--collector", address,
    )  # fmt: skip
    assert result.exit_code == 1
    start = f"no evaluator is running: start `spyglass evaluator serve --collector {address}`"
    assert told.count(start) == 2, told  # at once, then as the reason it gave up
    [job] = list(call(client, "ListJobs", pb.ListJobsRequest()).jobs)  # type: ignore[attr-defined]
    assert job.status == pb.PENDING and job.live_workers == 0  # still queued for a worker
    assert (
        f"stays PENDING until one takes it (follow it with `spyglass eval status {job.job_id}"
        in told
    )
