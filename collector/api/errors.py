"""gRPC statuses for the errors the spyglass.v1 services raise, shared by every servicer.

Store calls are blocking, so a servicer runs them with :func:`call_store`: in a worker thread
(the event loop keeps serving OTLP), with Spyglass errors turned into the status a client can
act on. Messages pass through as written, since they already say what to fix.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

import grpc
from sqlalchemy.exc import InterfaceError, OperationalError

from spyglass.errors import (
    AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, InvalidFilterError,
    NotFoundError, RetryableError,
)

T = TypeVar("T")

STATUS_OF: tuple[tuple[type[BaseException], grpc.StatusCode], ...] = (
    (NotFoundError, grpc.StatusCode.NOT_FOUND),
    (InvalidFilterError, grpc.StatusCode.INVALID_ARGUMENT),
    (InvalidArgumentError, grpc.StatusCode.INVALID_ARGUMENT),
    (AlreadyExistsError, grpc.StatusCode.ALREADY_EXISTS),
    (FailedPreconditionError, grpc.StatusCode.FAILED_PRECONDITION),
    (RetryableError, grpc.StatusCode.UNAVAILABLE),
)


def status_for(exc: BaseException) -> tuple[grpc.StatusCode, str] | None:
    """The status and message for ``exc``; None for an unexpected error (a bug: let gRPC
    report UNKNOWN and the server log the traceback)."""
    for kind, code in STATUS_OF:
        if isinstance(exc, kind):
            return code, str(exc)
    if isinstance(exc, (OperationalError, InterfaceError)):
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return (grpc.StatusCode.UNAVAILABLE,
                f"trace store unavailable ({reason}); retry in a moment")
    return None


async def call_store(context: grpc.aio.ServicerContext, fn: Callable[..., T],
                     *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` in a worker thread; a known error aborts the RPC with its
    status."""
    try:
        return await asyncio.to_thread(fn, *args, **kwargs)
    except Exception as exc:
        status = status_for(exc)
        if status is None:
            raise
        # the error's class name lets the Python client raise the very same class
        await context.abort(*status, trailing_metadata=(("spyglass-error", type(exc).__name__),))
        raise  # unreachable: abort raises
