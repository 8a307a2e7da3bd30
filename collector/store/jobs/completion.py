"""How a job ends, and what its run gets: the job finishes with its last chunk — FINISHED,
or FAILED naming the failed chunks when a chunk failed, or FAILED naming the errors by
scorer when no stored row got a score without an error (a job that scored nothing has not
succeeded, whatever its chunks did) — is cancelled, or (a monitor's job) stops with its
monitor; its run is finished the same way, with metrics computed from the results stored in
it.

Metrics: ``"<score name>/score"`` is the mean of the numeric scores without an error (NaN
when there is none), ``"<score name>/count"`` the rows it was computed over and
``"<score name>/error_count"`` the rows whose score failed, as the evaluator library
computes them. Judge usage is added to the run as each chunk is released
(priced with the collector's price table), so the run shows it while the job runs.

Lock order (PostgreSQL): chunk rows, then the job row, then the run row — every
transaction here takes them in that order, so none waits on another in a cycle.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, and_, case, func, select, tuple_, update

from spyglass.collector.genai.cost import PriceTable
from spyglass.collector.store.evaluation.runs import finish_run_in, judge_usage_columns
from spyglass.collector.store.jobs.rows import CHUNKS
from spyglass.collector.store.models import (
    EvaluationJobRow,
    EvaluationRecordRow,
    EvaluationResultRow,
    EvaluationRunRow,
)
from spyglass.v1 import evaluation_pb2 as epb
from spyglass.v1 import jobs_pb2 as pb

JOBS = EvaluationJobRow.__table__
OPEN_STATES = ("PENDING", "LEASED")  # a chunk that still has work
ENDED = ("FINISHED", "FAILED", "CANCELLED")
MAX_FAILED_CHUNKS_NAMED = 5

_J = JOBS.c
_RESULTS = EvaluationResultRow.__table__.c
_RUNS = EvaluationRunRow.__table__


def lock_job(connection: Connection, job_id: str) -> Any:
    """The job's row, locked until the transaction ends (PostgreSQL; SQLite's write
    transaction holds the database), or None."""
    query = select(JOBS).where(_J.job_id == job_id)
    if connection.dialect.name == "postgresql":
        query = query.with_for_update()
    return connection.execute(query).first()


def finish_if_complete(connection: Connection, job_id: str, now: int) -> str:
    """End the job when none of its chunks has work left (not a monitor's job); returns
    the job's status after."""
    job = lock_job(connection, job_id)
    if job.status in ENDED or job.monitor_id is not None:
        return job.status
    states: dict[str, int] = dict(
        connection.execute(
            select(CHUNKS.c.state, func.count())
            .where(CHUNKS.c.job_id == job_id)
            .group_by(CHUNKS.c.state)
        ).all()
    )
    if any(states.get(s) for s in OPEN_STATES):
        return job.status
    failed = (
        _failed_chunks(connection, job_id)
        if states.get("FAILED")
        else _every_row_failed(connection, job.run_id)
    )
    end_job(connection, job, "FAILED" if failed else "FINISHED", failed or None, now)
    return "FAILED" if failed else "FINISHED"


def end_job(connection: Connection, job: Any, status: str, error: str | None, now: int) -> None:
    """Set the job's final status (``error`` when FAILED) and finish its run: FINISHED
    with the job, else FAILED with the job's error or "cancelled"."""
    connection.execute(
        update(JOBS)
        .where(_J.job_id == job.job_id)
        .values(
            status=status, error_message=error if status == "FAILED" else None, finished_time_ms=now
        )
    )
    run_status = "FINISHED" if status == "FINISHED" else "FAILED"
    run_error = "cancelled" if status == "CANCELLED" else error
    finish_run_in(
        connection, job.run_id, run_status, run_metrics(connection, job.run_id), run_error
    )


def run_metrics(connection: Connection, run_id: str) -> dict[str, float]:
    """The run's metrics from its stored results (module docstring)."""
    metrics: dict[str, float] = {}
    for score in score_summaries(connection, run_id):
        metrics[f"{score.name}/score"] = score.mean
        metrics[f"{score.name}/count"] = float(score.count)
        metrics[f"{score.name}/error_count"] = float(score.error_count)
    return metrics


def score_summaries(
    connection: Connection, run_id: str, since_ms: int | None = None
) -> list[pb.WindowScore]:
    """Per score name of a run, by name: rows with a numeric score, their mean (NaN when
    none) and rows whose score failed — over every row, or over the rows stored since
    ``since_ms`` (a monitor's window)."""
    ok = and_(_RESULTS.error.is_(None), _RESULTS.score.is_not(None))
    query = (
        select(
            _RESULTS.name,
            func.count(case((ok, 1))),
            func.avg(case((ok, _RESULTS.score))),
            func.count(_RESULTS.error),
        )
        .where(_RESULTS.run_id == run_id)
        .group_by(_RESULTS.name)
        .order_by(_RESULTS.name)
    )
    if since_ms is not None:
        records = EvaluationRecordRow.__table__.c
        query = query.join_from(
            EvaluationResultRow,
            EvaluationRecordRow,
            and_(records.run_id == _RESULTS.run_id, records.row_index == _RESULTS.row_index),
        ).where(records.created_time_ms >= since_ms)
    return [
        pb.WindowScore(
            name=name,
            count=count,
            mean=float("nan") if mean is None else float(mean),
            error_count=errors,
        )
        for name, count, mean, errors in connection.execute(query)
    ]


def add_judge_usage(
    connection: Connection, run_id: str, usage: Iterable[epb.ModelUsage], prices: PriceTable
) -> None:
    """Add a chunk's judge tokens (per model) to the run's, re-pricing the totals."""
    fresh = [u for u in usage if u.input_tokens or u.output_tokens]
    if not fresh:
        return
    stored = connection.scalar(select(_RUNS.c.judge_usage).where(_RUNS.c.run_id == run_id))
    totals: dict[str, list[int]] = {
        m["model"]: [m["input_tokens"], m["output_tokens"]] for m in json.loads(stored or "[]")
    }
    for entry in fresh:
        counts = totals.setdefault(entry.model, [0, 0])
        counts[0] += entry.input_tokens
        counts[1] += entry.output_tokens
    models = [
        epb.ModelUsage(model=m, input_tokens=i, output_tokens=o)
        for m, (i, o) in sorted(totals.items())
    ]
    connection.execute(
        update(_RUNS).where(_RUNS.c.run_id == run_id).values(judge_usage_columns(models, prices))
    )


def _failed_chunks(connection: Connection, job_id: str) -> str:
    """The job's error message: how many chunks failed, the first few with their error."""
    rows = connection.execute(
        select(CHUNKS.c.chunk_index, CHUNKS.c.last_error)
        .where(CHUNKS.c.job_id == job_id, CHUNKS.c.state == "FAILED")
        .order_by(CHUNKS.c.chunk_index)
    ).all()
    named = "; ".join(
        f"chunk {index}: {error or 'no error given'}"
        for index, error in rows[:MAX_FAILED_CHUNKS_NAMED]
    )
    more = (
        f"; and {len(rows) - MAX_FAILED_CHUNKS_NAMED} more"
        if len(rows) > MAX_FAILED_CHUNKS_NAMED
        else ""
    )
    return f"{len(rows)} chunk(s) failed ({named}{more})"


def _every_row_failed(connection: Connection, run_id: str) -> str:
    """The job's error message when no row stored in its run got a single score without an
    error (with the first error of each score name that failed), else "". A row that one
    scorer scored has not failed, whatever its other scorers did: their errors show in the
    run's error counts."""
    rows = connection.scalar(
        select(func.count(func.distinct(_RESULTS.row_index))).where(_RESULTS.run_id == run_id)
    )
    scored = connection.scalar(
        select(func.count(func.distinct(_RESULTS.row_index))).where(
            _RESULTS.run_id == run_id, _RESULTS.error.is_(None)
        )
    )
    if not rows or scored:
        return ""
    firsts = connection.execute(
        select(_RESULTS.name, func.count(), func.min(_RESULTS.row_index))
        .where(_RESULTS.run_id == run_id, _RESULTS.error.is_not(None))
        .group_by(_RESULTS.name)
        .order_by(_RESULTS.name)
    ).all()
    texts = {
        name: _error_text(error)
        for name, error in connection.execute(
            select(_RESULTS.name, _RESULTS.error).where(
                _RESULTS.run_id == run_id,
                tuple_(_RESULTS.name, _RESULTS.row_index).in_(
                    [(name, first) for name, _, first in firsts]
                ),
            )
        )
    }
    named = "; ".join(
        f"{name}: {count} row(s), first error: {texts.get(name, '')}" for name, count, _ in firsts
    )
    return f"every row's scoring failed ({rows} row(s)); {named}"


def _error_text(error_json: str | None) -> str:
    error = json.loads(error_json or "{}")
    text = str(error.get("message") or error.get("code") or "no message given")
    return text if len(text) <= 200 else text[:199] + "…"
