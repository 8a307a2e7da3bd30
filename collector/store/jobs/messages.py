"""Jobs as API messages, with their progress: rows stored (the run's records), rows with a
score error, chunks by state, errors per scorer with the latest message, an ETA at the
rate rows were stored so far, and how many evaluator workers are alive to do the work.

Progress for a page of jobs costs a fixed number of queries (chunk states, run record
counts, errors per scorer, rows with errors, live workers), each over the whole page, never
one per job.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from google.protobuf import json_format
from sqlalchemy import Connection, func, select, tuple_

from spyglass.collector.store.jobs.rows import CHUNKS
from spyglass.collector.store.jobs.specs import scorer_refs
from spyglass.collector.store.jobs.workers import live_workers
from spyglass.collector.store.models import EvaluationResultRow, EvaluationRunRow
from spyglass.v1 import jobs_pb2 as pb

_RESULTS = EvaluationResultRow.__table__.c
_RUNS = EvaluationRunRow.__table__.c


def input_json(source: pb.JobInput) -> str:
    """A job's input as stored."""
    return json_format.MessageToJson(source, preserving_proto_field_name=True, indent=None)


def job_message(row: Any) -> pb.EvaluationJob:
    """A job row as the API message, without progress (what a worker needs)."""
    message = pb.EvaluationJob(
        job_id=row.job_id,
        name=row.name,
        experiment_id=str(row.experiment_id),
        input=json_format.Parse(row.input, pb.JobInput()),
        scorers=scorer_refs(row.scorers),
        build_dataset=row.build_dataset or "",
        run_id=row.run_id,
        monitor_id=row.monitor_id or "",
        status=row.status,
        total_rows=row.total_rows,
        chunk_size=row.chunk_size,
        chunks_total=row.chunks_total,
        created_time_ms=row.created_time_ms,
    )
    for name in ("error_message", "started_time_ms", "finished_time_ms"):
        if getattr(row, name) is not None:
            setattr(message, name, getattr(row, name))
    return message


def jobs_with_progress(
    connection: Connection, rows: Sequence[Any], now: int
) -> list[pb.EvaluationJob]:
    """Messages for job rows with their progress (module docstring)."""
    if not rows:
        return []
    chunks = _chunk_states(connection, [r.job_id for r in rows])
    run_ids = [r.run_id for r in rows]
    done = dict(
        connection.execute(
            select(_RUNS.run_id, _RUNS.record_count).where(_RUNS.run_id.in_(run_ids))
        ).all()
    )
    errors = _errors_by_scorer(connection, run_ids)
    erring: dict[str, int] = dict(
        connection.execute(
            select(_RESULTS.run_id, func.count(func.distinct(_RESULTS.row_index)))
            .where(_RESULTS.run_id.in_(run_ids), _RESULTS.error.is_not(None))
            .group_by(_RESULTS.run_id)
        ).all()
    )
    workers = live_workers(connection, now)
    messages = []
    for row in rows:
        message = job_message(row)
        message.live_workers = workers
        states = chunks.get(row.job_id, {})
        message.chunks_done = states.get("DONE", 0)
        message.chunks_leased = states.get("LEASED", 0)
        message.chunks_failed = states.get("FAILED", 0)
        message.rows_done = done.get(row.run_id, 0)
        message.rows_with_errors = erring.get(row.run_id, 0)
        message.errors.extend(errors.get(row.run_id, []))
        eta = _eta(row, message.rows_done, now)
        if eta is not None:
            message.eta_seconds = eta
        messages.append(message)
    return messages


def _chunk_states(connection: Connection, job_ids: list[str]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = defaultdict(dict)
    query = (
        select(CHUNKS.c.job_id, CHUNKS.c.state, func.count())
        .where(CHUNKS.c.job_id.in_(job_ids))
        .group_by(CHUNKS.c.job_id, CHUNKS.c.state)
    )
    for job_id, state, count in connection.execute(query):
        out[job_id][state] = count
    return out


def _errors_by_scorer(
    connection: Connection, run_ids: list[str]
) -> dict[str, list[pb.ScorerErrors]]:
    """Per run: each score name's error count and the message of its latest error (the
    highest row index)."""
    counts = connection.execute(
        select(_RESULTS.run_id, _RESULTS.name, func.count(), func.max(_RESULTS.row_index))
        .where(_RESULTS.run_id.in_(run_ids), _RESULTS.error.is_not(None))
        .group_by(_RESULTS.run_id, _RESULTS.name)
    ).all()
    if not counts:
        return {}
    keys = [(run_id, name, last) for run_id, name, _, last in counts]
    texts = {
        (r, n): e
        for r, n, e in connection.execute(
            select(_RESULTS.run_id, _RESULTS.name, _RESULTS.error).where(
                tuple_(_RESULTS.run_id, _RESULTS.name, _RESULTS.row_index).in_(keys)
            )
        )
    }
    out: dict[str, list[pb.ScorerErrors]] = defaultdict(list)
    for run_id, name, count, _ in sorted(counts):
        out[run_id].append(
            pb.ScorerErrors(name=name, count=count, last_error=_message(texts.get((run_id, name))))
        )
    return out


def _message(error_json: str | None) -> str:
    error = json.loads(error_json or "{}")
    return error.get("message") or error.get("code") or ""


def _eta(row: Any, rows_done: int, now: int) -> float | None:
    """Seconds left at the rate rows were stored since the first claim; None before the
    first rows, for a job that ended, and for a monitor's (endless) job."""
    if row.status != "RUNNING" or row.monitor_id or not rows_done or not row.started_time_ms:
        return None
    rate = rows_done / max(now - row.started_time_ms, 1)  # rows per ms
    return max(row.total_rows - rows_done, 0) / rate / 1000
