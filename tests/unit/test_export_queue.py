"""The export queue under trouble: full queue, failing and hanging exporters, exit.

Exporters here are small fakes (one piece under test), except the last test, which uses
the official OTLP gRPC exporter against a port nobody listens on.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator, Sequence

import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from spyglass.instrumentation import export_queue
from spyglass.instrumentation.export_queue import ExportQueue

WARNING_TEXT = "Spyglass could not export spans"


class FakeExporter(SpanExporter):
    """Answers with ``result``; optionally blocks each export until ``release`` is set."""

    def __init__(
        self, result: SpanExportResult = SpanExportResult.SUCCESS, block: bool = False
    ) -> None:
        self.result = result
        self.release = threading.Event()
        if not block:
            self.release.set()
        self.batches: list[int] = []
        self.shut_down = False

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.release.wait(30)
        self.batches.append(len(spans))
        return SpanExportResult.FAILURE if self.shut_down else self.result

    def shutdown(self) -> None:
        self.shut_down = True
        self.release.set()


@pytest.fixture
def make_queue() -> Iterator:
    queues: list[ExportQueue] = []

    def make(exporter: SpanExporter, **options) -> tuple[ExportQueue, object]:
        options.setdefault("schedule_delay_s", 0.05)
        queue = ExportQueue(exporter, "fake target", options.pop("max_queue_size", 1000), **options)
        provider = TracerProvider(shutdown_on_exit=False)
        provider.add_span_processor(queue)
        queues.append(queue)
        return queue, provider.get_tracer("test")

    yield make
    for queue in queues:
        queue.shutdown()


def make_spans(tracer, count: int) -> None:
    for i in range(count):
        tracer.start_span(f"s{i}").end()


def warnings_in(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_spans_are_exported_in_batches_and_flush_waits(make_queue) -> None:
    exporter = FakeExporter()
    queue, tracer = make_queue(exporter, max_batch_size=10, schedule_delay_s=30)
    make_spans(tracer, 25)
    assert queue.flush(5) is True
    assert sum(exporter.batches) == 25 and max(exporter.batches) == 10
    stats = queue.stats()
    assert (stats.exported, stats.dropped, stats.queued) == (25, 0, 0)


def test_full_queue_drops_and_counts_with_one_warning(
    make_queue, caplog: pytest.LogCaptureFixture
) -> None:
    exporter = FakeExporter(block=True)
    queue, tracer = make_queue(exporter, max_queue_size=20, max_batch_size=5)
    with caplog.at_level(logging.WARNING):
        make_spans(tracer, 5)
        time.sleep(0.3)  # the worker takes the first batch and blocks in export
        make_spans(tracer, 50)
        assert queue.stats().dropped_queue_full == 30
        exporter.release.set()
        assert queue.flush(5)
    stats = queue.stats()
    assert stats.exported == 25 and stats.dropped_queue_full == 30
    (warning,) = warnings_in(caplog)
    assert WARNING_TEXT in warning and "export queue is full" in warning
    assert "SPYGLASS_EXPORT_QUEUE_SIZE" in warning


def test_failed_exports_pause_exporting_and_warn_once(
    make_queue, caplog: pytest.LogCaptureFixture
) -> None:
    exporter = FakeExporter(SpanExportResult.FAILURE)
    queue, tracer = make_queue(exporter, max_batch_size=10)
    with caplog.at_level(logging.WARNING):
        for _ in range(5):
            make_spans(tracer, 10)
            assert queue.flush(5)
    assert exporter.batches == [10]  # one try, then paused: the rest dropped untried
    stats = queue.stats()
    assert stats.dropped_export_failed == 50 and stats.exported == 0
    (warning,) = warnings_in(caplog)
    assert "fake target" in warning and "exporting 10 spans failed" in warning


def test_exporting_resumes_after_the_pause(make_queue, monkeypatch) -> None:
    monkeypatch.setattr(export_queue, "FIRST_PAUSE_S", 0.2)
    exporter = FakeExporter(SpanExportResult.FAILURE)
    queue, tracer = make_queue(exporter)
    make_spans(tracer, 3)
    assert queue.flush(5)
    exporter.result = SpanExportResult.SUCCESS
    time.sleep(0.3)
    make_spans(tracer, 4)
    assert queue.flush(5)
    assert (queue.stats().exported, queue.stats().dropped_export_failed) == (4, 3)


def test_flush_honours_its_timeout(make_queue) -> None:
    exporter = FakeExporter(block=True)
    queue, tracer = make_queue(exporter)
    make_spans(tracer, 3)
    start = time.monotonic()
    assert queue.flush(0.3) is False
    assert time.monotonic() - start < 1.0
    exporter.release.set()
    assert queue.flush(5) is True


def test_shutdown_gives_up_on_a_hanging_export(
    make_queue, caplog: pytest.LogCaptureFixture
) -> None:
    exporter = FakeExporter(block=True)
    queue, tracer = make_queue(exporter, stall_timeout_s=0.5)
    make_spans(tracer, 7)
    with caplog.at_level(logging.WARNING):
        start = time.monotonic()
        queue.shutdown()
        elapsed = time.monotonic() - start
    assert elapsed < 2.0
    assert exporter.shut_down  # cancelled the export in progress
    make_spans(tracer, 2)  # after shutdown: dropped and counted, not queued
    time.sleep(0.1)  # the cancelled export returns
    stats = queue.stats()
    assert stats.dropped_after_shutdown == 2 and stats.exported == 0
    assert stats.dropped_export_failed == 7
    (warning,) = warnings_in(caplog)
    assert "within 0.5 s of exit" in warning or "exporting 7 spans failed" in warning


def test_official_otlp_exporter_to_a_dead_port_logs_only_our_warning(
    make_queue, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exporter = OTLPSpanExporter(endpoint=f"127.0.0.1:{port}", insecure=True, timeout=2)
    queue, tracer = make_queue(exporter, max_batch_size=4)
    with caplog.at_level(logging.DEBUG):
        for _ in range(3):
            make_spans(tracer, 8)
            queue.flush(10)
    warnings = warnings_in(caplog)
    assert len(warnings) == 1, warnings
    assert "fake target" in warnings[0]
    assert "UNAVAILABLE" in warnings[0]  # the exporter's own message, quoted once
    assert not [r for r in caplog.records if r.name.startswith("opentelemetry.exporter")]
    assert queue.stats().dropped_export_failed == 24
