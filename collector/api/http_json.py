"""The spyglass.v1 services as JSON over HTTP: ``POST /api/v1/<Service>/<Method>``.

Each method of the gRPC API is one URL on the collector's HTTP port; the body is the request
message in protobuf's canonical JSON mapping (field names in lowerCamelCase or as in the
.proto, 64-bit integers as strings, enums by name), and so is the answer. The calls run the
very servicers the gRPC port serves (``api/local_calls.py``), so both ports answer alike.

* A unary method answers one JSON object.
* A server-streaming method (``TraceService/SearchTraces``) answers a JSON array of its
  messages, written as they come.
* A client-streaming method (``DatasetService/MergeRecords``) takes a JSON array of request
  messages (or one object).
* An error answers ``{"code": "invalid_argument", "message": ..., "error": ...}`` with the
  HTTP status of its code (400, 401, 404, 409, 429, 503, 504, ...); ``error`` names the
  Spyglass error class when there is one.

Unary calls are also calls of the Connect protocol (JSON, unary): a Connect client given
``http://host:4318/api/v1`` as its base URL posts to ``/api/v1/spyglass.v1.<Service>/<Method>``,
which this route accepts, and reads the same answers and error bodies. Streaming calls use
the plain JSON arrays above, not Connect's enveloped stream format.

Every call needs an accepted API key (``Authorization: Bearer <key>``) when the collector
has keys, or the signed-in session of a browser (the UI's own calls); ``authorize`` says
which.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from google.protobuf import json_format
from google.protobuf.message import Message
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from spyglass.collector.api.errors import status_for
from spyglass.collector.api.local_calls import ApiCallError, LocalApi, Method, find_method
from spyglass.errors import NotFoundError, SpyglassError

log = logging.getLogger("spyglass.collector.api")

PREFIX = "/api/v1"

HTTP_STATUS = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
}
"""HTTP status per gRPC code (the mapping Google's and Connect's HTTP APIs use); others 500."""

_CODE_NAMES = {grpc.StatusCode.CANCELLED: "canceled"}  # Connect's spelling

Authorize = Callable[[Request], Awaitable[str | None]]
"""None when the request may call the API, else why not (answered 401)."""


def error_response(code: grpc.StatusCode, message: str, error_class: str | None = None) -> Response:
    """The JSON error answer for ``code``."""
    body: dict[str, Any] = {"code": _CODE_NAMES.get(code, code.name.lower()), "message": message}
    if error_class:
        body["error"] = error_class
    return JSONResponse(body, status_code=HTTP_STATUS.get(code, 500))


def to_json(message: Message) -> dict[str, Any]:
    """``message`` in protobuf's JSON mapping (default values left out)."""
    return json_format.MessageToDict(message)


def routes(local: LocalApi, authorize: Authorize, max_request_bytes: int) -> list[Route]:
    """The API's route (``POST /api/v1/{service}/{method}``)."""

    async def endpoint(request: Request) -> Response:
        problem = await authorize(request)
        if problem is not None:
            return error_response(grpc.StatusCode.UNAUTHENTICATED, problem)
        try:
            method = find_method(request.path_params["service"], request.path_params["method"])
            body = await _body(request, max_request_bytes)
            messages = _parse(method, body)
        except SpyglassError as exc:
            return _answer_error(exc)
        if method.server_streaming:
            return await _streamed(local, method, messages[0])
        try:
            answer = await local.call(method, messages if method.client_streaming else messages[0])
        except Exception as exc:
            return _answer_error(exc)
        return JSONResponse(to_json(answer))

    return [Route(PREFIX + "/{service}/{method}", endpoint, methods=["POST"])]


async def _streamed(local: LocalApi, method: Method, request: Message) -> Response:
    """The messages of a server-streaming call as a JSON array. The first message is awaited
    before answering, so an error in the request (a bad filter) gets its own status."""
    stream = local.stream(method, request)
    try:
        first = await anext(stream, None)
    except Exception as exc:
        return _answer_error(exc)

    async def body() -> AsyncIterator[bytes]:
        yield b"["
        if first is not None:
            yield json.dumps(to_json(first)).encode()
            async for message in stream:
                yield b"," + json.dumps(to_json(message)).encode()
        yield b"]"

    return StreamingResponse(body(), media_type="application/json")


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _TooLarge(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)


class _TooLarge(SpyglassError):
    def __init__(self, limit: int) -> None:
        super().__init__(
            f"request body larger than the collector's --max-request-bytes ({limit:,} bytes)"
        )


class _BadJson(SpyglassError):
    pass


def _parse(method: Method, body: bytes) -> list[Message]:
    """The request message(s) of ``body``; an empty body is the empty request."""
    text = body.decode("utf-8", errors="replace").strip() or "{}"
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _BadJson(
            f"the body of {method.service}/{method.name} is not JSON ({exc.msg} at line "
            f"{exc.lineno} column {exc.colno}); send a {method.request_type.DESCRIPTOR.name} "
            "in protobuf's JSON mapping"
        ) from exc
    items = value if method.client_streaming and isinstance(value, list) else [value]
    messages = []
    for number, item in enumerate(items, 1):
        where = f"message {number} of the body" if len(items) > 1 else "the body"
        if not isinstance(item, dict):
            raise _BadJson(
                f"{where} of {method.service}/{method.name} must be a JSON object "
                f"(a {method.request_type.DESCRIPTOR.name}), got {type(item).__name__}"
            )
        try:
            messages.append(json_format.ParseDict(item, method.request_type()))
        except json_format.ParseError as exc:
            raise _BadJson(
                f"{where} is not a valid {method.request_type.DESCRIPTOR.name}: {exc}"
            ) from exc
    return messages


def _answer_error(exc: Exception) -> Response:
    if isinstance(exc, ApiCallError):
        return error_response(exc.code, exc.message, exc.error_class)
    if isinstance(exc, _TooLarge):
        return JSONResponse({"code": "resource_exhausted", "message": str(exc)}, status_code=413)
    if isinstance(exc, _BadJson):
        return error_response(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
    if isinstance(exc, NotFoundError):
        return error_response(grpc.StatusCode.NOT_FOUND, str(exc), type(exc).__name__)
    status = status_for(exc)
    if status is not None:
        return error_response(status[0], status[1], type(exc).__name__)
    log.error("unexpected error in a JSON API call", exc_info=exc)
    return error_response(
        grpc.StatusCode.INTERNAL, "internal error; the collector's log has the details"
    )
