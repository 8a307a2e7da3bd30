"""Judge requests to the providers LiteLLM speaks (Anthropic, Gemini, Bedrock, Ollama …).

LiteLLM translates the judge's chat request — messages, ``temperature``, the JSON-schema
``response_format`` (for Anthropic, a forced tool call) — into the provider's API and its
answer back into a chat completion, so the rest of the judgement (verdict parsing, re-asking
malformed answers, tracing, token counts) is the same as for OpenAI-compatible endpoints.
Parameters a provider does not take are dropped (``drop_params``): a model without structured
output still gets the instructions asking for the JSON verdict, and a malformed answer is
asked again.

LiteLLM's own retries are turned off; requests go through the judges' :class:`RetryPolicy`
(429/5xx/lost connections, honouring ``Retry-After``) and pay a permit of the endpoint's rate
limiter before every attempt, like requests on the OpenAI-compatible route.

The call runs with OpenTelemetry's instrumentation suppressed: the judge's own span records
it, and a LiteLLM instrumentor the app turned on (``spyglass.autolog()``) would record it a
second time, counting its tokens and cost twice.

LiteLLM is the ``[litellm]`` extra, imported on first use; importing it here keeps it from
fetching its price map over the network (``LITELLM_LOCAL_MODEL_COST_MAP``, unless set) and
from printing help banners on errors.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any

from opentelemetry import context as otel_context

from spyglass.errors import InvalidArgumentError
from spyglass.extras import require_extra

from .http import EndpointStatusError, EndpointUnreachable, RetryPolicy, fail
from .model import Endpoint

EXTRA = "litellm"

_import_lock = threading.Lock()
_module: ModuleType | None = None


def litellm_module() -> ModuleType:
    """The ``litellm`` module, imported once (it takes seconds) and set up quietly."""
    global _module
    if _module is None:
        with _import_lock:
            if _module is None:
                os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
                import litellm

                litellm.suppress_debug_info = True
                _module = litellm
    return _module


def check_provider(provider: str, model_id: str) -> None:
    """Typed errors unless LiteLLM is installed and knows ``provider``."""
    require_extra(EXTRA, needed_by=f"judge model {model_id!r}", modules=("litellm",))
    known = {str(getattr(p, "value", p)) for p in litellm_module().provider_list}
    if provider not in known:
        raise InvalidArgumentError(
            f"judge model {model_id!r}: provider {provider!r} is not supported; use "
            "'openai:/<model>' for any OpenAI-compatible endpoint, or a provider LiteLLM "
            "knows, e.g. 'anthropic:/<model>', 'gemini:/<model>', 'bedrock:/<model>', "
            "'ollama:/<model>'"
        )


class LiteLLMEndpoint:
    """Chat completions from one provider through LiteLLM, retried and paced (thread-safe).

    ``pace`` waits for a permit of the endpoint's rate limiter; it is called before every
    attempt, retries included.
    """

    def __init__(self, endpoint: Endpoint, pace: Callable[[], None]) -> None:
        if endpoint.litellm_provider is None:
            raise ValueError("a LiteLLM endpoint needs a provider")
        self.provider = endpoint.litellm_provider
        self.base_url = endpoint.where
        self.max_retries = endpoint.http_retries
        self._settings: dict[str, Any] = {"timeout": endpoint.timeout_s}
        if endpoint.base_url:
            self._settings["api_base"] = endpoint.base_url
        if endpoint.api_key:
            self._settings["api_key"] = endpoint.api_key
        self._pace = pace
        import openai  # LiteLLM's errors are the openai package's error classes

        self._errors = openai
        self._retries = RetryPolicy(endpoint.http_retries, (openai.APIConnectionError,))

    def chat(self, body: dict[str, Any]) -> dict[str, Any]:
        """The chat completion answered to ``body`` (an OpenAI chat request), as JSON.
        Raises :class:`EndpointStatusError` for an error status (once retries are spent),
        :class:`EndpointUnreachable` when no answer came."""
        request = {
            **body,
            **self._settings,
            "model": f"{self.provider}/{body['model']}",
            "num_retries": 0,
            "max_retries": 0,
            "drop_params": True,
        }
        return self._retries.call(lambda: self._send(request))

    def _send(self, request: dict[str, Any]) -> dict[str, Any]:
        self._pace()
        token = otel_context.attach(
            otel_context.set_value(otel_context._SUPPRESS_INSTRUMENTATION_KEY, True)
        )
        try:
            response = litellm_module().completion(**request)
        except self._errors.APIStatusError as exc:
            lost = _lost_connection(exc)
            if lost is not None:
                raise EndpointUnreachable(f"{type(lost).__name__}: {lost}") from exc
            fail(EndpointStatusError(exc.status_code, _detail(exc), _headers(exc)))
        finally:
            otel_context.detach(token)
        answer = response.model_dump()
        if not isinstance(answer, dict):
            raise ValueError(f"LiteLLM answered {type(response).__name__}, not a completion")
        return answer

    def close(self) -> None:
        """Nothing to release: LiteLLM keeps its own connection pools."""


def _lost_connection(exc: BaseException) -> BaseException | None:
    """The innermost transport error (connection refused, timeout …) behind ``exc``: LiteLLM
    reports those as HTTP 500 from the provider, though no answer came."""
    found = None
    seen = exc.__cause__ or exc.__context__
    for _ in range(10):
        if seen is None:
            break
        if any(
            k.__name__ in ("TransportError", "APIConnectionError")
            and k.__module__.partition(".")[0] in ("httpx", "httpx2", "openai")
            for k in type(seen).__mro__
        ):
            found = seen
        seen = seen.__cause__ or seen.__context__
    return found


def _headers(exc: Any) -> Any:
    """The provider's response headers (LiteLLM keeps them apart from the error's own)."""
    headers = getattr(exc, "litellm_response_headers", None)
    if headers is None:
        response = getattr(exc, "response", None)
        headers = getattr(response, "headers", None)
    return headers if headers is not None else {}


def _detail(exc: Any) -> str:
    """The provider's message, without LiteLLM's ``litellm.<Error>: `` prefix."""
    text = str(getattr(exc, "message", None) or exc)
    prefix, sep, rest = text.partition(": ")
    return (rest if sep and prefix.startswith("litellm.") else text)[:300]
