"""gRPC statuses for the errors the spyglass.v1 services raise, shared by every servicer.

Servicers run store calls through ``api/queries.py`` (worker threads, time limits), which
turns Spyglass errors into the status a client can act on with :func:`abort_for`. Messages
pass through as written, since they already say what to fix.
"""

from __future__ import annotations

import grpc
from sqlalchemy.exc import InterfaceError, OperationalError

from spyglass.errors import (
    AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, InvalidFilterError,
    NotFoundError, QueryTimeoutError, RetryableError,
)

STATUS_OF: tuple[tuple[type[BaseException], grpc.StatusCode], ...] = (
    (NotFoundError, grpc.StatusCode.NOT_FOUND),
    (InvalidFilterError, grpc.StatusCode.INVALID_ARGUMENT),
    (InvalidArgumentError, grpc.StatusCode.INVALID_ARGUMENT),
    (AlreadyExistsError, grpc.StatusCode.ALREADY_EXISTS),
    (FailedPreconditionError, grpc.StatusCode.FAILED_PRECONDITION),
    (QueryTimeoutError, grpc.StatusCode.DEADLINE_EXCEEDED),
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


async def abort_for(context: grpc.aio.ServicerContext, exc: Exception) -> None:
    """Abort the RPC with the status of ``exc``; return (doing nothing) for an unexpected
    error, which the caller re-raises."""
    status = status_for(exc)
    if status is None:
        return
    # the error's class name lets the Python client raise the very same class
    await context.abort(*status, trailing_metadata=(("spyglass-error", type(exc).__name__),))
