"""Concurrent claims on SQLite and PostgreSQL: workers racing for the chunks of one job
never get the same chunk, and the job finishes exactly once with every row stored once.

Eight workers in threads — over two engines, as two collector processes would be — start
together on a job of 50 one-row chunks. Each claims, logs its row and releases the chunk
done until nothing is left. On PostgreSQL the claim is ``SELECT … FOR UPDATE SKIP LOCKED``
(workers never wait on each other's chunks); on SQLite it runs inside ``BEGIN IMMEDIATE``.
The job's last release must finish the job and its run even when two last chunks are
released at the same moment.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select
from stored_traces import insert_traces

from spyglass.collector.genai.cost import PriceTable
from spyglass.collector.store import migrate
from spyglass.collector.store.engine import create_store_engine
from spyglass.collector.store.evaluation import runs as evaluation_runs
from spyglass.collector.store.jobs import leases as job_leases
from spyglass.collector.store.jobs import submit as jobs
from spyglass.collector.store.models import EvaluationRecordRow
from spyglass.v1 import evaluation_pb2 as epb
from spyglass.v1 import jobs_pb2 as pb

CHUNKS, WORKERS, ENGINES = 50, 8, 2


@pytest.fixture
def engines(store_url: str) -> Iterator[list[Engine]]:
    made = [create_store_engine(store_url) for _ in range(ENGINES)]
    migrate.upgrade(made[0])
    yield made
    for engine in made:
        engine.dispose()


def work(
    engine: Engine,
    worker_id: str,
    start: threading.Barrier,
    claimed: list[tuple[str, int, str]],
    errors: list[BaseException],
) -> None:
    """Claim, log the row, release done, until no chunk is left."""
    try:
        start.wait()
        while True:
            claim = job_leases.claim_work(engine, pb.ClaimWorkRequest(worker_id=worker_id))
            if not claim.lease_id:
                return
            claimed.append((claim.job.job_id, claim.chunk_index, worker_id))
            records = [
                epb.EvaluationRecord(
                    row_index=item.row_index,
                    trace_id=item.trace_id,
                    scores=[epb.EvaluationScore(name="quality", value_json="1", score=1.0)],
                )
                for item in claim.items
            ]
            job_leases.log_work_results(
                engine,
                pb.LogWorkResultsRequest(
                    lease_id=claim.lease_id, worker_id=worker_id, records=records
                ),
            )
            job_leases.release_lease(
                engine,
                pb.ReleaseLeaseRequest(lease_id=claim.lease_id, worker_id=worker_id, done=True),
                PriceTable.load(),
            )
    except BaseException as exc:  # reported by the test
        errors.append(exc)


def test_concurrent_claims_never_share_a_chunk(engines: list[Engine]) -> None:
    insert_traces(engines[0], CHUNKS, name="answer")
    job = jobs.submit_job(
        engines[0],
        pb.SubmitJobRequest(
            input=pb.JobInput(traces=pb.TraceInput(filter_string="trace.name = 'answer'")),
            scorers=[pb.ScorerRef(type="ExactMatch")],
            chunk_size=1,
        ),
    )
    assert (job.total_rows, job.chunks_total) == (CHUNKS, CHUNKS)

    start = threading.Barrier(WORKERS)
    claimed: list[tuple[str, int, str]] = []
    errors: list[BaseException] = []
    threads = [
        threading.Thread(target=work, args=(engines[n % ENGINES], f"w{n}", start, claimed, errors))
        for n in range(WORKERS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors

    per_chunk = Counter((job_id, index) for job_id, index, _ in claimed)
    assert sorted(index for _, index in per_chunk) == list(range(CHUNKS))
    assert set(per_chunk.values()) == {1}  # each chunk leased exactly once
    assert len({worker for *_, worker in claimed}) > 1  # the work was really shared

    done = jobs.get_job(engines[0], job.job_id)
    assert done.status == pb.FINISHED and done.rows_done == CHUNKS
    assert (done.chunks_done, done.chunks_leased, done.chunks_failed) == (CHUNKS, 0, 0)
    run = evaluation_runs.get_run(engines[0], job.run_id)
    assert run.status == epb.EvaluationRun.FINISHED and run.record_count == CHUNKS
    assert run.metrics["quality/score"] == 1.0 and run.metrics["quality/error_count"] == 0
    with engines[0].connect() as connection:
        stored = connection.scalar(
            select(func.count())
            .select_from(EvaluationRecordRow)
            .where(EvaluationRecordRow.run_id == job.run_id)
        )
    assert stored == CHUNKS
