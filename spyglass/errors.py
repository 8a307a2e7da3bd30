"""Typed errors. Every error Spyglass raises is a :class:`SpyglassError`.

Messages say what went wrong, where, and how to fix it, because they are read by people
looking at a log line or a failed export, not by the code that raised them.
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


class StoreUnavailableError(SpyglassError):
    """The trace store cannot be reached or refused a write; the caller should retry after
    ``retry_after`` s."""

    def __init__(self, message: str, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class OverloadedError(SpyglassError):
    """The collector's write queue is full; the caller should retry after ``retry_after`` s."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class MigrationError(SpyglassError):
    """The database schema could not be brought to the version this code needs."""
