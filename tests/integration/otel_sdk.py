"""The OTel SDK (traces and logs) exporting to a real collector with the official exporters.

Tests choose when each signal travels: nothing is exported until :meth:`OtelSdk.flush_spans`
or :meth:`OtelSdk.flush_logs` (the batch processors' schedule delay is far longer than any
test), so "log records before their span" and the reverse are both reproducible. Every
export must succeed, and the collector acknowledges only after COMMIT, so rows can be read
as soon as a flush returns.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from opentelemetry.exporter.otlp.proto.grpc._log_exporter import (
    OTLPLogExporter as GrpcLogExporter,
)
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcSpanExporter,
)
from opentelemetry.exporter.otlp.proto.http._log_exporter import (
    OTLPLogExporter as HttpLogExporter,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpSpanExporter,
)
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from spyglass.collector.server import Collector

EXPORT_TIMEOUT_S = 10
NEVER_MS = 600_000


class RecordingExporter:
    """Wraps a span or log exporter and keeps each export's result, so that a failed export
    fails the test."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.results: list[Any] = []

    def export(self, batch: Sequence[Any]) -> Any:
        result = self.inner.export(batch)
        self.results.append(result)
        return result

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.inner.force_flush(timeout_millis)

    def check(self) -> None:
        assert self.results, "nothing was exported"
        assert all(r.name == "SUCCESS" for r in self.results), self.results


class OtelSdk:
    """A TracerProvider and a LoggerProvider sending to one collector over ``protocol``."""

    def __init__(
        self, collector: Collector, protocol: str, resource: Mapping[str, Any] | None = None
    ) -> None:
        res = Resource.create(dict(resource or {"service.name": "spyglass-tests"}))
        self._spans = RecordingExporter(_exporter(collector, protocol, "traces"))
        self._logs = RecordingExporter(_exporter(collector, protocol, "logs"))
        self.tracer_provider = TracerProvider(resource=res)
        self.tracer_provider.add_span_processor(
            BatchSpanProcessor(self._spans, schedule_delay_millis=NEVER_MS)
        )
        self.logger_provider = LoggerProvider(resource=res)
        self.logger_provider.add_log_record_processor(
            BatchLogRecordProcessor(self._logs, schedule_delay_millis=NEVER_MS)
        )
        self.tracer = self.tracer_provider.get_tracer("spyglass-tests")
        self.logger = self.logger_provider.get_logger("spyglass-tests")

    def flush_spans(self) -> None:
        assert self.tracer_provider.force_flush(EXPORT_TIMEOUT_S * 1000), "span flush timed out"
        self._spans.check()

    def flush_logs(self) -> None:
        assert self.logger_provider.force_flush(EXPORT_TIMEOUT_S * 1000), "log flush timed out"
        self._logs.check()

    def shutdown(self) -> None:
        self.tracer_provider.shutdown()
        self.logger_provider.shutdown()


@contextlib.contextmanager
def otel_sdk(
    collector: Collector, protocol: str, resource: Mapping[str, Any] | None = None
) -> Iterator[OtelSdk]:
    sdk = OtelSdk(collector, protocol, resource)
    try:
        yield sdk
    finally:
        sdk.shutdown()


_EXPORTERS = {
    ("grpc", "traces"): GrpcSpanExporter,
    ("grpc", "logs"): GrpcLogExporter,
    ("http", "traces"): HttpSpanExporter,
    ("http", "logs"): HttpLogExporter,
}


def _exporter(collector: Collector, protocol: str, signal: str) -> Any:
    """The official exporter of ``signal`` ("traces" or "logs") over ``protocol``."""
    exporter = _EXPORTERS[(protocol, signal)]
    if protocol == "grpc":
        return exporter(
            endpoint=f"127.0.0.1:{collector.grpc_port}", insecure=True, timeout=EXPORT_TIMEOUT_S
        )
    return exporter(
        endpoint=f"http://127.0.0.1:{collector.http_port}/v1/{signal}", timeout=EXPORT_TIMEOUT_S
    )
