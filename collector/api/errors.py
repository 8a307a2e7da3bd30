"""gRPC statuses for the errors the spyglass.v1 services raise, shared by every servicer.

Servicers run store calls through ``api/queries.py`` (worker threads, time limits), which
turns Spyglass errors into the status a client can act on with :func:`abort_for`; the codes
are the ``Side.API`` rows of :data:`spyglass.error_codes.ANSWERS`. A store that cannot be
reached (SQLAlchemy's connection errors) is answered UNAVAILABLE as well. Messages pass
through as written, since they already say what to fix.
"""

from __future__ import annotations

import grpc
from sqlalchemy.exc import InterfaceError, OperationalError

from spyglass.error_codes import ERROR_CLASS_KEY, Side, answer_for


def status_for(exc: BaseException) -> tuple[grpc.StatusCode, str] | None:
    """The status and message for ``exc``; None for an unexpected error (a bug: let gRPC
    report UNKNOWN and the server log the traceback)."""
    answer = answer_for(exc, Side.API)
    if answer is not None:
        return answer.code, str(exc)
    if isinstance(exc, (OperationalError, InterfaceError)):
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return (
            grpc.StatusCode.UNAVAILABLE,
            f"trace store unavailable ({reason}); retry in a moment",
        )
    return None


async def abort_for(context: grpc.aio.ServicerContext, exc: Exception) -> None:
    """Abort the RPC with the status of ``exc``; return (doing nothing) for an unexpected
    error, which the caller re-raises."""
    status = status_for(exc)
    if status is None:
        return
    # the error's class name lets the Python client raise the very same class
    await context.abort(*status, trailing_metadata=((ERROR_CLASS_KEY, type(exc).__name__),))
