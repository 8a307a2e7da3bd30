"""Shared HTTP clients per endpoint, paced by one shared rate limiter.

Judges run on many threads at once; they share the client of their endpoint (so connections
are pooled) and, when a rate limit is set, a single limiter per base URL (so the limit holds
for the endpoint as a whole, whichever judges and threads send; clients created for that
base URL after a limit was set use it too, and the strictest rate asked for wins). Every
request pays a permit — including retries after a 429 or 5xx, which honour ``Retry-After``:
judges' connections ask for it before each request (:func:`wait_for_permit`), clients of the
``openai`` package's HTTP library in their transport (``pyrate_limiter``'s).

The evaluator service also sets a rate of its own for every endpoint (:func:`set_service_rate`:
its share of a service-wide limit, which changes as workers come and go); unlike a judge's
``rate_limit`` it may go up as well as down, and a judge's stricter rate still wins.

Judges ask through :func:`chat_endpoint`: pooled connections for OpenAI-compatible endpoints
(:func:`json_endpoint`, see :mod:`.http` and :mod:`.connections`) or LiteLLM for other
providers (see :mod:`.via_litellm`, whose requests take their permit from the same limiters through
:func:`wait_for_permit`, keyed by the endpoint's ``where``); scorers that want the ``openai``
client's response models (embeddings) use :func:`openai_client`.
"""

from __future__ import annotations

import functools
import math
import threading
import urllib.parse
import urllib.request
from collections.abc import Callable
from fractions import Fraction
from typing import TYPE_CHECKING, Any, TypeVar

from spyglass.errors import ConfigurationError

from .connections import UNREACHABLE, KeepAliveConnections
from .http import JsonEndpoint, http_library
from .model import Endpoint

if TYPE_CHECKING:
    from .via_litellm import LiteLLMEndpoint

T = TypeVar("T")

_lock = threading.Lock()
_clients: dict[Endpoint, Any] = {}
_json_endpoints: dict[Endpoint, JsonEndpoint] = {}
_litellm_endpoints: dict[Endpoint, LiteLLMEndpoint] = {}
_limiters: dict[str, _EndpointLimiter] = {}
_service_rate: float | None = None


def openai_client(endpoint: Endpoint, owner: str) -> Any:
    """The shared ``openai.OpenAI`` client for ``endpoint`` (created on first use)."""
    return _shared(_clients, endpoint, lambda: _new_client(endpoint, owner))


def json_endpoint(endpoint: Endpoint, owner: str) -> JsonEndpoint:
    """The shared JSON poster for ``endpoint`` (created on first use)."""
    return _shared(_json_endpoints, endpoint, lambda: _new_json_endpoint(endpoint, owner))


def chat_endpoint(endpoint: Endpoint, owner: str) -> JsonEndpoint | LiteLLMEndpoint:
    """The shared chat-completion endpoint for ``endpoint``: LiteLLM when it names a LiteLLM
    provider, else the JSON poster."""
    if endpoint.litellm_provider is None:
        return json_endpoint(endpoint, owner)
    return _shared(_litellm_endpoints, endpoint, lambda: _new_litellm_endpoint(endpoint))


def _new_litellm_endpoint(endpoint: Endpoint) -> LiteLLMEndpoint:
    from .via_litellm import LiteLLMEndpoint

    return LiteLLMEndpoint(endpoint, lambda: wait_for_permit(endpoint))


def wait_for_permit(endpoint: Endpoint) -> None:
    """Wait for a permit of ``endpoint``'s rate limiter (none set: return at once), for
    requests whose HTTP transport is not Spyglass's own."""
    with _lock:
        if endpoint.rate_limit is not None or _service_rate is not None:
            limiter: _EndpointLimiter | None = _limiter(endpoint.where, endpoint.rate_limit)
        else:
            limiter = _limiters.get(endpoint.where)
    if limiter is not None:
        limiter.try_acquire("judge")


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
    headers = {"Authorization": f"Bearer {endpoint.api_key}"}
    if _proxied(endpoint.base_url):
        client = _http_client(
            endpoint, base_url=endpoint.base_url, timeout=endpoint.timeout_s, headers=headers
        )
        return JsonEndpoint(client, endpoint.base_url, endpoint.http_retries)
    if endpoint.rate_limit is not None or _service_rate is not None:
        _limiter(endpoint.base_url, endpoint.rate_limit)
    connections = KeepAliveConnections(
        endpoint.base_url,
        headers,
        endpoint.timeout_s,
        permit=lambda: wait_for_permit(endpoint),
        ssl_context=_ssl_context() if endpoint.base_url.startswith("https:") else None,
    )
    return JsonEndpoint(connections, endpoint.base_url, endpoint.http_retries, UNREACHABLE)


def _proxied(base_url: str) -> bool:
    """Whether a proxy is set in the environment for ``base_url``'s scheme (``HTTPS_PROXY``,
    ``HTTP_PROXY``, ``ALL_PROXY``): such endpoints go through the ``openai`` package's HTTP
    library, which applies the proxy and ``NO_PROXY`` as the ``openai`` client does."""
    proxies = urllib.request.getproxies_environment()
    scheme = urllib.parse.urlsplit(base_url).scheme
    return bool(proxies.get(scheme) or proxies.get("all"))


@functools.cache
def _ssl_context() -> Any:
    """TLS settings as the ``openai`` client's HTTP library makes them (certificates from
    its bundle, ``SSL_CERT_FILE``/``SSL_CERT_DIR`` when set)."""
    return http_library().create_ssl_context()


def _check_key(endpoint: Endpoint, owner: str) -> None:
    if not endpoint.api_key:
        raise ConfigurationError(
            f"{owner} needs an API key for {endpoint.base_url}: set OPENAI_API_KEY (any "
            "non-empty value for a local server) or pass api_key="
        )


def _http_client(endpoint: Endpoint, **settings: Any) -> Any:
    """A pooled HTTP client (``openai``'s defaults), behind the endpoint's rate limiter when
    one is set for its base URL (by this judge or another one)."""
    import openai

    if endpoint.rate_limit is not None or _service_rate is not None:
        _limiter(endpoint.base_url, endpoint.rate_limit)
    limiter = _limiters.get(endpoint.base_url)
    if limiter is not None:
        settings["transport"] = _limited_transport(limiter)
    return openai.DefaultHttpxClient(**settings)


def _new_client(endpoint: Endpoint, owner: str) -> Any:
    import openai

    _check_key(endpoint, owner)
    return openai.OpenAI(
        base_url=endpoint.base_url,
        api_key=endpoint.api_key,
        max_retries=endpoint.http_retries,
        timeout=endpoint.timeout_s,
        http_client=_http_client(endpoint),
    )


class _EndpointLimiter:
    """The permits of one endpoint, at the strictest of the rates judges asked for (asking
    for a stricter one tightens it for every client) and the service's rate, if set."""

    def __init__(self, service_rate: float | None = None) -> None:
        self.rate = float("inf")
        self._asked = float("inf")
        self._service = service_rate
        self._limiter: Any = None
        self._apply()

    def tighten(self, rate: float) -> None:
        if rate < self._asked:
            self._asked = rate
            self._apply()

    def set_service_rate(self, rate: float | None) -> None:
        self._service = rate
        self._apply()

    def _apply(self) -> None:
        rate = min(self._asked, self._service if self._service is not None else float("inf"))
        if rate == self.rate:
            return
        self._limiter = None
        if rate != float("inf"):
            from pyrate_limiter import Limiter, Rate

            self._limiter = Limiter(_pyrate(Rate, rate), buffer_ms=1)
        self.rate = rate

    def try_acquire(self, name: str, *args: Any, **kwargs: Any) -> Any:
        limiter = self._limiter
        return True if limiter is None else limiter.try_acquire(name, *args, **kwargs)


def _pyrate(rate_class: Any, rate: float) -> Any:
    """``rate`` requests per second as pyrate_limiter's n requests per d milliseconds (a
    rate below one request a second becomes one request per 1/rate seconds)."""
    if rate < 1:
        return rate_class(1, max(1, round(1000 / rate)))
    per = Fraction(rate).limit_denominator(1000)  # n requests per d seconds
    return rate_class(per.numerator, per.denominator * 1000)


def _limiter(base_url: str, rate: float | None = None) -> _EndpointLimiter:
    limiter = _limiters.get(base_url)
    if limiter is None:
        limiter = _limiters[base_url] = _EndpointLimiter(_service_rate)
    if rate is not None:
        limiter.tighten(rate)
    return limiter


def set_service_rate(rate: float | None) -> None:
    """Pace every endpoint at ``rate`` requests per second (None: no service rate), those
    already in use and those first used later; a judge's own stricter ``rate_limit`` still
    wins. Call it before the judges first run: a client made while no rate of any kind was
    set has no limiter in its transport."""
    global _service_rate
    if rate is not None and not (math.isfinite(rate) and rate > 0):
        raise ConfigurationError(
            f"the judge rate must be a number of requests per second > 0, got {rate!r}"
        )
    with _lock:
        _service_rate = rate
        for limiter in _limiters.values():
            limiter.set_service_rate(rate)


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
        _litellm_endpoints.clear()
        _limiters.clear()
        _ssl_context.cache_clear()
    set_service_rate(None)
