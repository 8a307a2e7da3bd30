"""The collector's Prometheus metrics, on a registry of its own.

A registry per collector (not the process-global one) lets tests and the embedded mode run
several collectors in one process without their counters colliding.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "CollectorMetrics"]


class CollectorMetrics:
    """Counters for what came in, what was stored or refused, and how the writer keeps up."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.spans_received = Counter(
            "spyglass_spans_received", "Spans decoded from OTLP requests", ["protocol"], registry=r
        )
        self.spans_stored = Counter(
            "spyglass_spans_stored",
            "Spans committed to the store (new, not re-deliveries)",
            registry=r,
        )
        self.spans_rejected = Counter(
            "spyglass_spans_rejected",
            "Spans refused one by one (bad ids, undecodable)",
            ["protocol"],
            registry=r,
        )
        self.requests = Counter(
            "spyglass_requests",
            "Export requests by protocol, signal and outcome",
            ["protocol", "signal", "outcome"],
            registry=r,
        )
        self.queue_depth = Gauge(
            "spyglass_write_queue_spans", "Spans waiting in the write queue", registry=r
        )
        self.commit_latency = Histogram(
            "spyglass_commit_seconds",
            "Time to write and commit one group of requests",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=r,
        )
        self.commit_spans = Histogram(
            "spyglass_commit_spans",
            "Spans per committed group",
            buckets=(1, 10, 50, 100, 500, 1000, 2500, 5000, 10000, 25000),
            registry=r,
        )
        self.store_errors = Counter(
            "spyglass_store_errors", "Failed write transactions by kind", ["kind"], registry=r
        )
        self.log_records_received = Counter(
            "spyglass_log_records_received",
            "Log records decoded from OTLP requests",
            ["protocol"],
            registry=r,
        )
        self.log_records_rejected = Counter(
            "spyglass_log_records_rejected",
            "Log records not stored: no span context, or bad ids / undecodable",
            ["protocol", "reason"],
            registry=r,
        )
        self.log_records_attached = Counter(
            "spyglass_log_records_attached",
            "Log records applied to their span: on arrival (span_stored) or when the span "
            "came later (span_arrived)",
            ["when"],
            registry=r,
        )
        self.log_records_pending = Counter(
            "spyglass_log_records_pending",
            "Log records stored to wait for their span (not stored yet when they came)",
            registry=r,
        )

        self.cost_unknown_model = Counter(
            "spyglass_cost_unknown_model",
            "LLM spans stored without a cost because no price is known for their model "
            "(the collector logs each such model once; --price-file adds prices)",
            registry=r,
        )

    def render(self) -> bytes:
        """The registry in the Prometheus text exposition format."""
        return generate_latest(self.registry)
