"""JSON requests to a judge endpoint over pooled connections, retried when that can help.

Judges send a row's requests as plain HTTP rather than through ``openai.OpenAI``: the request
is a plain JSON post and its answer a few fields of JSON, and the ``openai`` client's request
building and response models cost about as much CPU again as the HTTP exchange — which, with
many judges running on one interpreter, caps evaluation throughput. The connections are the
standard library's (:mod:`.connections`), or, for an endpoint reached through a proxy, the
HTTP client the ``openai`` package is built on (``httpx``, or ``httpx2`` in recent releases).

The retry policy follows the ``openai`` client's documented one, with ``tenacity``: requests
answered 408, 409, 429 or 5xx (or ``x-should-retry: true``), and requests that got no answer
(connection errors, timeouts), are sent again up to ``max_retries`` times, after the wait the
server asked for (``Retry-After-Ms``, ``Retry-After`` in seconds or as an HTTP date) or else an
exponential backoff with jitter (0.5 s doubling, at most 8 s). A server asking for more than
two minutes is not waited for. :class:`RetryPolicy` holds that policy, so every way a judge
reaches a model (this pooled client, or LiteLLM for the providers it speaks) retries alike.
"""

from __future__ import annotations

import email.utils
import importlib
import time
from collections.abc import Callable
from functools import cache
from types import ModuleType
from typing import Any, NoReturn, TypeVar

import orjson
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)
from tenacity.stop import stop_base
from tenacity.wait import wait_base

T = TypeVar("T")

MAX_RETRY_AFTER_S = 120.0
RETRY_STATUSES = frozenset({408, 409, 429})


class EndpointStatusError(Exception):
    """The endpoint answered with an error status (after any retries)."""

    def __init__(self, status: int, detail: str, headers: Any) -> None:
        super().__init__(f"HTTP {status}: {detail}")
        self.status = status
        self.detail = detail
        self.headers = headers

    @property
    def retryable(self) -> bool:
        should = (self.headers.get("x-should-retry") or "").lower()
        if should in ("true", "false"):
            return should == "true"
        return self.status in RETRY_STATUSES or self.status >= 500

    def retry_after_s(self) -> float | None:
        """The wait the server asked for, in seconds (None when it did not say)."""
        try:
            return float(self.headers["retry-after-ms"]) / 1000
        except (KeyError, TypeError, ValueError):
            pass
        value = self.headers.get("retry-after")
        if value is None:
            return None
        try:
            return float(value)
        except ValueError:
            when = email.utils.parsedate_to_datetime(value) if value.strip() else None
            return when.timestamp() - time.time() if when is not None else None


class EndpointUnreachable(Exception):
    """No answer came from the endpoint (connection error or timeout), after any retries."""


class _Transient(Exception):
    """Raised inside the retry loop for an answer worth asking again."""

    def __init__(self, error: EndpointStatusError) -> None:
        super().__init__(str(error))
        self.error = error


class _WaitAsAsked(wait_base):
    """The server's Retry-After when it gave one, else exponential backoff with jitter."""

    def __init__(self) -> None:
        self._backoff = wait_exponential_jitter(multiplier=0.5, max=8.0, jitter=0.25)

    def __call__(self, retry_state: RetryCallState) -> float:
        asked = _asked_wait(retry_state)
        if asked is not None and 0 <= asked <= MAX_RETRY_AFTER_S:
            return asked
        return self._backoff(retry_state)


class _StopWhenAskedTooMuch(stop_base):
    """Give up at once when the server asks for a wait longer than ``MAX_RETRY_AFTER_S``."""

    def __call__(self, retry_state: RetryCallState) -> bool:
        asked = _asked_wait(retry_state)
        return asked is not None and asked > MAX_RETRY_AFTER_S


def _asked_wait(retry_state: RetryCallState) -> float | None:
    outcome = retry_state.outcome
    exc = outcome.exception() if outcome is not None else None
    return exc.error.retry_after_s() if isinstance(exc, _Transient) else None


class RetryPolicy:
    """Calls a request again while it fails in a way worth retrying (see the module's doc).

    The request raises :class:`EndpointStatusError` for an error answer (passed through
    :func:`fail`, which marks the retryable ones) and :class:`EndpointUnreachable` or one of
    ``unreachable`` when no answer came; those are retried too, and raised as
    :class:`EndpointUnreachable` once the retries are spent.
    """

    def __init__(self, max_retries: int, unreachable: tuple[type[BaseException], ...]) -> None:
        self.max_retries = max_retries
        self._unreachable = unreachable
        self._retrying = Retrying(
            stop=stop_after_attempt(max_retries + 1) | _StopWhenAskedTooMuch(),
            wait=_WaitAsAsked(),
            retry=retry_if_exception_type((_Transient, EndpointUnreachable, *unreachable)),
            reraise=True,
        )

    def call(self, request: Callable[[], T]) -> T:
        """``request()``, retried; raises :class:`EndpointStatusError` or
        :class:`EndpointUnreachable` when it still fails."""
        try:
            return self._retrying(request)
        except _Transient as exc:
            raise exc.error from None
        except EndpointUnreachable:
            raise
        except self._unreachable as exc:
            raise EndpointUnreachable(f"{type(exc).__name__}: {exc}") from exc


def fail(error: EndpointStatusError) -> NoReturn:
    """Raise ``error`` inside a :class:`RetryPolicy` call: retried when it is retryable."""
    if error.retryable:
        raise _Transient(error)
    raise error


class JsonEndpoint:
    """POSTs JSON to one endpoint on a shared, pooled HTTP client (thread-safe).

    ``client`` has ``post(path, content=..., headers=...)`` answering a response with
    ``status_code``, ``reason_phrase``, ``headers``, ``content`` and ``text`` (an ``httpx``
    client, or :class:`.connections.KeepAliveConnections`), and raises one of
    ``unreachable`` when no answer came (default: the ``httpx`` library's transport errors).
    """

    def __init__(
        self,
        client: Any,
        base_url: str,
        max_retries: int,
        unreachable: tuple[type[BaseException], ...] | None = None,
    ) -> None:
        self.client = client
        self.base_url = base_url
        self.max_retries = max_retries
        self._retries = RetryPolicy(max_retries, unreachable or (http_library().TransportError,))

    def chat(self, body: dict[str, Any]) -> dict[str, Any]:
        """The chat completion answered to ``body`` (see :meth:`post`)."""
        return self.post("/chat/completions", body)

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """The JSON object answered to ``body`` at ``path``. Raises
        :class:`EndpointStatusError` for an error status (once retries are spent),
        :class:`EndpointUnreachable` when no answer came, ``ValueError`` for a non-JSON one."""
        content = orjson.dumps(body)
        return self._retries.call(lambda: self._send(path, content))

    def _send(self, path: str, content: bytes) -> dict[str, Any]:
        response = self.client.post(
            path, content=content, headers={"Content-Type": "application/json"}
        )
        if response.status_code >= 400:
            fail(EndpointStatusError(response.status_code, _detail(response), response.headers))
        if response.status_code >= 300:
            raise ValueError(
                f"HTTP {response.status_code} redirect to "
                f"{response.headers.get('location')!r}; set the base URL to where it points"
            )
        answer = orjson.loads(response.content)
        if not isinstance(answer, dict):
            raise ValueError(f"the answer is JSON but not an object ({response.text[:80]!r})")
        return answer

    def close(self) -> None:
        self.client.close()


def _detail(response: Any) -> str:
    """The error message of an error answer (OpenAI's ``{"error": {"message": ...}}``)."""
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return str(response.text[:200] or response.reason_phrase)
    error = body.get("error", body) if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    return str(message) if message else response.text[:200]


@cache
def http_library() -> ModuleType:
    """The HTTP library the installed ``openai`` is built on (``httpx2`` or ``httpx``)."""
    import openai

    return importlib.import_module(
        next(
            c.__module__.split(".")[0]
            for c in openai.DefaultHttpxClient.__mro__
            if c.__name__ == "Client" and c.__module__.startswith("httpx")
        )
    )
