"""A job's scorers as the worker runs them on one chunk.

The references of a job are resolved once per job (:func:`refs.resolve_all`; a reference
this worker cannot load becomes an error for that scorer on every row, never a stuck job)
and each scorer is wrapped for the chunk by :class:`ChunkScorer`, which

- times LLM-judge calls (``spyglass_evaluator_judge_latency_seconds``) and sends their
  traces to ``"<job's experiment> (judge calls)"``;
- stops at once, with a ``Stopped`` result, when the chunk's lease is stopped (lost,
  cancelled, shutting down): rows not started by then are dropped, not sent, and the next
  worker scores them;
- says it needs no trace, because the chunk's records already hold their traces
  (:mod:`.chunk` fetched them), so the rows run in one pass;
- carries the scorer's own ``time_limit`` and kind, so the row runner bounds each call by it
  or by the worker's ``--code-scorer-time-limit`` / ``--judge-time-limit``
  (:func:`time_limits`), and counts the overrunning calls of the scorer itself (``wrapped``)
  across chunks.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

from spyglass.evaluator.deadlines import TimeLimits
from spyglass.evaluator.execution import RowOutcome
from spyglass.evaluator.jobs import refs
from spyglass.evaluator.scorers import Scorer
from spyglass.evaluator.scorers.judges.tracing import scoring_experiment
from spyglass.evaluator.scorers.results import ScoreResult
from spyglass.evaluator.worker.lease import Lease
from spyglass.evaluator.worker.metrics import WorkerMetrics
from spyglass.v1 import jobs_pb2 as pb

STOPPED = "Stopped"
LOAD_FAILED = "ScorerLoadError"
JUDGE_SOURCE = "LLM_JUDGE"
JOBS_CACHED = 16


class JobScorers:
    """The resolved scorers of the latest jobs, by job id (thread-safe)."""

    def __init__(self, registry: Mapping[str, Scorer]) -> None:
        self._registry = registry
        self._lock = threading.Lock()
        self._jobs: OrderedDict[str, list[Scorer | refs.UnresolvedScorer]] = OrderedDict()

    def of(self, job: pb.EvaluationJob) -> list[Scorer | refs.UnresolvedScorer]:
        with self._lock:
            found = self._jobs.get(job.job_id)
            if found is None:
                found = self._jobs[job.job_id] = refs.resolve_all(list(job.scorers), self._registry)
                while len(self._jobs) > JOBS_CACHED:
                    self._jobs.popitem(last=False)
            self._jobs.move_to_end(job.job_id)
            return found


def time_limits(code: float, judge: float) -> TimeLimits:
    """The worker's time limits of scorers that set none, with hints in the service's terms."""
    params = '"time_limit" in the job\'s scorer params'
    return TimeLimits(
        code=code,
        judge=judge,
        code_hint=f"give it more time with {params} or the evaluator's --code-scorer-time-limit",
        judge_hint=f"give it more time with {params} or the evaluator's --judge-time-limit",
        own_hint=f"give it more time with a larger time_limit (in the scorer's code or as "
        f"{params})",
    )


def needs_trace(scorers: Sequence[Scorer | refs.UnresolvedScorer]) -> bool:
    """True when a (loaded) scorer reads the row's trace."""
    return any(isinstance(s, Scorer) and s.needs_trace for s in scorers)


class ChunkScorer:
    """One scorer of a job, run on one chunk (module docstring). Quacks like a Scorer as far
    as :mod:`spyglass.evaluator.execution` asks."""

    needs_trace = False
    aggregations = None

    def __init__(
        self, scorer: Scorer | refs.UnresolvedScorer, lease: Lease, metrics: WorkerMetrics
    ) -> None:
        self._scorer = scorer
        self._lease = lease
        self._metrics = metrics
        self.name = scorer.name
        self.wrapped = scorer
        self.time_limit: float | None = getattr(scorer, "time_limit", None)
        self.calls_model: bool = getattr(scorer, "calls_model", False)
        if isinstance(scorer, refs.UnresolvedScorer):
            self.source_type, self.source_id = "CODE", scorer.type
        else:
            self.source_type, self.source_id = scorer.source_type, scorer.source_id

    def run(self, **row: Any) -> list[ScoreResult]:
        """The wrapped scorer's results for one row (``row`` as :meth:`Scorer.run` takes it,
        ``time_limit`` included)."""
        if self._lease.stop_reason is not None:
            return [
                self._error(f"not scored: the chunk stopped ({self._lease.stop_reason})", STOPPED)
            ]
        if isinstance(self._scorer, refs.UnresolvedScorer):
            return [self._error(self._scorer.error, LOAD_FAILED)]
        if self.source_type != JUDGE_SOURCE:
            return self._scorer.run(**row)
        started = time.perf_counter()
        try:
            with scoring_experiment(self._lease.job.experiment_id or None):
                return self._scorer.run(**row)
        finally:
            self._metrics.judge_latency.observe(time.perf_counter() - started)

    def _error(self, message: str, error_type: str) -> ScoreResult:
        return ScoreResult(
            name=self.name,
            error=message,
            error_type=error_type,
            source_type=self.source_type,
            source_id=self.source_id,
        )


def stopped(outcome: RowOutcome) -> bool:
    """True for a row the chunk's stop cut short (it is dropped, not sent)."""
    return any(r.error_type == STOPPED for r in outcome.scores)
