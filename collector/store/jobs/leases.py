"""Leasing chunks of jobs to workers: claim, renew, log results under a lease, release.

A claim takes one claimable chunk — LEASED with an expired lease first, else PENDING
(monitors' chunks first, then the oldest; a paused monitor's chunks wait): on PostgreSQL
with ``SELECT … FOR UPDATE SKIP LOCKED`` (two claimers never wait on, or take, the same
chunk), on SQLite inside ``BEGIN IMMEDIATE`` (claims run one at a time). A chunk whose
rows are all stored already (its worker lost the lease just before releasing it) is marked
DONE instead of leased. Each claim makes a
new lease id, so a worker whose lease expired and was claimed again finds its lease gone:
its calls fail with FAILED_PRECONDITION ("lease … lost"). A lease that expired but was not
claimed again is still honoured. The claim returns only the chunk's rows the job's run
does not have yet.

LogWorkResults checks the lease and writes the rows in one transaction, through the same
code as LogEvaluationResults (rows the run has are skipped whole), so each (job, row,
scorer) result is written once however often a chunk changes hands. A chunk claimed more
than :data:`MAX_CLAIMS` times, or given back with an error :data:`MAX_FAILURES` times,
fails; the job finishes with its last open chunk
(:mod:`spyglass.collector.store.jobs.completion`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, exists, func, select, update

from spyglass.collector.genai.cost import PriceTable
from spyglass.collector.store.clock import now_ms
from spyglass.collector.store.engine import write_transaction
from spyglass.collector.store.evaluation.runs import (
    MAX_RECORDS_PER_BATCH,
    log_results_in,
    results_batch,
)
from spyglass.collector.store.jobs.completion import JOBS, add_judge_usage, finish_if_complete
from spyglass.collector.store.jobs.messages import job_message
from spyglass.collector.store.jobs.monitor_checks import MONITORS, check_due_monitors
from spyglass.collector.store.jobs.rows import CHUNKS, ITEMS
from spyglass.collector.store.jobs.specs import new_id
from spyglass.collector.store.jobs.workers import check_worker_id, touch_worker
from spyglass.collector.store.models import EvaluationRecordRow
from spyglass.errors import FailedPreconditionError, InvalidArgumentError
from spyglass.v1 import jobs_pb2 as pb

MAX_CLAIMS = 10
MAX_FAILURES = 5
LEASE_DEFAULT_SECONDS, LEASE_MAX_SECONDS = 30.0, 3600.0
ERROR_MAX = 2000

_C = CHUNKS.c
_RECORDS = EvaluationRecordRow.__table__.c
_ITEM_FIELDS = (
    ("trace_id", "trace_id"),
    ("dataset_record_id", "dataset_record_id"),
    ("inputs", "inputs_json"),
    ("expectations", "expectations_json"),
    ("outputs", "outputs_json"),
)


# -- claim -----------------------------------------------------------------------------------


def claim_work(engine: Engine, request: pb.ClaimWorkRequest) -> pb.ClaimWorkResponse:
    """Lease one chunk to the worker (module docstring); an empty response when none is
    free. Due monitors turn their new traces into chunks first."""
    worker_id = check_worker_id(request.worker_id)
    seconds = _lease_seconds(request.lease_seconds) or LEASE_DEFAULT_SECONDS
    check_due_monitors(engine)
    with write_transaction(engine) as connection:
        now = now_ms()
        touch_worker(connection, worker_id, now)
        while (chunk := _next_chunk(connection, now)) is not None:
            job = connection.execute(select(JOBS).where(JOBS.c.job_id == chunk.job_id)).one()
            items = connection.execute(_missing_items(chunk, job.run_id)).all()
            if chunk.claims >= MAX_CLAIMS:
                _end_chunk(
                    connection,
                    chunk,
                    "FAILED",
                    now,
                    last_error=(
                        f"claimed {chunk.claims} times without being finished (each lease "
                        "expired: workers died or hung while scoring it)"
                    ),
                )
            elif not items:  # a worker stored every row, then lost its lease
                _end_chunk(connection, chunk, "DONE", now)
            else:
                return _lease(connection, chunk, job, items, worker_id, seconds, now)
            finish_if_complete(connection, chunk.job_id, now)
    return pb.ClaimWorkResponse()


def _next_chunk(connection: Connection, now: int) -> Any:
    """The chunk to lease: an expired lease first (older work), else the first PENDING one
    (monitors' before jobs', then oldest). Two index-ordered LIMIT 1 queries rather than one
    OR, so a claim never sorts the whole backlog. A paused monitor's chunks wait."""
    paused = select(MONITORS.c.job_id).where(MONITORS.c.enabled.is_(False))
    for claimable, order in (
        ((_C.state == "LEASED", _C.lease_expires_ms < now), (_C.lease_expires_ms,)),
        ((_C.state == "PENDING",), (_C.priority, _C.created_time_ms)),
    ):
        query = (
            select(CHUNKS)
            .where(*claimable, _C.job_id.not_in(paused))
            .order_by(*order, _C.job_id, _C.chunk_index)
            .limit(1)
        )
        if connection.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        chunk = connection.execute(query).first()
        if chunk is not None:
            return chunk
    return None


def _lease(
    connection: Connection,
    chunk: Any,
    job: Any,
    items: Sequence[Any],
    worker_id: str,
    seconds: float,
    now: int,
) -> pb.ClaimWorkResponse:
    lease_id, expires = new_id(), now + int(seconds * 1000)
    connection.execute(
        update(CHUNKS)
        .where(*_key(chunk))
        .values(
            state="LEASED",
            lease_id=lease_id,
            lease_owner=worker_id,
            lease_expires_ms=expires,
            lease_seconds=seconds,
            claims=_C.claims + 1,
        )
    )
    if job.status == "PENDING":
        connection.execute(
            update(JOBS)
            .where(JOBS.c.job_id == chunk.job_id, JOBS.c.status == "PENDING")
            .values(status="RUNNING", started_time_ms=now)
        )
        job = connection.execute(select(JOBS).where(JOBS.c.job_id == chunk.job_id)).one()
    return pb.ClaimWorkResponse(
        lease_id=lease_id,
        lease_expires_ms=expires,
        job=job_message(job),
        chunk_index=chunk.chunk_index,
        items=[_work_item(i) for i in items],
        previous_attempts=chunk.claims,
    )


def _missing_items(chunk: Any, run_id: str) -> Any:
    """The chunk's item rows whose row the run does not have yet, in row order."""
    i = ITEMS.c
    stored = exists().where(_RECORDS.run_id == run_id, _RECORDS.row_index == i.row_index)
    return (
        select(ITEMS)
        .where(
            i.job_id == chunk.job_id,
            i.row_index >= chunk.first_row,
            i.row_index < chunk.first_row + chunk.row_count,
            ~stored,
        )
        .order_by(i.row_index)
    )


def _work_item(row: Any) -> pb.WorkItem:
    item = pb.WorkItem(row_index=row.row_index)
    for column, name in _ITEM_FIELDS:
        if getattr(row, column) is not None:
            setattr(item, name, getattr(row, column))
    return item


# -- renew, log, release ---------------------------------------------------------------------


def renew_lease(engine: Engine, request: pb.RenewLeaseRequest) -> pb.RenewLeaseResponse:
    """Extend a held lease by ``lease_seconds`` (0 = the claim's duration) from now;
    ``cancelled`` when the job was cancelled meanwhile."""
    seconds = _lease_seconds(request.lease_seconds)
    with write_transaction(engine) as connection:
        chunk = _held(connection, request.lease_id, request.worker_id)
        if chunk.state == "CANCELLED":
            return pb.RenewLeaseResponse(
                lease_expires_ms=chunk.lease_expires_ms or 0, cancelled=True
            )
        _require_leased(chunk, request.lease_id)
        expires = now_ms() + int((seconds or chunk.lease_seconds) * 1000)
        connection.execute(update(CHUNKS).where(*_key(chunk)).values(lease_expires_ms=expires))
    return pb.RenewLeaseResponse(lease_expires_ms=expires)


def log_work_results(
    engine: Engine, request: pb.LogWorkResultsRequest
) -> pb.LogWorkResultsResponse:
    """Store scored rows of a leased chunk in the job's run, checking the lease in the same
    transaction (module docstring)."""
    if len(request.records) > MAX_RECORDS_PER_BATCH:
        raise InvalidArgumentError(
            f"{len(request.records)} records in one request; send at "
            f"most {MAX_RECORDS_PER_BATCH} per LogWorkResults"
        )
    with engine.connect() as connection:  # the run and the chunk's rows, to check first
        chunk = _held(connection, request.lease_id, request.worker_id, lock=False)
        run_id = _run_of(connection, chunk.job_id)
    _check_rows(chunk, request.records)
    batch = results_batch(run_id, request.records, now_ms())
    with write_transaction(engine) as connection:
        chunk = _held(connection, request.lease_id, request.worker_id)
        _require_leased(chunk, request.lease_id)
        logged = log_results_in(connection, run_id, batch)
    return pb.LogWorkResultsResponse(
        records_logged=logged.records_logged,
        records_skipped=logged.records_skipped,
        assessments_logged=logged.assessments_logged,
    )


def release_lease(
    engine: Engine, request: pb.ReleaseLeaseRequest, prices: PriceTable
) -> pb.ReleaseLeaseResponse:
    """End a lease: the chunk is DONE (every row must be logged), or given back (with an
    error: a failed attempt). The judge usage is added to the run either way."""
    with write_transaction(engine) as connection:
        now = now_ms()
        chunk = _held(connection, request.lease_id, request.worker_id)
        retry = request.done and chunk.state == "DONE"  # a retried release adds nothing
        if not retry and chunk.state != "CANCELLED":
            _require_leased(chunk, request.lease_id)
            _release(connection, chunk, request, now)
        status = finish_if_complete(connection, chunk.job_id, now)
        if not retry:  # after the job row: the lock order of jobs.completion
            add_judge_usage(
                connection, _run_of(connection, chunk.job_id), request.judge_usage, prices
            )
    return pb.ReleaseLeaseResponse(job_status=status)


def _release(connection: Connection, chunk: Any, request: pb.ReleaseLeaseRequest, now: int) -> None:
    if request.done:
        _require_all_logged(connection, chunk)
        _end_chunk(connection, chunk, "DONE", now)
    else:
        _give_back(connection, chunk, request.error_message.strip()[:ERROR_MAX], now)


def _give_back(connection: Connection, chunk: Any, error: str, now: int) -> None:
    """Back to PENDING; an error counts as a failed attempt (FAILED after the last), a
    clean give-back (shutdown) does not count as a claim either."""
    if not error:
        connection.execute(
            update(CHUNKS)
            .where(*_key(chunk))
            .values(state="PENDING", claims=_C.claims - 1, **_NO_LEASE)
        )
        return
    failures = chunk.failures + 1
    if failures >= MAX_FAILURES:
        _end_chunk(connection, chunk, "FAILED", now, last_error=error, failures=failures)
    else:
        connection.execute(
            update(CHUNKS)
            .where(*_key(chunk))
            .values(state="PENDING", failures=failures, last_error=error, **_NO_LEASE)
        )


_NO_LEASE: dict[str, Any] = {"lease_id": None, "lease_owner": None, "lease_expires_ms": None}


def _end_chunk(connection: Connection, chunk: Any, state: str, now: int, **values: Any) -> None:
    """DONE keeps the lease id (a retried release finds it); FAILED drops it."""
    lease = {} if state == "DONE" else _NO_LEASE
    connection.execute(
        update(CHUNKS)
        .where(*_key(chunk))
        .values(state=state, finished_time_ms=now, **lease, **values)
    )


# -- lease checks ----------------------------------------------------------------------------


def _held(connection: Connection, lease_id: str, worker_id: str, lock: bool = True) -> Any:
    """The chunk whose current lease is ``lease_id`` held by ``worker_id`` (locked on
    PostgreSQL); FAILED_PRECONDITION when the lease was lost."""
    if not lease_id:
        raise InvalidArgumentError("lease_id is empty; quote the lease ClaimWork returned")
    check_worker_id(worker_id)
    query = select(CHUNKS).where(_C.lease_id == lease_id)
    if lock and connection.dialect.name == "postgresql":
        query = query.with_for_update()
    chunk = connection.execute(query).first()
    if chunk is None:
        raise FailedPreconditionError(
            f"lease {lease_id} lost: its chunk was given back, or claimed again by another "
            "worker after the lease expired; drop its work and claim new work"
        )
    if chunk.lease_owner != worker_id:
        raise FailedPreconditionError(
            f"lease {lease_id} lost: worker {chunk.lease_owner!r} holds it, not {worker_id!r}"
        )
    return chunk


def _require_leased(chunk: Any, lease_id: str) -> None:
    if chunk.state == "CANCELLED":
        raise FailedPreconditionError(
            f"job {chunk.job_id} was cancelled; release lease {lease_id} and claim other work"
        )
    if chunk.state != "LEASED":
        raise FailedPreconditionError(
            f"lease {lease_id} lost: chunk {chunk.chunk_index} of "
            f"job {chunk.job_id} is {chunk.state} already"
        )


def _check_rows(chunk: Any, records: Any) -> None:
    last = chunk.first_row + chunk.row_count - 1
    for n, record in enumerate(records):
        if not chunk.first_row <= record.row_index <= last:
            raise InvalidArgumentError(
                f"records[{n}].row_index {record.row_index} is not a row of chunk "
                f"{chunk.chunk_index} of job {chunk.job_id} (rows {chunk.first_row} to {last}); "
                "log each row under the lease of its own chunk"
            )


def _require_all_logged(connection: Connection, chunk: Any) -> None:
    run_id = _run_of(connection, chunk.job_id)
    missing = connection.scalar(
        select(func.count()).select_from(_missing_items(chunk, run_id).subquery())
    )
    if missing:
        raise FailedPreconditionError(
            f"chunk {chunk.chunk_index} of job {chunk.job_id} has {missing} row(s) not logged "
            "yet; log every row with LogWorkResults (a row whose scoring failed is logged with "
            "its error) before releasing it as done, or give it back (done=false)"
        )


def _run_of(connection: Connection, job_id: str) -> str:
    return connection.execute(select(JOBS.c.run_id).where(JOBS.c.job_id == job_id)).scalar_one()


def _key(chunk: Any) -> tuple[Any, Any]:
    return _C.job_id == chunk.job_id, _C.chunk_index == chunk.chunk_index


def _lease_seconds(value: float) -> float:
    """A requested lease duration (0 = the default); at most an hour."""
    if not 0 <= value <= LEASE_MAX_SECONDS:
        raise InvalidArgumentError(
            f"lease_seconds must be between 0 and {LEASE_MAX_SECONDS:g} "
            f"(0 = {LEASE_DEFAULT_SECONDS:g} s), got {value}"
        )
    return value
