"""OTLP/gRPC receivers: ``opentelemetry.proto.collector.trace.v1.TraceService/Export`` and
``opentelemetry.proto.collector.logs.v1.LogsService/Export``.

The handlers take the raw request bytes (no grpc-side deserializer) so that the shared
decoder can keep the valid spans (log records) of a request in which one is undecodable.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2

from spyglass import semconv
from spyglass.collector.ingest.pipeline import Body, IngestPipeline
from spyglass.error_codes import ErrorAnswer, Side, answer_for
from spyglass.errors import RetryableError

TRACE_SERVICE = "opentelemetry.proto.collector.trace.v1.TraceService"
LOGS_SERVICE = "opentelemetry.proto.collector.logs.v1.LogsService"


def trace_service(pipeline: IngestPipeline) -> grpc.GenericRpcHandler:
    """The generic handler serving TraceService/Export for ``pipeline``."""
    return _export_service(pipeline, TRACE_SERVICE, "traces", pipeline.export_traces)


def logs_service(pipeline: IngestPipeline) -> grpc.GenericRpcHandler:
    """The generic handler serving LogsService/Export for ``pipeline``."""
    return _export_service(pipeline, LOGS_SERVICE, "logs", pipeline.export_logs)


def _export_service(
    pipeline: IngestPipeline,
    service: str,
    signal: str,
    export_body: Callable[[Body, str], Awaitable[Any]],
) -> grpc.GenericRpcHandler:
    async def export(request: bytes, context: grpc.aio.ServicerContext) -> Any:
        metadata = dict(context.invocation_metadata() or ())
        experiment = metadata.get(semconv.EXPERIMENT_HEADER)
        # grpc hands over text for every key without the "-bin" suffix
        body = Body(request, experiment=experiment if isinstance(experiment, str) else None)
        try:
            response = await export_body(body, "grpc")
        except Exception as exc:  # answered by the error table; unexpected ones re-raised
            answer = answer_for(exc, Side.OTLP)
            outcome = answer.outcome if answer is not None and answer.outcome else "error"
            pipeline.metrics.requests.labels("grpc", signal, outcome).inc()
            if answer is None:
                raise
            await _abort(context, exc, answer)
        pipeline.metrics.requests.labels("grpc", signal, "ok").inc()
        return response

    handler: grpc.RpcMethodHandler[bytes, Any] = grpc.unary_unary_rpc_method_handler(
        export, request_deserializer=None, response_serializer=lambda m: m.SerializeToString()
    )
    return grpc.method_handlers_generic_handler(service, {"Export": handler})


async def _abort(context: grpc.aio.ServicerContext, exc: Exception, answer: ErrorAnswer) -> None:
    metadata: tuple[tuple[str, bytes], ...] = ()
    if isinstance(exc, RetryableError):
        metadata = retry_metadata(exc.retry_after, str(exc))
    await context.abort(answer.code, str(exc), trailing_metadata=metadata)


def retry_metadata(delay_s: float, message: str) -> tuple[tuple[str, bytes], ...]:
    """Trailing metadata telling OTLP exporters when to retry.

    Python's exporter reads ``google.rpc.retryinfo-bin``; the Go/Java exporters read the
    RetryInfo detail of ``grpc-status-details-bin``. Both are sent.
    """
    seconds = int(delay_s)
    info = error_details_pb2.RetryInfo(
        retry_delay=duration_pb2.Duration(seconds=seconds, nanos=int((delay_s - seconds) * 1e9))
    )
    detail = any_pb2.Any()
    detail.Pack(info)
    status = status_pb2.Status(code=code_pb2.UNAVAILABLE, message=message, details=[detail])
    return (
        ("google.rpc.retryinfo-bin", info.SerializeToString()),
        ("grpc-status-details-bin", status.SerializeToString()),
    )
