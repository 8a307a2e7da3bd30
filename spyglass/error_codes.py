"""How each Spyglass error is answered on the wire: one table for the collector and the client.

The collector answers a failed request with a gRPC status code (the OTLP receivers and the
``spyglass.v1`` services), an HTTP status (the OTLP/HTTP receiver) and counts it under an
outcome of ``spyglass_requests_total`` (the OTLP receivers); the API client turns a status
code back into an error class. :data:`ANSWERS` holds each of these facts once. A row says
which sides use it:

* ``Side.OTLP``: the OTLP receivers (gRPC and HTTP) answer an export that raised the error
  with the row's code, HTTP status and outcome;
* ``Side.API``: the ``spyglass.v1`` services answer with the row's code;
* ``Side.CLIENT``: :class:`~spyglass.client.SpyglassClient` raises the row's class for the
  row's code when the collector did not name the class (in :data:`ERROR_CLASS_KEY`).

Rows are matched in order, first ``isinstance`` wins, so a subclass's row comes before its
base's. An error no row of a side covers is unexpected there (a bug): the receivers and
services let it surface as an internal error with the server logging the traceback.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import grpc

from spyglass import errors
from spyglass.errors import (
    AlreadyExistsError,
    CollectorUnavailableError,
    ConfigurationError,
    FailedPreconditionError,
    InvalidArgumentError,
    InvalidFilterError,
    InvalidRequestError,
    NotFoundError,
    PayloadTooLargeError,
    QueryTimeoutError,
    RetryableError,
    SpyglassError,
    UnsupportedMediaTypeError,
)

ERROR_CLASS_KEY = "spyglass-error"
"""Trailing metadata naming the error's class, so that the client raises the very same class."""


class Side(enum.Flag):
    """Who answers with a row of :data:`ANSWERS` (or, for the client, reads it back)."""

    OTLP = enum.auto()
    API = enum.auto()
    CLIENT = enum.auto()


@dataclass(frozen=True)
class ErrorAnswer:
    """The answer to one class of error: gRPC code, and for OTLP the HTTP status and the
    metrics outcome (None where no side answers over HTTP or counts it)."""

    error: type[SpyglassError]
    code: grpc.StatusCode
    sides: Side
    http_status: int | None = None
    outcome: str | None = None

    @property
    def rpc_code(self) -> int:
        """The code as the number ``google.rpc.Status.code`` carries."""
        number: int = self.code.value[0]
        return number


_OTLP, _API, _CLIENT = Side.OTLP, Side.API, Side.CLIENT
_S = grpc.StatusCode

ANSWERS: tuple[ErrorAnswer, ...] = (
    ErrorAnswer(NotFoundError, _S.NOT_FOUND, _API | _CLIENT),
    ErrorAnswer(InvalidFilterError, _S.INVALID_ARGUMENT, _API),
    ErrorAnswer(InvalidArgumentError, _S.INVALID_ARGUMENT, _API | _CLIENT),
    ErrorAnswer(AlreadyExistsError, _S.ALREADY_EXISTS, _API | _CLIENT),
    ErrorAnswer(FailedPreconditionError, _S.FAILED_PRECONDITION, _API | _CLIENT),
    ErrorAnswer(QueryTimeoutError, _S.DEADLINE_EXCEEDED, _API),
    # nothing was stored: OTLP exporters retry UNAVAILABLE / 503 after the delay sent with it
    ErrorAnswer(RetryableError, _S.UNAVAILABLE, _OTLP | _API, 503, "retry"),
    ErrorAnswer(PayloadTooLargeError, _S.RESOURCE_EXHAUSTED, _OTLP, 413, "too_large"),
    ErrorAnswer(UnsupportedMediaTypeError, _S.INVALID_ARGUMENT, _OTLP, 415, "unsupported"),
    ErrorAnswer(InvalidRequestError, _S.INVALID_ARGUMENT, _OTLP, 400, "invalid"),
    ErrorAnswer(CollectorUnavailableError, _S.UNAVAILABLE, _CLIENT),
    # the collector refuses a missing or wrong API key without naming an error class
    ErrorAnswer(ConfigurationError, _S.UNAUTHENTICATED, _CLIENT),
    ErrorAnswer(ConfigurationError, _S.PERMISSION_DENIED, _CLIENT),
)
"""Every answer, in matching order (module docstring)."""


def answer_for(exc: BaseException, side: Side) -> ErrorAnswer | None:
    """The row ``side`` answers ``exc`` with; None when ``exc`` is unexpected there."""
    for answer in ANSWERS:
        if side in answer.sides and isinstance(exc, answer.error):
            return answer
    return None


def error_class_for(code: grpc.StatusCode, name: str | None = None) -> type[SpyglassError]:
    """The class the client raises for a status: the Spyglass error the collector named in
    :data:`ERROR_CLASS_KEY`, else the client's row for ``code``, else :class:`SpyglassError`."""
    named = getattr(errors, name, None) if name else None
    if isinstance(named, type) and issubclass(named, SpyglassError):
        return named
    for answer in ANSWERS:
        if Side.CLIENT in answer.sides and answer.code == code:
            return answer.error
    return SpyglassError
