"""Evaluation jobs through the collector API: submit, follow, list and cancel them.

A job scores recorded outputs with scorers named by reference (see :mod:`.refs`): the
records of a dataset, or the traces of an experiment matching a filter (optionally within a
time range: a backfill). The collector stores it split into chunks; ``spyglass evaluator
serve`` workers score the chunks and write feedback and an evaluation run. Arguments are
checked here first (scorers built or imported locally), then by the collector (unknown
scorer types, filters, datasets), and a failed call raises the matching
:mod:`spyglass.errors` class::

    job = submit_job(dataset="support_qa", scorers=[
        {"type": "Guidelines", "name": "polite", "guidelines": "Be polite"},
        "mypkg.scorers:contains_required_info"])
    job = wait_for_job(job.job_id, timeout=600)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from spyglass import session
from spyglass.client import SpyglassClient
from spyglass.entities import EvaluationJob
from spyglass.errors import InvalidArgumentError, SpyglassError
from spyglass.evaluator.jobs.arguments import number, required_text, text, whole
from spyglass.evaluator.jobs.refs import ScorerSpec, check_locally
from spyglass.quantities import countdown
from spyglass.times import TIME_FORMS, parse_time_ms
from spyglass.v1 import jobs_pb2, jobs_pb2_grpc

TimeSpec = datetime | date | int | float | str
"""A point in time: a datetime (naive = local time), ms since the epoch, or text: ISO 8601,
digits (ms), or an age such as ``"90m"``, ``"24h"``, ``"7d"`` (that long before now)."""

STATUSES = tuple(s for s, _ in jobs_pb2.JobStatus.items() if s != "JOB_STATUS_UNSPECIFIED")
MAX_CHUNK_SIZE = 1000


class JobTimeoutError(SpyglassError, TimeoutError):
    """:func:`wait_for_job` gave up before the job ended; ``job`` is its last known state."""

    def __init__(self, message: str, job: EvaluationJob) -> None:
        super().__init__(message)
        self.job = job


class NoEvaluatorError(SpyglassError):
    """:func:`wait_for_job` saw no live evaluator worker for ``worker_grace`` seconds, so the
    job would wait forever; ``job`` is its last known state (it stays queued)."""

    def __init__(self, message: str, job: EvaluationJob) -> None:
        super().__init__(message)
        self.job = job


def service(client: SpyglassClient) -> jobs_pb2_grpc.EvaluationJobServiceStub:
    """The EvaluationJobService stub on ``client``'s channel (call it via ``client.call``)."""
    return client.stub(jobs_pb2_grpc.EvaluationJobServiceStub)


def submit_job(
    *,
    dataset: str | None = None,
    dataset_version: int | None = None,
    experiment: str | None = None,
    filter_string: str | None = None,
    start_time: TimeSpec | None = None,
    end_time: TimeSpec | None = None,
    max_traces: int | None = None,
    expectations_dataset: str | None = None,
    scorers: ScorerSpec | Sequence[ScorerSpec],
    name: str | None = None,
    build_dataset: str | None = None,
    chunk_size: int | None = None,
) -> EvaluationJob:
    """Submit a job and return it PENDING, with its rows counted.

    Input: ``dataset`` (name or id, at ``dataset_version`` or the current one), or traces of
    ``experiment`` (name or id; default: the active experiment, else "0") matching
    ``filter_string``, started in [``start_time``, ``end_time``), at most ``max_traces``
    (newest first), with expectations joined from ``expectations_dataset``. With a dataset,
    ``experiment`` names where the run goes (default: the dataset's). ``scorers``: references
    (see :data:`~.refs.ScorerSpec`). ``build_dataset``: also merge the scored traces and
    their expectations into this dataset (created if new). ``chunk_size``: rows per unit of
    work (1..1000, default 100).
    """
    trace_args: dict[str, Any] = {
        "filter_string": filter_string,
        "start_time": start_time,
        "end_time": end_time,
        "max_traces": max_traces,
        "expectations_dataset": expectations_dataset,
    }
    request = jobs_pb2.SubmitJobRequest(
        name=text(name, "name"),
        build_dataset=text(build_dataset, "build_dataset"),
        chunk_size=whole(chunk_size, "chunk_size", 1, MAX_CHUNK_SIZE) or 0,
    )
    if dataset is not None:
        given = sorted(k for k, v in trace_args.items() if v is not None)
        if given:
            raise InvalidArgumentError(
                f"{', '.join(given)} select traces and do not apply to a dataset job; give "
                "either dataset=... or experiment=... with a filter, not both"
            )
        request.input.dataset.dataset = required_text(dataset, "dataset")
        version = whole(dataset_version, "dataset_version", 0)
        if version is not None:
            request.input.dataset.version = version
        request.experiment = text(experiment, "experiment")
    else:
        if dataset_version is not None:
            raise InvalidArgumentError(
                "dataset_version needs dataset=... (--dataset): name "
                "the dataset whose version to score"
            )
        if experiment is None and all(v is None for v in trace_args.values()):
            raise InvalidArgumentError(
                "say what to score: dataset=... (--dataset; a dataset's records), or "
                "experiment=... (-e) and/or filter_string=... (--filter; traces)"
            )
        _trace_input(request.input.traces, experiment=experiment, **trace_args)
    request.scorers.extend(check_locally(scorers))
    client = session.client()
    if request.input.HasField("traces"):
        session.run_before_read()  # spans this process still holds reach the collector first
    return EvaluationJob.from_proto(client.call(service(client).SubmitJob, request))


def _trace_input(
    traces: jobs_pb2.TraceInput,
    *,
    experiment: str | None,
    filter_string: str | None,
    start_time: TimeSpec | None,
    end_time: TimeSpec | None,
    max_traces: int | None,
    expectations_dataset: str | None,
) -> None:
    traces.experiment = (
        text(experiment, "experiment")
        if experiment is not None
        else session.current_experiment_id() or ""
    )
    traces.filter_string = text(filter_string, "filter_string")
    traces.expectations_dataset = text(expectations_dataset, "expectations_dataset")
    start, end = time_ms(start_time, "start_time"), time_ms(end_time, "end_time")
    if start is not None and end is not None and start >= end:
        raise InvalidArgumentError(
            f"start_time ({_iso(start)}) must be before end_time ({_iso(end)})"
        )
    if start is not None:
        traces.start_time_ms = start
    if end is not None:
        traces.end_time_ms = end
    traces.max_traces = whole(max_traces, "max_traces", 1, 2**31 - 1) or 0


def get_job(job_id: str) -> EvaluationJob:
    """One job with its progress (NotFoundError when there is none)."""
    request = jobs_pb2.GetJobRequest(job_id=required_text(job_id, "job_id"))
    client = session.client()
    return EvaluationJob.from_proto(client.call(service(client).GetJob, request))


def list_jobs(
    status: str | None = None, include_monitors: bool = False, max_results: int | None = None
) -> list[EvaluationJob]:
    """Jobs, newest first: only those in ``status`` (PENDING, RUNNING, FINISHED, FAILED,
    CANCELLED) when given; monitors' jobs too with ``include_monitors``; every one when
    ``max_results`` is None."""
    limit = whole(max_results, "max_results", 1)
    request = jobs_pb2.ListJobsRequest(
        status=_status(status),
        include_monitors=bool(include_monitors),
        max_results=min(limit or 1000, 1000),
    )
    client = session.client()
    return [
        EvaluationJob.from_proto(j)
        for j in client.collect(service(client).ListJobs, request, "jobs", limit)
    ]


def cancel_job(job_id: str) -> EvaluationJob:
    """Stop a job: no more chunks are handed out and its run is marked FAILED
    ("cancelled"); rows already scored stay. Returns the job, CANCELLED."""
    request = jobs_pb2.CancelJobRequest(job_id=required_text(job_id, "job_id"))
    client = session.client()
    return EvaluationJob.from_proto(client.call(service(client).CancelJob, request))


def wait_for_job(
    job_id: str,
    timeout: float | None = None,
    poll: float = 1.0,
    *,
    on_progress: Callable[[EvaluationJob], None] | None = None,
    worker_grace: float | None = None,
) -> EvaluationJob:
    """Poll the job every ``poll`` seconds until it is FINISHED, FAILED or CANCELLED and
    return it (a FAILED job is returned, not raised). ``on_progress`` sees every state
    polled. After ``timeout`` seconds: :class:`JobTimeoutError` saying how far it got. With
    ``worker_grace``: :class:`NoEvaluatorError` once no evaluator worker has been alive for
    that many seconds while the job waits (None: wait whatever the workers do)."""
    poll = number(poll, "poll", 0, low_open=True, meaning=" (seconds between checks)")
    if timeout is not None:
        timeout = number(timeout, "timeout", 0, meaning=" (seconds)")
    if worker_grace is not None:
        worker_grace = number(worker_grace, "worker_grace", 0, meaning=" (seconds)")
    deadline = None if timeout is None else time.monotonic() + timeout
    alone_since: float | None = None  # since when no worker was alive
    job = get_job(job_id)
    if job.monitor_id:
        raise InvalidArgumentError(
            f"job {job.job_id} is the job of monitor {job.monitor_id}: it runs as long as the "
            "monitor exists, so it never finishes; follow the monitor with get_monitor()"
        )
    while True:
        if on_progress is not None:
            on_progress(job)
        if job.is_done:
            return job
        alone_since = None if job.live_workers else (alone_since or time.monotonic())
        alone = None if alone_since is None else time.monotonic() - alone_since
        if worker_grace is not None and alone is not None and alone >= worker_grace:
            raise NoEvaluatorError(no_evaluator_text(job), job)
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            raise JobTimeoutError(
                f"job {job.job_id} is still {job.status} after {timeout:g} s: "
                f"{progress_text(job)}; wait longer, or follow it with `spyglass eval status "
                f"{job.job_id} --watch`",
                job,
            )
        time.sleep(poll if left is None else min(poll, left))
        job = get_job(job_id)


def no_evaluator_text(job: EvaluationJob) -> str:
    """What to do about a job that no evaluator worker is alive to take: the command that
    starts one against the collector this process talks to."""
    if session.embedded_collector() is not None:  # it ends with this process
        from spyglass.config import EvaluatorSettings

        address = EvaluatorSettings.collector
        start = (
            "start a collector over this store (`spyglass collector start`) and "
            f"`spyglass evaluator serve --collector {address}`"
        )
    else:
        start = f"start `spyglass evaluator serve --collector {session.client().address}`"
    return (
        f"no evaluator is running: {start}; job {job.job_id} stays {job.status} until one "
        f"takes it (follow it with `spyglass eval status {job.job_id} --watch`)"
    )


def progress_text(job: EvaluationJob) -> str:
    """One line: rows done of total, rows with errors, chunks, ETA."""
    parts = [f"{job.rows_done}/{job.total_rows} rows ({100 * job.fraction_done:.1f}%)"]
    if job.rows_with_errors:
        parts.append(f"{job.rows_with_errors} with errors")
    parts.append(
        f"chunks {job.chunks_done} done, {job.chunks_leased} leased, "
        f"{job.chunks_failed} failed of {job.chunks_total}"
    )
    if job.eta_seconds is not None and not job.is_done:
        parts.append(f"ETA {countdown(job.eta_seconds)}")
    return ", ".join(parts)


def time_ms(value: TimeSpec | None, what: str) -> int | None:
    """``value`` (see :data:`TimeSpec`) as ms since the epoch; None stays None."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise InvalidArgumentError(f"{what} must be a time, got {value!r}")
    if isinstance(value, (int, float)):
        return int(number(value, what, 0, meaning=" (ms since the epoch)"))
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    if isinstance(value, date):
        return int(datetime(value.year, value.month, value.day).timestamp() * 1000)
    if isinstance(value, str):
        parsed = parse_time_ms(value)
        if parsed is not None:
            return parsed
    raise InvalidArgumentError(f"{what} {value!r} is not a time; give {TIME_FORMS}")


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000).isoformat(timespec="seconds")


def _status(status: str | None) -> jobs_pb2.JobStatus | str:
    if status is None:
        return jobs_pb2.JOB_STATUS_UNSPECIFIED
    if not isinstance(status, str) or status.upper() not in STATUSES:
        raise InvalidArgumentError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
    return status.upper()  # the enum's name
