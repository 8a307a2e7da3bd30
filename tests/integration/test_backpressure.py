"""A full write queue refuses new requests at once with "retry later", and loses nothing.

A collector with a 10-span queue writes to a SQLite file whose write lock another connection
holds (``BEGIN EXCLUSIVE``), so its writer stalls inside the busy timeout while requests pile
up. Once the queue is full, further requests are refused immediately: gRPC UNAVAILABLE whose
``google.rpc.retryinfo-bin`` and ``grpc-status-details-bin`` trailers both carry the
configured RetryInfo delay, HTTP 503 with Retry-After. When the lock is released, every
accepted request is acknowledged and stored, and nothing of the refused ones is. The
official OTLP gRPC exporter, refused the same way, retries after the delay and gets its
spans in.
"""

from __future__ import annotations

import contextlib
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from otlp_builders import make_request, make_span, new_trace_id
from processes import (
    GrpcSender,
    assert_retryable,
    sender_for,
    span_keys,
    store_engine,
    stored_span_keys,
    wait_until,
)

from spyglass.collector.server import Collector

QUEUE_SPANS = 10
RETRY_AFTER_S = 1.5
REFUSED_WITHIN_S = 1.0  # "at once": no waiting for the stalled writer
SPANS_PER_REQUEST = 5


def five_span_request() -> ExportTraceServiceRequest:
    trace_id = new_trace_id()
    root = make_span("root", trace_id)
    return make_request(
        [root]
        + [make_span(f"child{i}", trace_id, parent=root) for i in range(SPANS_PER_REQUEST - 1)]
    )


def writer_is_writing(collector: Collector) -> bool:
    """True while the writer thread is inside a write (here: waiting for the lock)."""
    frame = sys._current_frames().get(collector.writer._thread.ident)
    while frame is not None:
        if frame.f_code.co_name == "_write_with_retries":
            return True
        frame = frame.f_back
    return False


def retry_refusals(collector: Collector) -> float:
    labels = {"protocol": "grpc", "signal": "traces", "outcome": "retry"}
    return collector.metrics.registry.get_sample_value("spyglass_requests_total", labels) or 0


@contextlib.contextmanager
def sqlite_write_lock(path: Path) -> Iterator[None]:
    """Hold the database's write lock from another connection until the block ends."""
    connection = sqlite3.connect(path, isolation_level=None, timeout=5)
    try:
        connection.execute("BEGIN EXCLUSIVE")
        yield
        connection.execute("COMMIT")
    finally:
        connection.close()


@contextlib.contextmanager
def jammed(collector: Collector, db_path: Path) -> Iterator[list[Any]]:
    """Stall the writer and fill the queue; yields the accepted (still unanswered) requests.

    On exit the lock is released and every accepted request must come back OK."""
    pending: list[tuple[Any, Future]] = []
    with GrpcSender(f"127.0.0.1:{collector.grpc_port}") as sender, ThreadPoolExecutor(4) as pool:

        def submit() -> None:
            request = five_span_request()
            pending.append((request, pool.submit(sender.send, request, None, 30.0)))

        with sqlite_write_lock(db_path):
            submit()  # taken by the writer, which then waits for the lock
            wait_until(lambda: writer_is_writing(collector), 10, "the writer to take it")
            assert collector.writer.queued_spans == 0
            for _ in range(QUEUE_SPANS // SPANS_PER_REQUEST):
                submit()
            wait_until(lambda: collector.writer.queued_spans == QUEUE_SPANS, 10, "a full queue")
            assert not any(future.done() for _, future in pending), "acked while stalled"
            yield [request for request, _ in pending]
        for _, future in pending:
            outcome = future.result(timeout=30)
            assert outcome.ok, outcome


def test_full_queue_refuses_immediately_and_keeps_what_it_accepted(
    start_collector: Callable[..., Collector], tmp_path: Path
) -> None:
    db_path = tmp_path / "spyglass.db"
    collector = start_collector(
        f"sqlite:///{db_path}",
        queue_max_spans=QUEUE_SPANS,
        batch_max_spans=QUEUE_SPANS,
        retry_after=RETRY_AFTER_S,
    )
    refused_requests = []
    with jammed(collector, db_path) as accepted:
        for protocol in ("grpc", "http"):
            request = five_span_request()
            refused_requests.append(request)
            with sender_for(protocol, collector.grpc_port, collector.http_port) as sender:
                outcome = sender.send(request)
            assert_retryable(outcome, RETRY_AFTER_S)
            assert outcome.seconds < REFUSED_WITHIN_S, outcome

    expected = set().union(*map(span_keys, accepted))
    with store_engine(f"sqlite:///{db_path}") as engine:
        stored = stored_span_keys(engine)
    assert len(accepted) == 3 and sorted(stored) == sorted(expected)
    assert not set().union(*map(span_keys, refused_requests)) & set(stored)


def test_otlp_exporter_retries_after_unavailable(
    start_collector: Callable[..., Collector], tmp_path: Path
) -> None:
    db_path = tmp_path / "spyglass.db"
    collector = start_collector(
        f"sqlite:///{db_path}",
        queue_max_spans=QUEUE_SPANS,
        batch_max_spans=QUEUE_SPANS,
        retry_after=0.5,
    )
    finished = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "retrying-app"}))
    provider.add_span_processor(SimpleSpanProcessor(finished))
    with (
        provider.get_tracer("test").start_as_current_span("root"),
        provider.get_tracer("test").start_as_current_span("child"),
    ):
        pass
    spans = finished.get_finished_spans()
    exporter = OTLPSpanExporter(
        endpoint=f"127.0.0.1:{collector.grpc_port}", insecure=True, timeout=20
    )
    with ThreadPoolExecutor(1) as pool:
        with jammed(collector, db_path):
            started = time.monotonic()
            result = pool.submit(exporter.export, spans)
            wait_until(lambda: retry_refusals(collector) >= 1, 10, "the exporter to be refused")
        assert result.result(timeout=30) == SpanExportResult.SUCCESS
    assert time.monotonic() - started < 15
    exporter.shutdown()

    with store_engine(f"sqlite:///{db_path}") as engine:
        stored = stored_span_keys(engine, [format(spans[0].context.trace_id, "032x")])
    assert sorted(span_id for _, span_id in stored) == sorted(
        format(s.context.span_id, "016x") for s in spans
    )
