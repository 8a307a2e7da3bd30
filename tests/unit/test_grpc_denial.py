"""Denials of unauthenticated gRPC calls are request-streaming handlers, whatever the
method's kind."""

from __future__ import annotations

import grpc
import pytest

from spyglass.collector.auth import _denying


@pytest.mark.parametrize(
    "make, kind",
    [
        (grpc.unary_unary_rpc_method_handler, "stream_unary"),
        (grpc.stream_unary_rpc_method_handler, "stream_unary"),
        (grpc.unary_stream_rpc_method_handler, "stream_stream"),
        (grpc.stream_stream_rpc_method_handler, "stream_stream"),
    ],
)
def test_denials_never_take_the_request_message(make, kind: str) -> None:  # type: ignore[no-untyped-def]
    """A request-streaming denial aborts without reading the body (grpc.aio reads a unary
    request whole before the handler runs)."""
    denial = _denying(make(lambda request, context: None), "no key")
    assert denial.request_streaming
    assert getattr(denial, kind) is not None
