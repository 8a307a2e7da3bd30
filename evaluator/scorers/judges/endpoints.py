"""Shared HTTP clients per endpoint, paced by one shared rate limiter.

Judges run on many threads at once; they share the client of their endpoint (so connections
are pooled) and, when a rate limit is set, a single limiter per base URL (so the limit holds
for the endpoint as a whole, whichever judges and threads send; clients created for that
base URL after a limit was set use it too, and the strictest rate asked for wins). The limiter
sits in the HTTP transport (``pyrate_limiter``'s httpx transport), so every request pays a
permit — including retries after a 429 or 5xx, which honour ``Retry-After``.

Judges post through :func:`json_endpoint` (a pooled HTTP client, see :mod:`.http`); scorers
that want the ``openai`` client's response models (embeddings) use :func:`openai_client`.
"""

from __future__ import annotations

import threading
from fractions import Fraction
from typing import Any, Callable, TypeVar

from spyglass.errors import ConfigurationError

from .http import JsonEndpoint, http_library
from .model import Endpoint

T = TypeVar("T")

_lock = threading.Lock()
_clients: dict[Endpoint, Any] = {}
_json_endpoints: dict[Endpoint, JsonEndpoint] = {}
_limiters: dict[str, "_EndpointLimiter"] = {}


def openai_client(endpoint: Endpoint, owner: str) -> Any:
    """The shared ``openai.OpenAI`` client for ``endpoint`` (created on first use)."""
    return _shared(_clients, endpoint, lambda: _new_client(endpoint, owner))


def json_endpoint(endpoint: Endpoint, owner: str) -> JsonEndpoint:
    """The shared JSON poster for ``endpoint`` (created on first use)."""
    return _shared(_json_endpoints, endpoint, lambda: _new_json_endpoint(endpoint, owner))


def _shared(cache: dict[Endpoint, T], endpoint: Endpoint, make: Callable[[], T]) -> T:
    """``cache[endpoint]``, made once under the lock (judges run on many threads)."""
    found = cache.get(endpoint)
    if found is not None:
        return found
    with _lock:
        found = cache.get(endpoint)
        if found is None:
            found = cache[endpoint] = make()
    return found


def _new_json_endpoint(endpoint: Endpoint, owner: str) -> JsonEndpoint:
    _check_key(endpoint, owner)
    client = _http_client(endpoint, base_url=endpoint.base_url, timeout=endpoint.timeout_s,
                          headers={"Authorization": f"Bearer {endpoint.api_key}"})
    return JsonEndpoint(client, endpoint.base_url, endpoint.http_retries)


def _check_key(endpoint: Endpoint, owner: str) -> None:
    if not endpoint.api_key:
        raise ConfigurationError(
            f"{owner} needs an API key for {endpoint.base_url}: set OPENAI_API_KEY (any "
            "non-empty value for a local server) or pass api_key=")


def _http_client(endpoint: Endpoint, **settings: Any) -> Any:
    """A pooled HTTP client (``openai``'s defaults), behind the endpoint's rate limiter when
    one is set for its base URL (by this judge or another one)."""
    import openai

    if endpoint.rate_limit is not None:
        _limiter(endpoint.base_url, endpoint.rate_limit)
    limiter = _limiters.get(endpoint.base_url)
    if limiter is not None:
        settings["transport"] = _limited_transport(limiter)
    return openai.DefaultHttpxClient(**settings)


def _new_client(endpoint: Endpoint, owner: str) -> Any:
    import openai

    _check_key(endpoint, owner)
    return openai.OpenAI(base_url=endpoint.base_url, api_key=endpoint.api_key,
                         max_retries=endpoint.http_retries, timeout=endpoint.timeout_s,
                         http_client=_http_client(endpoint))


class _EndpointLimiter:
    """The permits of one endpoint; asking for a stricter rate tightens it for every client."""

    def __init__(self) -> None:
        self.rate = float("inf")
        self._limiter: Any = None

    def tighten(self, rate: float) -> None:
        if rate < self.rate:
            from pyrate_limiter import Limiter, Rate

            per = Fraction(rate).limit_denominator(1000)  # n requests per d seconds
            self._limiter = Limiter(Rate(per.numerator, per.denominator * 1000), buffer_ms=1)
            self.rate = rate

    def try_acquire(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return self._limiter.try_acquire(name, *args, **kwargs)


def _limiter(base_url: str, rate: float) -> _EndpointLimiter:
    limiter = _limiters.setdefault(base_url, _EndpointLimiter())
    limiter.tighten(rate)
    return limiter


def _limited_transport(limiter: _EndpointLimiter) -> Any:
    """pyrate_limiter's transport for the HTTP library this ``openai`` is built on (recent
    releases use ``httpx2``, earlier ones ``httpx``)."""
    import importlib

    import openai

    library = http_library().__name__
    module = importlib.import_module(f"pyrate_limiter.extras.{library}_limiter")
    return module.RateLimiterTransport(limiter, limits=openai.DEFAULT_CONNECTION_LIMITS)


def reset() -> None:
    """Forget every client and limiter (tests use it between endpoints)."""
    with _lock:
        for client in [*_clients.values(), *_json_endpoints.values()]:
            client.close()
        _clients.clear()
        _json_endpoints.clear()
        _limiters.clear()
