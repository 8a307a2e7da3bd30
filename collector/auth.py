"""API-key checks shared by both ports: ``Authorization: Bearer <key>`` on HTTP, the
``authorization`` metadata entry on gRPC. Health endpoints are always open so that
orchestrators can probe a collector without credentials.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from typing import Any

import grpc

OPEN_GRPC_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")
MISSING_KEY = (
    "missing API key: send 'Authorization: Bearer <key>' (gRPC: metadata "
    "'authorization'); OTel exporters take it from OTEL_EXPORTER_OTLP_HEADERS="
    "'authorization=Bearer <key>'"
)
WRONG_KEY = (
    "API key not accepted: check the key, or ask for one of the collector's --api-key values"
)


class ApiKeys:
    """The accepted keys; with none configured every request is allowed."""

    def __init__(self, keys: tuple[str, ...] = ()) -> None:
        self._keys = tuple(k.encode() for k in keys)

    @property
    def enabled(self) -> bool:
        return bool(self._keys)

    def problem(self, authorization: str | None) -> str | None:
        """None when ``authorization`` (a header value) is acceptable, else why not."""
        if not self._keys:
            return None
        if not authorization:
            return MISSING_KEY
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token:
            return MISSING_KEY
        supplied = token.strip().encode()
        # compare against every key, always, so timing says nothing about which was close
        matches = [hmac.compare_digest(supplied, key) for key in self._keys]
        return None if any(matches) else WRONG_KEY

    def accepts_digest(self, digest: str, secret: bytes) -> bool:
        """True when ``digest`` is :func:`key_digest` of an accepted key under ``secret``
        (a web UI session keeps this instead of the key)."""
        supplied = digest.encode()
        matches = [
            hmac.compare_digest(supplied, key_digest(key, secret).encode()) for key in self._keys
        ]
        return any(matches)


def key_digest(key: bytes, secret: bytes) -> str:
    """An HMAC of ``key`` under ``secret``: what a session may hold to name the key it signed
    in with, useless for guessing the key without the secret."""
    return hmac.new(secret, key, hashlib.sha256).hexdigest()


class GrpcAuthInterceptor(grpc.aio.ServerInterceptor):
    """Rejects RPCs without an accepted key with UNAUTHENTICATED (health stays open)."""

    def __init__(self, keys: ApiKeys) -> None:
        self._keys = keys

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]
        ],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = await continuation(details)
        if handler is None or details.method.startswith(OPEN_GRPC_PREFIXES):
            return handler
        metadata = dict(details.invocation_metadata or ())
        authorization = metadata.get("authorization")
        # grpc hands over text for every key without the "-bin" suffix
        problem = self._keys.problem(authorization if isinstance(authorization, str) else None)
        return handler if problem is None else _denying(handler, problem)


def _denying(handler: grpc.RpcMethodHandler, problem: str) -> grpc.RpcMethodHandler:
    """A handler answering UNAUTHENTICATED from the call's metadata alone.

    It is of the request-streaming kind whatever ``handler`` is (the wire format is the
    same for the client): grpc.aio hands a unary handler the whole request message, so a
    unary denial would first read and buffer a body of up to --max-request-bytes; a
    streaming one aborts without reading the request at all.
    """

    async def deny(_requests: Any, context: grpc.aio.ServicerContext) -> Any:
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, problem)

    async def deny_stream(_requests: Any, context: grpc.aio.ServicerContext) -> Any:
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, problem)
        yield  # pragma: no cover - makes this an async generator

    kwargs = {
        "request_deserializer": handler.request_deserializer,
        "response_serializer": handler.response_serializer,
    }
    if handler.unary_unary or handler.stream_unary:
        return grpc.stream_unary_rpc_method_handler(deny, **kwargs)
    return grpc.stream_stream_rpc_method_handler(deny_stream, **kwargs)
