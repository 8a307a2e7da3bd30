"""Evaluation jobs in the store: submit (check, snapshot the rows, split them into chunks,
create the run), get and list with progress, cancel.

Submitting checks everything a worker would trip over later — scorer references (built-in,
import path, or a name live workers registered), the filter, the dataset and experiments —
and stores the job PENDING with its rows and chunks and its RUNNING evaluation run in one
transaction. A job with no rows (an empty dataset, a filter that matches nothing) is
FINISHED at once. ``build_dataset`` names a dataset the workers merge the scored rows into;
it is created (in the job's experiment) when it does not exist.
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, select, update

from spyglass.collector.store.clock import now_ms
from spyglass.collector.store.datasets import catalog as datasets
from spyglass.collector.store.engine import write_transaction
from spyglass.collector.store.evaluation.runs import create_run_in
from spyglass.collector.store.ids import check_hex_id
from spyglass.collector.store.jobs.completion import ENDED, JOBS, OPEN_STATES, end_job, lock_job
from spyglass.collector.store.jobs.messages import input_json, jobs_with_progress
from spyglass.collector.store.jobs.rows import (
    CHUNKS,
    JOB_PRIORITY,
    dataset_items,
    insert_chunks,
    insert_items,
    trace_items,
)
from spyglass.collector.store.jobs.specs import (
    NAME_MAX,
    check_chunk_size,
    check_scorers,
    find_dataset,
    new_id,
    resolve_experiment,
    run_scorers,
)
from spyglass.collector.store.models import DatasetExperiment
from spyglass.collector.store.paging import SortKey, fingerprint, keyset_page
from spyglass.collector.store.text import check_text
from spyglass.errors import (
    AlreadyExistsError,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
)
from spyglass.v1 import evaluation_pb2 as epb
from spyglass.v1 import jobs_pb2 as pb

LIST_DEFAULT, LIST_MAX = 100, 1000

_J = JOBS.c


@dataclass
class _Rows:
    """What a job scores, resolved: its rows, the experiment its run belongs to by
    default, the input as stored, and the run's dataset fields."""

    items: list[dict[str, Any]]
    experiment_id: int
    source: pb.JobInput
    run_fields: dict[str, Any] = field(default_factory=dict)


# -- submit ----------------------------------------------------------------------------------


def submit_job(engine: Engine, request: pb.SubmitJobRequest) -> pb.EvaluationJob:
    """Check and store a job (module docstring); returns it with its progress."""
    now = now_ms()
    name = check_text(request.name, NAME_MAX, "name") or _default_name(now)
    chunk_size = check_chunk_size(request.chunk_size)
    check_text(request.build_dataset, NAME_MAX, "build_dataset")
    with engine.connect() as connection:
        scorers = check_scorers(connection, request.scorers, now)
        rows = _resolve_input(connection, request.input)
        experiment_id = (
            resolve_experiment(connection, request.experiment, "experiment")
            if request.experiment.strip()
            else rows.experiment_id
        )
    if request.input.HasField("dataset"):
        rows.items = dataset_items(
            engine, rows.run_fields["dataset_id"], rows.run_fields["dataset_version"]
        )
    if request.build_dataset:
        _ensure_dataset(engine, request.build_dataset, experiment_id)
    job_id = new_id()
    with write_transaction(engine) as connection:
        run = create_run_in(
            connection,
            epb.CreateEvaluationRunRequest(
                experiment_id=str(experiment_id),
                name=name,
                scorers=run_scorers(scorers),
                **rows.run_fields,
            ),
        )
        job = {
            "job_id": job_id,
            "name": name,
            "experiment_id": experiment_id,
            "monitor_id": None,
            "input": input_json(rows.source),
            "scorers": json.dumps(scorers),
            "build_dataset": request.build_dataset or None,
            "run_id": run.run_id,
            "status": "PENDING",
            "error_message": None,
            "total_rows": len(rows.items),
            "chunk_size": chunk_size,
            "chunks_total": 0,
            "created_time_ms": now,
            "started_time_ms": None,
            "finished_time_ms": None,
        }
        connection.execute(JOBS.insert(), job)
        insert_items(connection, job_id, 0, rows.items)
        chunks = insert_chunks(
            connection, job_id, 0, 0, len(rows.items), chunk_size, JOB_PRIORITY, now
        )
        connection.execute(update(JOBS).where(_J.job_id == job_id).values(chunks_total=chunks))
        if not chunks:
            end_job(connection, lock_job(connection, job_id), "FINISHED", None, now)
    return get_job(engine, job_id)


def _resolve_input(connection: Connection, source: pb.JobInput) -> _Rows:
    which = source.WhichOneof("source")
    if which == "dataset":
        return _dataset_input(connection, source.dataset)
    if which == "traces":
        return _trace_input(connection, source.traces)
    raise InvalidArgumentError(
        "input is empty: give a dataset (input.dataset, with its name "
        "or id) or traces (input.traces, an experiment and a filter)"
    )


def _dataset_input(connection: Connection, given: pb.DatasetInput) -> _Rows:
    row = find_dataset(connection, given.dataset, "input.dataset.dataset")
    version = datasets.check_version(row, given.version if given.HasField("version") else None)
    described = datasets.dataset_message(connection, row, version)
    links = DatasetExperiment.__table__.c
    linked = connection.scalar(
        select(links.experiment_id)
        .where(links.dataset_id == row.dataset_id)
        .order_by(links.experiment_id)
        .limit(1)
    )
    stored = pb.JobInput(dataset=pb.DatasetInput(dataset=given.dataset, version=version))
    return _Rows(
        [],
        int(linked or 0),
        stored,
        {
            "dataset_id": row.dataset_id,
            "dataset_name": row.name,
            "dataset_digest": described.digest,
            "dataset_version": version,
        },
    )


def _trace_input(connection: Connection, given: pb.TraceInput) -> _Rows:
    experiment_id = resolve_experiment(connection, given.experiment, "input.traces.experiment")
    if given.max_traces < 0:
        raise InvalidArgumentError(
            f"input.traces.max_traces must not be negative (0 = all), got {given.max_traces}"
        )
    if given.expectations_dataset:
        find_dataset(connection, given.expectations_dataset, "input.traces.expectations_dataset")
    stored = pb.JobInput(traces=given)
    stored.traces.experiment = str(experiment_id)
    return _Rows(trace_items(connection, experiment_id, given), experiment_id, stored)


def _ensure_dataset(engine: Engine, name: str, experiment_id: int) -> None:
    """Create the dataset ``build_dataset`` names unless it exists (by name or id)."""
    try:
        with engine.connect() as connection:
            find_dataset(connection, name, "build_dataset")
        return
    except NotFoundError:
        pass
    with contextlib.suppress(AlreadyExistsError):  # made by a concurrent submit: as good
        datasets.create_dataset(engine, name, [str(experiment_id)], {}, "")


# -- read ------------------------------------------------------------------------------------


def get_job(engine: Engine, job_id: str) -> pb.EvaluationJob:
    """One job with its progress (NotFoundError if unknown)."""
    job_id = check_job_id(job_id)
    with engine.connect() as connection:
        row = connection.execute(select(JOBS).where(_J.job_id == job_id)).first()
        if row is None:
            raise job_not_found(job_id)
        return jobs_with_progress(connection, [row], now_ms())[0]


def list_jobs(engine: Engine, request: pb.ListJobsRequest) -> pb.ListJobsResponse:
    """One page of jobs, newest first."""
    if not 0 <= request.max_results <= LIST_MAX:
        raise InvalidArgumentError(
            f"max_results must be between 0 and {LIST_MAX} (0 = "
            f"{LIST_DEFAULT}), got {request.max_results}"
        )
    query = select(JOBS)
    if request.status not in pb.JobStatus.values():
        raise InvalidArgumentError(
            f"status {request.status} is not a job status; use one of "
            f"{', '.join(pb.JobStatus.keys()[1:])} or leave it unset"
        )
    if request.status:
        query = query.where(_J.status == pb.JobStatus.Name(request.status))
    if not request.include_monitors:
        query = query.where(_J.monitor_id.is_(None))
    keys = [SortKey(_J.created_time_ms, True), SortKey(_J.job_id, True)]
    search = fingerprint("jobs", request.status, request.include_monitors)
    now = now_ms()
    jobs, token = keyset_page(
        engine,
        query,
        keys,
        search,
        request.page_token,
        request.max_results or LIST_DEFAULT,
        lambda connection, rows: jobs_with_progress(connection, rows, now),
    )
    return pb.ListJobsResponse(jobs=jobs, next_page_token=token)


def check_job_id(value: str) -> str:
    return check_hex_id(value, "job_id", "a job id", "as SubmitJob returned them")


def job_not_found(job_id: str) -> NotFoundError:
    return NotFoundError(
        f"evaluation job {job_id} not found; list jobs with ListJobs (`spyglass eval jobs`)"
    )


# -- cancel ----------------------------------------------------------------------------------


def cancel_job(engine: Engine, job_id: str) -> pb.EvaluationJob:
    """Stop handing out the job's chunks; the job is CANCELLED and its run FAILED
    ("cancelled"). A job that ended already is returned as it is."""
    job_id = check_job_id(job_id)
    with write_transaction(engine) as connection:
        job = connection.execute(select(JOBS).where(_J.job_id == job_id)).first()
        if job is None:
            raise job_not_found(job_id)
        if job.monitor_id is not None:
            raise FailedPreconditionError(
                f"job {job_id} belongs to monitor {job.monitor_id}; "
                "pause the monitor (UpdateMonitor enabled=false) or "
                "delete it instead"
            )
        close_open_chunks(connection, job_id, "CANCELLED")
        job = lock_job(connection, job_id)
        if job.status not in ENDED:
            end_job(connection, job, "CANCELLED", None, now_ms())
    return get_job(engine, job_id)


def close_open_chunks(connection: Connection, job_id: str, state: str) -> None:
    """Put every chunk of the job that still has work into ``state`` (locking them first,
    before the job row: the lock order of :mod:`~spyglass.collector.store.jobs.completion`).
    Their leases stay, so a worker renewing one learns it was cancelled."""
    open_chunks = CHUNKS.c.job_id == job_id, CHUNKS.c.state.in_(OPEN_STATES)
    if connection.dialect.name == "postgresql":
        connection.execute(select(CHUNKS.c.chunk_index).where(*open_chunks).with_for_update())
    connection.execute(update(CHUNKS).where(*open_chunks).values(state=state))


def _default_name(now: int) -> str:
    return "job-" + time.strftime("%Y%m%d-%H%M%S", time.gmtime(now / 1000))
