"""The evaluator service's Prometheus metrics, on a registry of its own.

A registry per worker (not the process-global one) lets tests run several workers in one
process without their counters colliding. The names are part of the documented interface
(dashboards and alerts use them):

- ``spyglass_evaluator_chunks_total{outcome}``: chunks ended, by outcome — ``done``
  (released finished), ``given_back`` (clean give-back: shutdown or a cancelled job),
  ``lost`` (the lease went to another worker), ``failed`` (given back with an error);
- ``spyglass_evaluator_rows_scored_total{kind}``: rows stored, for jobs and for monitors;
- ``spyglass_evaluator_score_errors_total{scorer}``: stored scores that are errors;
- ``spyglass_evaluator_judge_latency_seconds``: how long each LLM-judge scorer call took;
- ``spyglass_evaluator_leases_held``: chunks this worker holds now;
- ``spyglass_evaluator_overrunning_scorer_calls``: scorer calls running past their time
  limit (their rows got a timeout error; each still holds a thread until it returns);
- ``spyglass_evaluator_live_workers``: live workers as the last heartbeat answered;
- ``spyglass_evaluator_collector_errors_total{method}``: failed calls to the collector.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from spyglass.evaluator.deadlines import overrunning_calls

__all__ = ["CONTENT_TYPE_LATEST", "WorkerMetrics"]

CHUNK_OUTCOMES = ("done", "given_back", "lost", "failed")
JUDGE_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120)


class WorkerMetrics:
    """The metric objects of one worker (module docstring)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.chunks = Counter(
            "spyglass_evaluator_chunks",
            "Chunks ended, by outcome (done, given_back, lost, failed)",
            ["outcome"],
            registry=r,
        )
        self.rows_scored = Counter(
            "spyglass_evaluator_rows_scored",
            "Rows scored and stored, for jobs and monitors",
            ["kind"],
            registry=r,
        )
        self.score_errors = Counter(
            "spyglass_evaluator_score_errors",
            "Stored scores that are errors, by score name",
            ["scorer"],
            registry=r,
        )
        self.judge_latency = Histogram(
            "spyglass_evaluator_judge_latency_seconds",
            "Duration of LLM-judge scorer calls (one row, retries included)",
            buckets=JUDGE_BUCKETS,
            registry=r,
        )
        self.leases_held = Gauge(
            "spyglass_evaluator_leases_held", "Chunks this worker holds a lease on", registry=r
        )
        self.overrunning_scorer_calls = Gauge(
            "spyglass_evaluator_overrunning_scorer_calls",
            "Scorer calls running past their "
            "time limit (abandoned: each holds a thread until it returns)",
            registry=r,
        )
        self.overrunning_scorer_calls.set_function(overrunning_calls)
        self.live_workers = Gauge(
            "spyglass_evaluator_live_workers",
            "Live workers, as the last heartbeat answered",
            registry=r,
        )
        self.collector_errors = Counter(
            "spyglass_evaluator_collector_errors",
            "Calls to the collector that failed, by method",
            ["method"],
            registry=r,
        )
        for outcome in CHUNK_OUTCOMES:  # every outcome shows, at 0, from the start
            self.chunks.labels(outcome)
        for kind in ("job", "monitor"):
            self.rows_scored.labels(kind)

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)
