"""Monitors in the store: create, get (with metrics over time windows), list, update,
delete. The check that feeds a monitor's job with new traces is
:mod:`spyglass.collector.store.jobs.monitor_checks`.

Creating a monitor checks it as SubmitJob checks a job, then stores it with its own job
(RUNNING for as long as the monitor exists, its chunks claimed before other jobs') and its
evaluation run. ``include_existing`` starts the cursor at the beginning, so every stored
trace of the experiment is scored too; otherwise it starts after the newest stored trace.
Pausing stops the checks; on resume the monitor catches up from where it stopped. Deleting
a monitor cancels its open chunks (a worker holding one learns it when it renews
the lease) and finishes its job and run; its feedback on traces stays.

Window metrics come from the run's records by the time they were stored: per window
(1h, 24h, 7d) the rows, and per score name the numeric scores' count and mean and the
errors.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, or_, select, update

from spyglass.collector.store.clock import now_ms
from spyglass.collector.store.engine import write_transaction
from spyglass.collector.store.evaluation.runs import create_run_in
from spyglass.collector.store.jobs.completion import JOBS, end_job, lock_job, score_summaries
from spyglass.collector.store.jobs.messages import input_json
from spyglass.collector.store.jobs.monitor_checks import MONITORS
from spyglass.collector.store.jobs.specs import (
    NAME_MAX,
    check_quiet_period,
    check_sample_rate,
    check_scorers,
    new_id,
    resolve_experiment,
    run_scorers,
    scorer_refs,
)
from spyglass.collector.store.jobs.submit import close_open_chunks
from spyglass.collector.store.models import EvaluationRecordRow, EvaluationRunRow, TraceRow
from spyglass.collector.store.text import check_text
from spyglass.collector.store.traces.filters import compile_filter
from spyglass.errors import AlreadyExistsError, InvalidArgumentError, NotFoundError
from spyglass.v1 import evaluation_pb2 as epb
from spyglass.v1 import jobs_pb2 as pb

QUIET_PERIOD_DEFAULT = 30.0
MONITOR_CHUNK_SIZE = 100
WINDOWS = (("1h", 3600_000), ("24h", 86_400_000), ("7d", 7 * 86_400_000))

_M = MONITORS.c
_RUNS = EvaluationRunRow.__table__.c
_RECORDS = EvaluationRecordRow.__table__.c


# -- create ----------------------------------------------------------------------------------


def create_monitor(engine: Engine, request: pb.CreateMonitorRequest) -> pb.Monitor:
    """Check and store a monitor with its job and run (module docstring)."""
    name = check_text(request.name.strip(), NAME_MAX, "name")
    if not name:
        raise InvalidArgumentError("a monitor needs a name, e.g. 'support-quality'")
    rate = check_sample_rate(request.sample_rate or 1.0)
    quiet = check_quiet_period(
        request.quiet_period_seconds
        if request.HasField("quiet_period_seconds")
        else QUIET_PERIOD_DEFAULT
    )
    now = now_ms()
    with engine.connect() as connection:
        scorers = check_scorers(connection, request.scorers, now)
        experiment_id = resolve_experiment(connection, request.experiment, "experiment")
    compile_filter(request.filter_string, engine.dialect.name)  # InvalidFilterError
    monitor_id, job_id = new_id(), new_id()
    with write_transaction(engine) as connection:
        if connection.scalar(select(_M.monitor_id).where(_M.name == name)) is not None:
            raise AlreadyExistsError(
                f"a monitor named {name!r} exists already; update it "
                "(UpdateMonitor; `spyglass monitors pause|resume`), "
                "delete it, or choose another name"
            )
        run = create_run_in(
            connection,
            epb.CreateEvaluationRunRequest(
                experiment_id=str(experiment_id),
                name=f"monitor {name}"[:NAME_MAX],
                scorers=run_scorers(scorers),
            ),
        )
        source = pb.JobInput(
            traces=pb.TraceInput(experiment=str(experiment_id), filter_string=request.filter_string)
        )
        connection.execute(
            JOBS.insert(),
            {
                "job_id": job_id,
                "name": f"monitor {name}"[:NAME_MAX],
                "experiment_id": experiment_id,
                "monitor_id": monitor_id,
                "input": input_json(source),
                "scorers": json.dumps(scorers),
                "build_dataset": None,
                "run_id": run.run_id,
                "status": "RUNNING",
                "error_message": None,
                "total_rows": 0,
                "chunk_size": MONITOR_CHUNK_SIZE,
                "chunks_total": 0,
                "created_time_ms": now,
                "started_time_ms": now,
                "finished_time_ms": None,
            },
        )
        cursor = (
            0
            if request.include_existing
            else (connection.scalar(select(func.max(TraceRow.__table__.c.id))) or 0)
        )
        connection.execute(
            MONITORS.insert(),
            {
                "monitor_id": monitor_id,
                "name": name,
                "experiment_id": experiment_id,
                "filter_string": request.filter_string,
                "sample_rate": rate,
                "scorers": json.dumps(scorers),
                "quiet_period_seconds": quiet,
                "enabled": True,
                "job_id": job_id,
                "run_id": run.run_id,
                "cursor": cursor,
                "waiting": "[]",
                "traces_seen": 0,
                "traces_sampled": 0,
                "last_check_ms": None,
                "created_time_ms": now,
            },
        )
    return get_monitor(engine, monitor_id)


# -- read ------------------------------------------------------------------------------------


def get_monitor(engine: Engine, ref: str) -> pb.Monitor:
    """One monitor by id or name, with its window metrics."""
    with engine.connect() as connection:
        row = _find(connection, ref)
        message = _messages(connection, [row])[0]
        message.windows.extend(_windows(connection, row.run_id, now_ms()))
    return message


def list_monitors(engine: Engine, request: pb.ListMonitorsRequest) -> pb.ListMonitorsResponse:
    """Every monitor (of one experiment when asked), by name, without window metrics."""
    query = select(MONITORS).order_by(_M.name)
    with engine.connect() as connection:
        if request.experiment.strip():
            number = resolve_experiment(connection, request.experiment, "experiment")
            query = query.where(_M.experiment_id == number)
        rows = connection.execute(query).all()
        return pb.ListMonitorsResponse(monitors=_messages(connection, rows))


def find_monitor(connection: Connection, ref: str) -> Any:
    """The ``monitors`` row named by id or name (NotFoundError when none)."""
    return _find(connection, ref)


def _find(connection: Connection, ref: str, lock: bool = False) -> Any:
    ref = ref.strip()  # as CreateMonitor stores names
    if not ref:
        raise InvalidArgumentError("monitor is empty; name a monitor by its id or name")
    query = select(MONITORS).where(or_(_M.monitor_id == ref, _M.name == ref))
    if lock and connection.dialect.name == "postgresql":
        query = query.with_for_update()
    rows = connection.execute(query).all()
    if not rows:
        raise NotFoundError(
            f"no monitor has the id or name {ref!r}; list monitors with "
            "ListMonitors (`spyglass monitors list`)"
        )
    return next((r for r in rows if r.monitor_id == ref), rows[0])


def _messages(connection: Connection, rows: Sequence[Any]) -> list[pb.Monitor]:
    scored = dict(
        connection.execute(
            select(_RUNS.run_id, _RUNS.record_count).where(
                _RUNS.run_id.in_([r.run_id for r in rows])
            )
        ).all()
    )
    messages = []
    for row in rows:
        message = pb.Monitor(
            monitor_id=row.monitor_id,
            name=row.name,
            experiment_id=str(row.experiment_id),
            filter_string=row.filter_string,
            sample_rate=row.sample_rate,
            scorers=scorer_refs(row.scorers),
            quiet_period_seconds=row.quiet_period_seconds,
            enabled=row.enabled,
            job_id=row.job_id,
            run_id=row.run_id,
            created_time_ms=row.created_time_ms,
            traces_seen=row.traces_seen,
            traces_sampled=row.traces_sampled,
            traces_scored=scored.get(row.run_id, 0),
        )
        if row.last_check_ms is not None:
            message.last_check_time_ms = row.last_check_ms
        messages.append(message)
    return messages


def _windows(connection: Connection, run_id: str, now: int) -> list[pb.MonitorWindow]:
    windows = []
    for label, span_ms in WINDOWS:
        since = now - span_ms
        rows = connection.scalar(
            select(func.count()).where(_RECORDS.run_id == run_id, _RECORDS.created_time_ms >= since)
        )
        windows.append(
            pb.MonitorWindow(
                window=label, rows=rows or 0, scores=score_summaries(connection, run_id, since)
            )
        )
    return windows


# -- change ----------------------------------------------------------------------------------


def update_monitor(engine: Engine, request: pb.UpdateMonitorRequest) -> pb.Monitor:
    """Pause or resume, or change the sample rate, filter or quiet period."""
    changes: dict[str, Any] = {}
    if request.HasField("enabled"):
        changes["enabled"] = request.enabled
    if request.HasField("sample_rate"):
        changes["sample_rate"] = check_sample_rate(request.sample_rate)
    if request.HasField("quiet_period_seconds"):
        changes["quiet_period_seconds"] = check_quiet_period(request.quiet_period_seconds)
    if request.HasField("filter_string"):
        compile_filter(request.filter_string, engine.dialect.name)
        changes["filter_string"] = request.filter_string
    with write_transaction(engine) as connection:
        row = _find(connection, request.monitor, lock=True)
        if changes:
            connection.execute(
                update(MONITORS).where(_M.monitor_id == row.monitor_id).values(changes)
            )
        if "filter_string" in changes:
            source = pb.JobInput(
                traces=pb.TraceInput(
                    experiment=str(row.experiment_id), filter_string=request.filter_string
                )
            )
            connection.execute(
                update(JOBS).where(JOBS.c.job_id == row.job_id).values(input=input_json(source))
            )
    return get_monitor(engine, row.monitor_id)


def delete_monitor(engine: Engine, ref: str) -> None:
    """Delete the monitor; its open chunks are cancelled, its job and run finished."""
    with write_transaction(engine) as connection:
        row = _find(connection, ref, lock=True)
        close_open_chunks(connection, row.job_id, "CANCELLED")
        job = lock_job(connection, row.job_id)
        if job is not None and job.status == "RUNNING":
            end_job(connection, job, "FINISHED", None, now_ms())
        connection.execute(delete(MONITORS).where(_M.monitor_id == row.monitor_id))
