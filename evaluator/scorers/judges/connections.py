"""Keep-alive HTTP/1.1 connections to one judge endpoint, from the standard library.

Judges post small JSON bodies and read small JSON answers, many threads at once. The
standard library's ``http.client`` does that exchange for about a third of the CPU that a
general-purpose client spends (request and URL objects, connection-pool bookkeeping under a
lock, streaming layers), which matters when dozens of judges share one interpreter.
:class:`KeepAliveConnections` holds idle connections for reuse, one exchange per connection at
a time, and answers with :class:`Answer`, the few fields a judge reads. TLS uses the same
settings as the ``openai`` package's HTTP library (its certificate bundle, ``SSL_CERT_FILE``
and ``SSL_CERT_DIR``); endpoints reached through a proxy use that library instead (see
:func:`.endpoints.json_endpoint`).

A connection that sat idle may have been closed by the server in the meantime: one found
readable before reuse is dropped, and a request that fails on a reused connection before
any answer came is sent once more on a new connection (the server never saw the first).
"""

from __future__ import annotations

import http.client
import select
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from spyglass.errors import ConfigurationError

MAX_IDLE = 64
"""Idle connections kept per endpoint (the ``openai`` client keeps 20 per host and up to 100
in all; judges of one evaluation send ``max_workers`` × judges requests at once)."""

STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)
"""How a request fails on a connection the server had already closed."""

UNREACHABLE = (OSError, http.client.HTTPException)
"""Failures that mean no answer came (timeouts are ``OSError`` too)."""


@dataclass(frozen=True)
class Answer:
    """An HTTP answer: status, headers (case-insensitive ``get``/``[]``), body."""

    status_code: int
    reason_phrase: str
    headers: Any
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


class KeepAliveConnections:
    """POSTs to ``base_url`` over reused connections (thread-safe).

    ``headers`` go with every request; ``timeout`` (seconds) bounds connecting and each wait
    for data, as the ``openai`` client's timeout does; ``permit`` is called before every
    request (the endpoint's rate limiter).
    """

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str],
        timeout: float | None,
        permit: Callable[[], None] | None = None,
        ssl_context: Any = None,
    ) -> None:
        url = urllib.parse.urlsplit(base_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ConfigurationError(
                f"the judge endpoint {base_url!r} is not an http:// or https:// URL; "
                "set OPENAI_BASE_URL (or base_url=) to e.g. https://api.openai.com/v1"
            )
        self.base_url = base_url
        self._https = url.scheme == "https"
        self._host = url.hostname
        self._port = url.port
        self._prefix = url.path.rstrip("/")
        self._headers = {"Accept": "application/json", **headers}
        self._timeout = timeout
        self._permit = permit
        self._ssl_context = ssl_context
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def post(self, path: str, content: bytes, headers: Mapping[str, str]) -> Answer:
        """The answer to a POST of ``content`` to ``path`` (below the base URL's path).
        Raises one of :data:`UNREACHABLE` when no answer came."""
        if self._permit is not None:
            self._permit()
        all_headers = {**self._headers, **headers}
        target = self._prefix + path
        connection, reused = self._take()
        try:
            answer = self._exchange(connection, target, content, all_headers)
        except STALE:
            connection.close()
            if not reused:
                raise
            connection = self._connect()  # the server had closed it while it was idle
            try:
                answer = self._exchange(connection, target, content, all_headers)
            except BaseException:
                connection.close()
                raise
        except BaseException:
            connection.close()
            raise
        self._give_back(connection, answer)
        return answer

    def close(self) -> None:
        """Close the idle connections (those in use close when their exchange ends)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    def _exchange(
        self,
        connection: http.client.HTTPConnection,
        target: str,
        content: bytes,
        headers: dict[str, str],
    ) -> Answer:
        connection.request("POST", target, body=content, headers=headers)
        response = connection.getresponse()
        body = response.read()
        answer = Answer(response.status, response.reason, response.headers, body)
        if response.will_close:
            connection.close()
        return answer

    def _take(self) -> tuple[http.client.HTTPConnection, bool]:
        """An idle connection still open (True), or a new one (False)."""
        while True:
            with self._lock:
                connection = self._idle.pop() if self._idle else None
            if connection is None:
                return self._connect(), False
            if _still_open(connection):
                return connection, True
            connection.close()

    def _give_back(self, connection: http.client.HTTPConnection, answer: Answer) -> None:
        if connection.sock is None:  # the server closes it (Connection: close)
            return
        with self._lock:
            if len(self._idle) < MAX_IDLE:
                self._idle.append(connection)
                return
        connection.close()

    def _connect(self) -> http.client.HTTPConnection:
        if self._https:
            return http.client.HTTPSConnection(
                self._host, self._port, timeout=self._timeout, context=self._ssl_context
            )
        return http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)


def _still_open(connection: http.client.HTTPConnection) -> bool:
    """False when the idle connection's socket is closed or readable (the server closed it,
    or sent something unasked: either way it cannot carry a new exchange)."""
    sock = connection.sock
    if sock is None:
        return True  # not connected yet: request() connects
    try:
        if hasattr(select, "poll"):  # any descriptor number, unlike select()
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return not poller.poll(0)
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable
