"""Typed errors. Every error Spyglass raises is a :class:`SpyglassError`.

Messages say what went wrong, where, and how to fix it, because they are read by people
looking at a log line or a failed export, not by the code that raised them. The status each
is answered with on the wire (gRPC code, HTTP status) is in :mod:`spyglass.error_codes`.
"""

from __future__ import annotations


class SpyglassError(Exception):
    """Base class of every error Spyglass raises on purpose."""


class ConfigurationError(SpyglassError):
    """A setting (flag, environment variable or argument) has a value that cannot work."""


class InvalidRequestError(SpyglassError):
    """A request body is malformed: it cannot be decoded as the protocol it claims to be."""


class PayloadTooLargeError(InvalidRequestError):
    """A request body is larger than the configured limit (checked after decompression)."""


class UnsupportedMediaTypeError(InvalidRequestError):
    """A request uses a content type or content encoding the collector does not speak."""


class RetryableError(SpyglassError):
    """Nothing was stored, through no fault of the request: send it again after
    ``retry_after`` seconds (receivers answer UNAVAILABLE / 503 with that delay)."""

    def __init__(self, message: str, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StoreUnavailableError(RetryableError):
    """The trace store cannot be reached or refused a write."""


class OverloadedError(RetryableError):
    """The collector is at its limits (write queue, bytes in flight) or restarting a part."""


class InternalFaultError(RetryableError):
    """An unexpected fault inside the collector interrupted a request; nothing of it was
    acknowledged, and sending it again is safe (writes are idempotent)."""


class CollectorFailedError(SpyglassError):
    """A part of the collector that cannot be restarted in place has stopped; the process
    exits so that its supervisor (Kubernetes, systemd, compose) starts a fresh one."""


class MigrationError(SpyglassError):
    """The database schema could not be brought to the version this code needs."""


class InvalidFilterError(SpyglassError):
    """A search filter or order_by clause cannot be parsed or does not fit its fields.

    The message shows the offending text with a caret under the position and says what was
    expected there; ``text``, ``position`` and ``reason`` carry the same facts for callers
    that render errors themselves (the query API maps this to INVALID_ARGUMENT).
    """

    def __init__(
        self, message: str, *, text: str = "", position: int = 0, reason: str = ""
    ) -> None:
        super().__init__(message)
        self.text = text
        self.position = position
        self.reason = reason or message


def not_unicode(char: str) -> str:
    """Why text holding the lone surrogate ``char`` is refused, in the terms of where it most
    likely came from: Python decodes a byte that is not UTF-8 (in argv, a file) as U+DC80 to
    U+DCFF; other lone surrogates come from escapes such as '\\ud800'."""
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:
        return (
            f"byte 0x{code - 0xDC00:02X} is not UTF-8 text; write it in UTF-8 (check the "
            "terminal's encoding, e.g. LANG=C.UTF-8)"
        )
    return (
        f"U+{code:04X} is a lone surrogate, not a character (write a character outside "
        "the BMP as one escape, \\U0001F600, not as a pair of \\u escapes)"
    )


class QueryTimeoutError(SpyglassError):
    """A query ran longer than the collector allows (``--query-timeout``) or than the
    caller's deadline; the message says which and how to narrow the search."""


class NotFoundError(SpyglassError):
    """A named thing (trace, experiment, assessment, dataset) does not exist."""


class AlreadyExistsError(SpyglassError):
    """A thing with that name or id exists already (experiment, dataset)."""


class InvalidArgumentError(SpyglassError):
    """An argument is malformed (an id of the wrong shape, a value that is not JSON, …)."""


class CollectorUnavailableError(RetryableError):
    """The collector cannot be reached; check the address and that it is running."""


class FailedPreconditionError(SpyglassError):
    """The request is well formed but the thing it acts on is not in a state that allows it
    (overriding an expectation, or a feedback that was already overridden)."""
