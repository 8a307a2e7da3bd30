"""The worker's loop: claim a chunk, score it, write its rows back once, release it.

One chunk at a time. ``ClaimWork`` leases a chunk (the items whose rows the job's run does
not have yet); with none to take the worker waits ``poll_seconds`` (with jitter, so workers
do not ask in step), and while the collector cannot be reached it retries with exponential
backoff (``/readyz`` says why meanwhile). A chunk is turned into records (:mod:`.chunk`),
merged into the job's ``build_dataset`` when it names one (before scoring, so that a row
stored in the run has always been merged; merging is idempotent), scored ``concurrency``
rows at a time by the evaluator's own row runner with the recorded outputs standing for the
app's, and written back in batches with ``LogWorkResults`` while rows still run. Then the
lease is released as done, with the judge tokens the chunk spent.

What can go wrong, and what the collector sees:

- a row that cannot be scored, or a scorer that fails on a row: a per-row error, stored;
- a scorer that does not return within its time limit (its own ``time_limit``, else
  ``--code-scorer-time-limit`` or ``--judge-time-limit``): a per-row error at the deadline;
  the chunk goes on and completes, so its lease is not renewed for ever (the call is
  abandoned in a daemon thread, see :mod:`spyglass.evaluator.deadlines`);
- the lease is lost (another worker took the expired chunk) or the job is cancelled: no
  more rows start, unsent rows are dropped, the chunk is not released as done (a cancelled
  job's chunk is given back);
- anything else breaks the chunk: it is given back with the error (``ReleaseLease(done=
  false, error_message=...)``), which counts as a failed attempt, so a chunk that keeps
  failing fails its job with that message instead of going round forever;
- shutdown: no more claims and no more rows; rows in flight finish and are sent, and the
  chunk is released as done if every row made it, else given back (no error).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_exponential_jitter

from spyglass.errors import CollectorUnavailableError, FailedPreconditionError
from spyglass.evaluator.deadlines import DEFAULT_CODE_TIME_LIMIT, DEFAULT_JUDGE_TIME_LIMIT
from spyglass.evaluator.execution import RowOutcome, run_rows
from spyglass.evaluator.harness import judge_usage
from spyglass.evaluator.scorers import Scorer
from spyglass.evaluator.worker.chunk import ChunkRows, build_rows
from spyglass.evaluator.worker.connection import Connection
from spyglass.evaluator.worker.job_datasets import JobDatasets
from spyglass.evaluator.worker.lease import CANCELLED, LOST, SHUTDOWN, Lease, LeaseRenewer
from spyglass.evaluator.worker.scoring import (
    ChunkScorer,
    JobScorers,
    needs_trace,
    stopped,
    time_limits,
)
from spyglass.evaluator.writeback import ResultWriter, record_message
from spyglass.v1 import evaluation_pb2 as epb
from spyglass.v1 import jobs_pb2 as pb

logger = logging.getLogger("spyglass.evaluator.worker")

MAX_CLAIM_BACKOFF_S = 30.0
DONE, GIVEN_BACK, FAILED = "done", "given_back", "failed"


@dataclass(frozen=True)
class WorkerOptions:
    """How the worker claims and scores (the ``evaluator serve`` settings it uses)."""

    concurrency: int = 16
    lease_seconds: float = 30.0
    poll_seconds: float = 1.0
    code_scorer_time_limit: float = DEFAULT_CODE_TIME_LIMIT
    judge_time_limit: float = DEFAULT_JUDGE_TIME_LIMIT


class Worker:
    """Claims and scores chunks until :meth:`stop` (module docstring)."""

    def __init__(
        self,
        connection: Connection,
        worker_id: str,
        registry: Mapping[str, Scorer],
        options: WorkerOptions = WorkerOptions(),
    ) -> None:
        self.worker_id = worker_id
        self._connection = connection
        self._metrics = connection.metrics
        self._options = options
        self._scorers = JobScorers(registry)
        self._limits = time_limits(options.code_scorer_time_limit, options.judge_time_limit)
        self._datasets = JobDatasets(connection)
        self._stopping = threading.Event()
        self._current: Lease | None = None

    # -- the loop ----------------------------------------------------------------------------

    def run(self) -> None:
        """Claim and score chunks until :meth:`stop`."""
        while not self._stopping.is_set():
            claim = self._claim()
            if claim is None or not claim.lease_id:
                self._stopping.wait(self._options.poll_seconds * random.uniform(0.5, 1.5))
                continue
            self.process(Lease(claim, self.worker_id))

    def stop(self) -> None:
        """Claim no more; the chunk being scored starts no more rows."""
        self._stopping.set()
        lease = self._current
        if lease is not None:
            lease.stop(SHUTDOWN)

    def give_back_held(self) -> None:
        """Give back the chunk still held (shutdown, once the grace period is over)."""
        lease = self._current
        if lease is not None:
            self._end(lease, GIVEN_BACK)

    def _claim(self) -> pb.ClaimWorkResponse | None:
        """One claim (retried with backoff while the collector fails); None when stopping."""
        request = pb.ClaimWorkRequest(
            worker_id=self.worker_id, lease_seconds=self._options.lease_seconds
        )
        retrying = Retrying(
            retry=retry_if_exception_type(Exception),
            wait=wait_exponential_jitter(
                multiplier=self._options.poll_seconds,
                max=MAX_CLAIM_BACKOFF_S,
                jitter=self._options.poll_seconds,
            ),
            stop=lambda _state: self._stopping.is_set(),
            sleep=self._nap,
            before_sleep=self._claim_failed,
            reraise=True,
        )
        try:
            claimed: pb.ClaimWorkResponse = retrying(self._connection.jobs, "ClaimWork", request)
        except Exception:  # only when stopping: the last failure was logged already
            return None
        return claimed

    def _nap(self, seconds: float) -> None:
        """The backoff between claims; cut short when the worker stops."""
        self._stopping.wait(seconds)

    def _claim_failed(self, state: Any) -> None:
        problem = f"claiming work failed ({state.outcome.exception()})"
        self._connection.readiness.failed(problem)
        logger.warning("%s; retrying in %.1f s", problem, state.upcoming_sleep)

    # -- one chunk ---------------------------------------------------------------------------

    def process(self, lease: Lease) -> str:
        """Score one claimed chunk and end its lease; how it ended (done, given_back, lost,
        failed)."""
        logger.info(
            "claimed %s: %d row(s), attempt %d",
            lease.label,
            len(lease.items),
            lease.previous_attempts + 1,
        )
        started = time.monotonic()
        self._current = lease
        self._metrics.leases_held.inc()
        sent: list[RowOutcome] = []
        try:
            with LeaseRenewer(self._connection, lease, self._options.lease_seconds):
                if self._stopping.is_set():
                    lease.stop(SHUTDOWN)
                outcome = self._score(lease, sent)
        except CollectorUnavailableError as exc:  # not the chunk's fault: no failed attempt
            logger.warning(
                "%s: the collector stayed unreachable (%s); giving the chunk back", lease.label, exc
            )
            outcome = self._end(lease, GIVEN_BACK, usage=judge_usage(sent))
        except Exception as exc:  # the chunk as a whole broke: give it back with the error
            logger.exception("%s failed", lease.label)
            outcome = self._end(
                lease, FAILED, usage=judge_usage(sent), error=f"{type(exc).__name__}: {exc}"
            )
        finally:
            self._metrics.leases_held.dec()
            self._current = None
        errors = sum(1 for o in sent if o.prediction.error or any(s.error for s in o.scores))
        logger.info(
            "%s: %s; %d of %d row(s) stored (%d with errors) in %.2f s",
            lease.label,
            outcome,
            len(sent),
            len(lease.items),
            errors,
            time.monotonic() - started,
        )
        return outcome

    def _score(self, lease: Lease, sent: list[RowOutcome]) -> str:
        scorers = self._scorers.of(lease.job)
        rows = build_rows(
            lease.items,
            self._connection.batch_get_traces,
            needs_trace(scorers),
            self._datasets.expectations(lease.job),
        )
        self._datasets.merge(lease.job, rows.dataset_rows())
        writer = ResultWriter(self._sender(lease, rows, sent), lease.label)

        def done(outcome: RowOutcome) -> None:
            if not stopped(outcome) and lease.stop_reason not in (LOST, CANCELLED):
                writer.add(outcome)

        try:
            run_rows(
                rows.records,
                [ChunkScorer(s, lease, self._metrics) for s in scorers],
                rows.prediction,
                self._options.concurrency,
                _no_fetch,
                done,
                self._limits,
            )
        finally:
            writer.close()
        if lease.stop_reason == LOST or isinstance(writer.error, FailedPreconditionError):
            return self._lost(lease)
        usage = judge_usage(sent)  # reported however the lease ends: those rows are stored
        if lease.stop_reason == CANCELLED:
            return self._end(lease, GIVEN_BACK, usage=usage)
        if writer.error is not None:
            raise writer.error
        if len(sent) < len(rows.records):  # shutdown cut it short
            return self._end(lease, GIVEN_BACK, usage=usage)
        return self._end(lease, DONE, usage=usage)

    def _sender(
        self, lease: Lease, rows: ChunkRows, sent: list[RowOutcome]
    ) -> Callable[[list[RowOutcome]], int]:
        """Sends a batch with ``LogWorkResults`` under the chunk's lease."""
        kind = lease.kind

        def send(batch: list[RowOutcome]) -> int:
            if lease.stop_reason in (LOST, CANCELLED):
                return 0  # dropped: the lease is not ours to write with any more
            records = []
            for outcome in batch:
                message = record_message(outcome)
                message.row_index = rows.row_indexes[outcome.record.index]
                records.append(message)
            request = pb.LogWorkResultsRequest(
                lease_id=lease.lease_id, worker_id=lease.worker_id, records=records
            )
            try:
                response = self._patiently(self._connection.jobs, "LogWorkResults", request)
            except FailedPreconditionError:
                lease.stop(LOST)
                raise
            sent.extend(batch)
            self._metrics.rows_scored.labels(kind).inc(response.records_logged)
            for outcome in batch:
                for score in outcome.scores:
                    if score.error is not None:
                        self._metrics.score_errors.labels(score.name).inc()
            logged: int = response.records_logged + response.records_skipped
            return logged

        return send

    # -- ending a lease ----------------------------------------------------------------------

    def _end(
        self,
        lease: Lease,
        outcome: str,
        usage: dict[str, tuple[int, int]] | None = None,
        error: str = "",
    ) -> str:
        """Release the lease (done, or given back with or without an error), once."""
        if lease.stop_reason == LOST:
            return self._lost(lease)
        if not lease.end():
            return outcome
        request = pb.ReleaseLeaseRequest(
            lease_id=lease.lease_id,
            worker_id=lease.worker_id,
            done=outcome == DONE,
            error_message=error[:2000],
            judge_usage=[
                epb.ModelUsage(model=m, input_tokens=i, output_tokens=o)
                for m, (i, o) in sorted((usage or {}).items())
            ],
        )
        try:
            self._patiently(self._connection.jobs, "ReleaseLease", request)
        except FailedPreconditionError:
            return self._lost(lease, ended=True)
        except Exception as exc:  # the lease expires and the chunk goes round again
            logger.warning(
                "%s: releasing the lease failed (%s); it will expire in %.0f s",
                lease.label,
                exc,
                self._options.lease_seconds,
            )
        self._metrics.chunks.labels(outcome).inc()
        return outcome

    def _lost(self, lease: Lease, ended: bool = False) -> str:
        if lease.end() or ended:
            self._metrics.chunks.labels(LOST).inc()
        return LOST

    def _patiently(self, call: Callable[..., Any], *args: Any) -> Any:
        """``call(*args)``, retried while the collector is unreachable, for as long as the
        lease lasts."""
        return Retrying(
            retry=retry_if_exception_type(CollectorUnavailableError),
            wait=wait_exponential_jitter(multiplier=0.5, max=5.0),
            stop=stop_after_delay(self._options.lease_seconds),
            reraise=True,
        )(call, *args)


def _no_fetch(trace_ids: list[str]) -> dict[str, Any]:
    """The chunk's records already hold their traces (see :mod:`.chunk`)."""
    return {}
