"""Which model a judge asks, and where: model ids and endpoint settings.

Model ids follow the ``"<provider>:/<model>"`` form (``"openai:/gpt-4o-mini"``); ``"openai:
gpt-4o-mini"`` and a bare ``"gpt-4o-mini"`` mean the same. Two routes lead to a model:

- ``openai`` speaks the OpenAI chat completions API over a pooled HTTP client, so any server
  with that API works once ``base_url`` (or ``OPENAI_BASE_URL``) points at it;
- every other provider LiteLLM knows (``"anthropic:/claude-3-5-haiku-latest"``,
  ``"gemini:/gemini-2.0-flash"``, ``"bedrock:/…"``, ``"ollama:/llama3"``) goes through LiteLLM,
  from the ``[litellm]`` extra; ``"litellm:/<provider>/<model>"`` names a LiteLLM model
  string outright (``"litellm:/openai/gpt-4o-mini"`` sends an OpenAI model through LiteLLM).
  Those providers read their own keys and endpoints (``ANTHROPIC_API_KEY`` …) unless
  ``base_url``/``api_key`` are given; ``OPENAI_*`` settings are never sent to them.

Settings are taken from the arguments first, then the environment, read when the judge is
first used (so setting ``OPENAI_BASE_URL`` after building the scorers still counts):

- ``SPYGLASS_JUDGE_MODEL``: the default judge model id (else ``openai:/gpt-4o-mini``);
- ``OPENAI_BASE_URL``, ``OPENAI_API_KEY``: the OpenAI-compatible endpoint and its key;
- ``SPYGLASS_JUDGE_RATE_LIMIT``: requests per second allowed to one endpoint (unset: no limit).
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass

from spyglass.errors import ConfigurationError, InvalidArgumentError

DEFAULT_MODEL = "openai:/gpt-4o-mini"
DEFAULT_EMBEDDING_MODEL = "openai:/text-embedding-3-small"
DEFAULT_BASE_URL = "https://api.openai.com/v1"
OPENAI = "openai"
"""The provider spoken directly (any OpenAI-compatible endpoint)."""
LITELLM = "litellm"
"""The provider prefix naming a LiteLLM model string (``"litellm:/<provider>/<model>"``)."""
DEFAULT_HTTP_RETRIES = 4
"""Retries of a request answered 429, 5xx, or not at all (the ``openai`` client's own retry)."""
DEFAULT_TIMEOUT_S = 120.0

_MODEL_ID = re.compile(r"^(?:(?P<provider>[A-Za-z][\w.-]*):/?)?(?P<name>[^\s:/][^\s]*)$")


def parse_model_id(model_id: str) -> tuple[str, str]:
    """``"openai:/gpt-4o-mini"`` → ``("openai", "gpt-4o-mini")``; typed error if malformed."""
    match = _MODEL_ID.match(model_id.strip()) if isinstance(model_id, str) else None
    if match is None:
        raise InvalidArgumentError(
            f"judge model {model_id!r} is not a model id; write '<provider>:/<model>', "
            "e.g. 'openai:/gpt-4o-mini' or 'anthropic:/claude-3-5-haiku-latest'"
        )
    return (match.group("provider") or OPENAI).lower(), match.group("name")


def _route(model_id: str, provider: str, name: str) -> tuple[str, str, bool]:
    """(provider, model name, through LiteLLM?) of a parsed id; a provider other than
    ``openai`` is checked against LiteLLM's list (which needs the ``[litellm]`` extra)."""
    if provider == OPENAI:
        return provider, name, False
    if provider == LITELLM:
        provider, _, name = name.partition("/")
        if not name:
            raise InvalidArgumentError(
                f"judge model {model_id!r}: write 'litellm:/<provider>/<model>', e.g. "
                "'litellm:/anthropic/claude-3-5-haiku-latest'"
            )
    from .via_litellm import check_provider

    check_provider(provider.lower(), model_id)
    return provider.lower(), name, True


@dataclass(frozen=True)
class Endpoint:
    """Where requests go and how they are paced; the key of shared clients and limiters."""

    base_url: str
    api_key: str | None
    http_retries: int
    timeout_s: float
    rate_limit: float | None
    litellm_provider: str | None = None
    """The LiteLLM provider requests go to (None: the OpenAI-compatible ``base_url``);
    ``base_url`` is then empty unless one was given, and LiteLLM picks the provider's own."""

    @property
    def where(self) -> str:
        """The endpoint as messages name it, and the key of its rate limiter."""
        if self.base_url or self.litellm_provider is None:
            return self.base_url
        return f"LiteLLM's {self.litellm_provider} endpoint"


@dataclass(frozen=True)
class JudgeModel:
    """A model id plus the endpoint settings given as arguments (None: from the environment).

    ``provider`` and ``name`` are those requests name (``"litellm:/anthropic/claude-x"`` has
    provider ``anthropic`` and name ``claude-x``); ``via_litellm`` is the route.
    """

    model_id: str
    provider: str
    name: str
    base_url: str | None = None
    api_key: str | None = None
    rate_limit: float | None = None
    http_retries: int | None = None
    timeout_s: float | None = None
    via_litellm: bool = False

    def endpoint(self) -> Endpoint:
        """The endpoint settings, resolving unset ones from the environment now."""
        rate = self.rate_limit
        if rate is None and os.environ.get("SPYGLASS_JUDGE_RATE_LIMIT"):
            rate = _rate(os.environ["SPYGLASS_JUDGE_RATE_LIMIT"], "SPYGLASS_JUDGE_RATE_LIMIT")
        retries = DEFAULT_HTTP_RETRIES if self.http_retries is None else self.http_retries
        timeout_s = DEFAULT_TIMEOUT_S if self.timeout_s is None else self.timeout_s
        if self.via_litellm:  # the provider's own settings, read by LiteLLM, unless given
            return Endpoint(
                base_url=(self.base_url or "").rstrip("/"),
                api_key=self.api_key,
                http_retries=retries,
                timeout_s=timeout_s,
                rate_limit=rate,
                litellm_provider=self.provider,
            )
        base_url = self.base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
        return Endpoint(
            base_url=base_url.rstrip("/"),
            api_key=self.api_key or os.environ.get("OPENAI_API_KEY") or None,
            http_retries=retries,
            timeout_s=timeout_s,
            rate_limit=rate,
        )


def resolve_model(
    model: str | None = None,
    *,
    default: str = DEFAULT_MODEL,
    base_url: str | None = None,
    api_key: str | None = None,
    rate_limit: float | None = None,
    http_retries: int | None = None,
    timeout_s: float | None = None,
    litellm: bool = True,
) -> JudgeModel:
    """Check the arguments now (a typo fails when the scorer is built, not on every row).

    ``litellm=False``: only OpenAI-compatible models are accepted (for callers that speak
    the OpenAI API themselves, such as embeddings).
    """
    model_id = model if model is not None else os.environ.get("SPYGLASS_JUDGE_MODEL") or default
    provider, name = parse_model_id(model_id)
    if not litellm and provider != OPENAI:
        raise InvalidArgumentError(
            f"model {model_id!r}: only OpenAI-compatible models are supported here; use "
            "'openai:/<model>' and point OPENAI_BASE_URL (or base_url=) at the endpoint"
        )
    provider, name, via_litellm = _route(model_id, provider, name)
    if rate_limit is not None:
        rate_limit = _rate(rate_limit, "rate_limit")
    if http_retries is not None and (not isinstance(http_retries, int) or http_retries < 0):
        raise InvalidArgumentError(f"max_retries must be an integer >= 0, got {http_retries!r}")
    if timeout_s is not None and not (isinstance(timeout_s, (int, float)) and timeout_s > 0):
        raise InvalidArgumentError(f"timeout must be a number of seconds > 0, got {timeout_s!r}")
    return JudgeModel(
        model_id.strip(),
        provider,
        name,
        base_url=base_url,
        api_key=api_key,
        rate_limit=rate_limit,
        http_retries=http_retries,
        timeout_s=timeout_s,
        via_litellm=via_litellm,
    )


def _rate(value: object, where: str) -> float:
    try:
        rate = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        rate = math.nan
    if not (math.isfinite(rate) and rate > 0):
        error = ConfigurationError if where.isupper() else InvalidArgumentError
        raise error(f"{where} must be a number of requests per second > 0, got {value!r}")
    return rate
