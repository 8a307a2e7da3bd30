"""OTLP/HTTP receiver (``POST /v1/traces``, ``POST /v1/logs``) and the collector's HTTP
endpoints.

Bodies may be protobuf or JSON, gzip- or deflate-compressed; the answer uses the request's
encoding. Errors carry a ``google.rpc.Status`` body, as the OTLP/HTTP spec asks.
``/healthz`` (alive) and ``/readyz`` (can take traffic) are open; everything else needs an
API key when keys are configured.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any

from google.rpc import code_pb2
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp

from spyglass import semconv
from spyglass.collector.auth import ApiKeys
from spyglass.collector.ingest.answers import encode_response, encode_status
from spyglass.collector.ingest.bodies import decompress
from spyglass.collector.ingest.pipeline import Body, InflightBudget, IngestPipeline, Reservation
from spyglass.collector.metrics import CONTENT_TYPE_LATEST, CollectorMetrics
from spyglass.error_codes import Side, answer_for
from spyglass.errors import PayloadTooLargeError, RetryableError, UnsupportedMediaTypeError

log = logging.getLogger(__name__)

PROTOBUF_TYPES = ("application/x-protobuf", "application/protobuf")
JSON_TYPE = "application/json"

Export = Callable[[Body, str, Reservation], Awaitable[Any]]


def create_app(
    pipeline: IngestPipeline,
    keys: ApiKeys,
    max_request_bytes: int,
    ready: Callable[[], Awaitable[str | None]],
    alive: Callable[[], str | None] = lambda: None,
    rest: ASGIApp | None = None,
) -> Starlette:
    """The ASGI app; ``ready`` returns None when the collector can take traffic, else why
    not; ``alive`` None while it can store anything at all, else why not (restart it).
    ``rest`` (the JSON API and web UI) answers every other path."""
    metrics = pipeline.metrics
    inflight = pipeline.inflight
    traces = _export_endpoint(
        pipeline.export_traces, "traces", keys, max_request_bytes, inflight, metrics
    )
    logs = _export_endpoint(
        pipeline.export_logs, "logs", keys, max_request_bytes, inflight, metrics
    )

    async def healthz(_request: Request) -> Response:
        why = alive()
        if why is None:
            return Response("ok\n", media_type="text/plain")
        return Response(f"not alive: {why}\n", status_code=503, media_type="text/plain")

    async def readyz(_request: Request) -> Response:
        why = await ready()
        if why is None:
            return Response("ready\n", media_type="text/plain")
        return Response(f"not ready: {why}\n", status_code=503, media_type="text/plain")

    async def metrics_endpoint(request: Request) -> Response:
        problem = keys.problem(request.headers.get("authorization"))
        if problem:
            return Response(problem + "\n", status_code=401, media_type="text/plain")
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return Starlette(
        routes=[
            Route("/v1/traces", traces, methods=["POST"]),
            Route("/v1/logs", logs, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
            *([Mount("/", app=rest)] if rest is not None else []),
        ]
    )


def _export_endpoint(
    export: Export,
    signal: str,
    keys: ApiKeys,
    max_request_bytes: int,
    inflight: InflightBudget,
    metrics: CollectorMetrics,
) -> Callable[[Request], Awaitable[Response]]:
    """The handler of ``POST /v1/<signal>``: auth, content type, body, export, answer.

    Nothing of the body is read before the key and content type are checked, and the body
    counts against the in-flight budget from its first byte (from its Content-Length when
    it declares one). A refusal sent before the whole body was read closes the connection,
    so the sender cannot keep streaming the rest.
    """

    async def endpoint(request: Request) -> Response:
        is_json = _content_type(request) == JSON_TYPE
        body_read = False
        try:
            problem = keys.problem(request.headers.get("authorization"))
            if problem:
                metrics.requests.labels("http", signal, "unauthenticated").inc()
                return _closing(_status(401, code_pb2.UNAUTHENTICATED, problem, is_json))
            is_json = _is_json(request)
            with inflight.reservation() as reservation:
                data = await _read_body(request, max_request_bytes, reservation)
                body_read = True
                body = Body(
                    data, json=is_json, experiment=request.headers.get(semconv.EXPERIMENT_HEADER)
                )
                response = await export(body, "http", reservation)
        except ClientDisconnect:
            # the sender went away (or its read timeout closed the connection): nobody to
            # answer, and nothing went wrong on this side
            metrics.requests.labels("http", signal, "disconnected").inc()
            log.debug(
                "OTLP/HTTP sender of %s disconnected before its body was complete", request.url.path
            )
            return Response(status_code=400)
        except Exception as exc:
            answer = _error_response(exc, is_json, metrics, signal)
            return answer if body_read else _closing(answer)
        metrics.requests.labels("http", signal, "ok").inc()
        payload = encode_response(response, json=is_json)
        return Response(payload, media_type=JSON_TYPE if is_json else PROTOBUF_TYPES[0])

    return endpoint


def _content_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _is_json(request: Request) -> bool:
    content_type = _content_type(request)
    if content_type == JSON_TYPE:
        return True
    if content_type in PROTOBUF_TYPES:
        return False
    raise UnsupportedMediaTypeError(
        f"Content-Type {content_type or '(none)'!r} is not OTLP; send "
        "application/x-protobuf or application/json"
    )


async def _read_body(request: Request, limit: int, reservation: Reservation) -> bytes:
    """The decompressed body; its bytes are reserved before they are kept (all of a
    declared Content-Length at once, else chunk by chunk), so an over-budget body is
    refused (:class:`OverloadedError`) without being read."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit():
        if int(declared) > limit:
            raise PayloadTooLargeError(_too_large(limit))
        reservation.grow_to(int(declared))
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeError(_too_large(limit))
        reservation.grow_to(size)
        chunks.append(chunk)
    return decompress(b"".join(chunks), request.headers.get("content-encoding"), limit)


def _closing(response: Response) -> Response:
    """``response`` with ``Connection: close``: the rest of an unread body is not wanted."""
    response.headers["Connection"] = "close"
    return response


def _too_large(limit: int) -> str:
    return (
        f"request body is larger than {limit} bytes; split the batch (e.g. lower "
        "OTEL_BSP_MAX_EXPORT_BATCH_SIZE) or raise the collector's --max-request-bytes"
    )


def _error_response(
    exc: Exception, is_json: bool, metrics: CollectorMetrics, signal: str
) -> Response:
    answer = answer_for(exc, Side.OTLP)
    if answer is None or answer.http_status is None or answer.outcome is None:
        raise exc
    metrics.requests.labels("http", signal, answer.outcome).inc()
    response = _status(answer.http_status, answer.rpc_code, str(exc), is_json)
    if isinstance(exc, RetryableError):
        # whole seconds, rounded up: never tell a sender to come back sooner than configured
        response.headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
    return response


def _status(http: int, code: int, message: str, is_json: bool) -> Response:
    return Response(
        encode_status(code, message, json=is_json),
        status_code=http,
        media_type=JSON_TYPE if is_json else PROTOBUF_TYPES[0],
    )
