"""The spyglass.v1 services called in-process: the same servicers the gRPC port serves, for
the JSON API (``api/http_json.py``) and the web UI, so that neither holds a second copy of
any operation.

:class:`LocalApi` records the method handlers the generated ``add_*Servicer_to_server``
functions register (it stands in front of the real gRPC server while they run, passing
everything through), and :meth:`LocalApi.call` runs one of them with a
:class:`LocalContext` in place of gRPC's: the servicer's ``abort`` becomes an
:class:`ApiCallError` carrying the status code, message and error class a gRPC client
would have received.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass

from spyglass.error_codes import ERROR_CLASS_KEY
from spyglass.errors import NotFoundError, SpyglassError
from spyglass.v1 import (
    assessments_pb2,
    datasets_pb2,
    evaluation_pb2,
    experiments_pb2,
    jobs_pb2,
    review_pb2,
    traces_pb2,
)

PACKAGE = "spyglass.v1"
_FILES = (
    traces_pb2,
    experiments_pb2,
    assessments_pb2,
    datasets_pb2,
    evaluation_pb2,
    jobs_pb2,
    review_pb2,
)


class ApiCallError(SpyglassError):
    """A spyglass.v1 call answered with an error status, as a gRPC client would see it."""

    def __init__(self, code: grpc.StatusCode, message: str, error_class: str | None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.error_class = error_class


@dataclass(frozen=True)
class Method:
    """One spyglass.v1 method: its names, message classes and streaming kinds."""

    service: str  # short name, e.g. "TraceService"
    name: str
    request_type: type[Message]
    response_type: type[Message]
    client_streaming: bool
    server_streaming: bool

    @property
    def path(self) -> str:
        return f"/{PACKAGE}.{self.service}/{self.name}"


def _methods() -> dict[tuple[str, str], Method]:
    found = {}
    for module in _FILES:
        for service in module.DESCRIPTOR.services_by_name.values():
            m: MethodDescriptor
            for m in service.methods:
                found[(service.name, m.name)] = Method(
                    service.name,
                    m.name,
                    GetMessageClass(m.input_type),
                    GetMessageClass(m.output_type),
                    m.client_streaming,
                    m.server_streaming,
                )
    return found


METHODS = _methods()
"""Every spyglass.v1 method by (service, method) short names."""


def find_method(service: str, name: str) -> Method:
    """The method ``service``/``name`` (the service with or without ``spyglass.v1.``)."""
    short = service.removeprefix(PACKAGE + ".")
    method = METHODS.get((short, name))
    if method is None:
        services = sorted({s for s, _ in METHODS})
        if short not in services:
            raise NotFoundError(
                f"no service {service!r} in {PACKAGE}; the services are {', '.join(services)}"
            )
        names = sorted(m for s, m in METHODS if s == short)
        raise NotFoundError(f"{short} has no method {name!r}; its methods are {', '.join(names)}")
    return method


class LocalContext:
    """What the servicers use of ``grpc.aio.ServicerContext``: the deadline and ``abort``."""

    def __init__(self, timeout: float | None = None) -> None:
        self._deadline = None if timeout is None else time.monotonic() + timeout

    def time_remaining(self) -> float | None:
        if self._deadline is None:
            return None
        return max(0.0, self._deadline - time.monotonic())

    async def abort(
        self,
        code: grpc.StatusCode,
        details: str = "",
        trailing_metadata: Sequence[tuple[str, str]] = (),
    ) -> None:
        error_class = dict(trailing_metadata).get(ERROR_CLASS_KEY)
        raise ApiCallError(code, details, error_class)


class _Details:
    """The part of ``grpc.HandlerCallDetails`` a generic handler reads."""

    def __init__(self, method: str) -> None:
        self.method = method
        self.invocation_metadata: tuple[tuple[str, str], ...] = ()


class LocalApi:
    """The spyglass.v1 handlers of one collector, callable in-process (module docstring)."""

    def __init__(self) -> None:
        self._generic: list[grpc.GenericRpcHandler] = []

    def recording(self, server: grpc.aio.Server) -> grpc.aio.Server:
        """A stand-in for ``server`` that registers handlers on it and remembers them."""
        return _RecordingServer(server, self)  # type: ignore[return-value]

    def handler(self, method: Method) -> grpc.RpcMethodHandler[Any, Any]:
        for generic in self._generic:
            found = generic.service(_Details(method.path))  # type: ignore[arg-type]
            if found is not None:
                return found
        raise NotFoundError(f"{method.service}.{method.name} is not served by this collector")

    async def call(
        self, method: Method, request: Message | Iterable[Message], timeout: float | None = None
    ) -> Any:
        """Run ``method``: a message for a unary response, a list of messages for a
        streamed one; a client-streaming method takes an iterable of requests. Raises
        :class:`ApiCallError` for the statuses the servicer answers with."""
        handler = self.handler(method)
        context = LocalContext(timeout)
        if method.client_streaming:
            assert isinstance(request, Iterable)
            return await handler.stream_unary(_aiter(request), context)  # type: ignore[misc,arg-type]
        if method.server_streaming:
            stream = handler.unary_stream(request, context)  # type: ignore[misc,arg-type]
            return [message async for message in stream]  # type: ignore[union-attr]
        return await handler.unary_unary(request, context)  # type: ignore[misc,arg-type]

    async def stream(
        self, method: Method, request: Message, timeout: float | None = None
    ) -> AsyncIterator[Message]:
        """The responses of a server-streaming ``method``, as they come."""
        handler = self.handler(method)
        async for message in handler.unary_stream(request, LocalContext(timeout)):  # type: ignore[misc,arg-type,union-attr]
            yield message

    async def unary(
        self, service: str, name: str, request: Message, timeout: float | None = None
    ) -> Any:
        """Shorthand for the UI: ``call`` by service and method name."""
        return await self.call(find_method(service, name), request, timeout)


class _RecordingServer:
    def __init__(self, server: grpc.aio.Server, local: LocalApi) -> None:
        self._server = server
        self._local = local

    def add_generic_rpc_handlers(self, handlers: Sequence[grpc.GenericRpcHandler]) -> None:
        self._local._generic.extend(handlers)
        self._server.add_generic_rpc_handlers(handlers)

    def add_registered_method_handlers(self, service: str, handlers: dict[str, Any]) -> None:
        self._server.add_registered_method_handlers(service, handlers)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._server, name)


async def _aiter(items: Iterable[Message]) -> AsyncIterator[Message]:
    for item in items:
        yield item
