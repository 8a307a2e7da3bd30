"""Connection limits of the OTLP/HTTP port: a deadline for reading each request and a cap
on open connections, so that senders which connect and never finish a request cannot hold
the collector's file descriptors.

uvicorn's own limits do not cover this: ``limit_concurrency`` still accepts and keeps the
connection (it answers 503 once headers arrive, which a silent client never sends) and
``timeout_keep_alive`` only runs between requests. :func:`guarded_protocol` builds a
subclass of uvicorn's httptools protocol (uvicorn's ``http`` setting takes a class) that
closes a connection whose request is not complete in time, and closes connections above
the cap as soon as they are accepted.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from spyglass.errors import ConfigurationError

try:
    import resource
except ImportError:  # pragma: no cover - not on Windows
    resource = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

RESERVED_FDS = 256
"""File descriptors kept for everything but HTTP connections: the store's connections,
the gRPC port and its connections, decode workers' pipes, log files."""


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a read deadline and a connection cap.

    ``read_timeout`` (seconds) runs from the moment a connection is accepted, and from the
    first byte of each later request on it, until the request's headers and body are all
    in; then the connection is closed. A connection accepted while ``max_connections``
    are open is closed at once. :func:`guarded_protocol` sets both.
    """

    read_timeout: float = 30.0
    max_connections: int = 1024

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read_deadline: asyncio.TimerHandle | None = None

    # the signature of uvicorn's protocols, narrower than asyncio.Protocol's
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if len(self.connections) >= self.max_connections:
            self.transport = transport  # connection_lost reads it
            log.warning(
                "OTLP/HTTP connection refused: %d connections are open, the limit "
                "set by --max-connections",
                len(self.connections),
            )
            transport.abort()
            return
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._read_deadline is None:
            self._read_deadline = self.loop.call_later(self.read_timeout, self._timed_out)

    def _disarm(self) -> None:
        if self._read_deadline is not None:
            self._read_deadline.cancel()
            self._read_deadline = None

    def _timed_out(self) -> None:
        self._read_deadline = None
        if not self.transport.is_closing():
            log.debug(
                "closing an OTLP/HTTP connection whose request was not complete within "
                "%gs (--http-read-timeout)",
                self.read_timeout,
            )
            self.transport.close()


def guarded_protocol(read_timeout: float, max_connections: int) -> type[GuardedHttpProtocol]:
    """A :class:`GuardedHttpProtocol` subclass with these limits, for ``uvicorn.Config(http=…)``."""
    return type(
        "GuardedHttpProtocol",
        (GuardedHttpProtocol,),
        {"read_timeout": read_timeout, "max_connections": max_connections},
    )


def ensure_descriptors_for(max_connections: int) -> None:
    """Make sure the process may open ``max_connections`` plus :data:`RESERVED_FDS` files.

    When the soft ``RLIMIT_NOFILE`` is lower, it is raised to the hard limit (as servers
    usually do at start); when even that is too low, the setting cannot be honoured.
    """
    if resource is None:  # pragma: no cover - not on Windows
        return
    needed = max_connections + RESERVED_FDS
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return
    if hard == resource.RLIM_INFINITY or hard >= needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        return
    raise ConfigurationError(
        f"--max-connections {max_connections} needs {needed} open files ({RESERVED_FDS} "
        f"kept for the store and the gRPC port), but this process may open at most {hard} "
        f"(ulimit -n); lower --max-connections to {max(1, hard - RESERVED_FDS)} or less, or "
        "raise the open-files limit of the collector's service"
    )
