"""Cost (USD) of an LLM call from its token counts and a price table.

The collector stamps a cost on every LLM span so that traces can be summed and compared
without each app reporting prices itself. Prices come from ``prices.json``, which ships with
the package, and an optional override file (JSON or TOML, same format) whose models are
merged over it, so a deployment can correct a stale price or add a private model without a
release.

Format (prices are USD per 1M tokens; ``cached_input`` and ``provider`` are optional)::

    {"version": 1, "unit": "USD per 1M tokens",
     "models": {"gpt-4o-mini": {"provider": "openai", "input": 0.15, "output": 0.60,
                                "cached_input": 0.075}}}

:meth:`PriceTable.cost` runs once per LLM span on the ingest hot path, so resolving a span's
model name to a price (exact name, then without a provider prefix, then the longest known
prefix) is done once per distinct name and remembered in a dict.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

from spyglass.config_files import read_config_file
from spyglass.errors import ConfigurationError

FORMAT_VERSION = 1
UNIT = "USD per 1M tokens"
TOKENS_PER_UNIT = 1_000_000

_PRICE_FIELDS = ("input", "output", "cached_input")
_MODEL_FIELDS = frozenset(("provider", *_PRICE_FIELDS))
_FILE_FIELDS = frozenset(("version", "unit", "models"))

# Characters that may follow a known model name in a versioned/dated variant
# (``gpt-4o-2024-08-06``, ``claude-3-5-sonnet@20240620``, ``...-v1:0``). A bare prefix match
# would let ``gpt-4`` price ``gpt-4.5-preview`` or ``o1`` price ``o1x``.
_VARIANT_SEPARATORS = frozenset("-_:@")

# AWS Bedrock model ids: ``anthropic.claude-...`` or ``us.anthropic.claude-...``.
_BEDROCK_PREFIX = re.compile(r"^(?:[a-z]{2}\.)?(?:anthropic|meta|mistral|amazon|cohere|ai21)\.")

_RESOLVED_CACHE_LIMIT = 4096
"""Distinct model names remembered; a span can carry any string, so the memo is bounded."""


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """Prices of one model in USD per 1M tokens."""

    input: float
    output: float
    cached_input: float | None = None
    provider: str | None = None


@dataclass(frozen=True)
class PriceTable:
    """Model name (lower case) -> price, with memoised name resolution.

    Build it with :meth:`load`; the constructor takes already validated prices.
    """

    models: Mapping[str, ModelPrice]
    _resolved: dict[str, ModelPrice | None] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _by_length: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        lowered = {name.lower(): price for name, price in self.models.items()}
        object.__setattr__(self, "models", lowered)
        object.__setattr__(self, "_by_length", tuple(sorted(lowered, key=len, reverse=True)))

    @classmethod
    def load(cls, override_path: str | None = None) -> PriceTable:
        """The shipped price table, with the models of ``override_path`` (if any) merged over it."""
        shipped = files("spyglass.collector.genai") / "prices.json"
        models = _parse_price_file(
            json.loads(shipped.read_text(encoding="utf-8")), "prices.json (shipped)"
        )
        if override_path is not None:
            override = read_config_file(override_path, "price file")
            models.update(_parse_price_file(override, override_path))
        return cls(models)

    def price(self, model: str | None) -> ModelPrice | None:
        """The price of ``model``, matched leniently (see module docstring); None if unknown."""
        if not model:
            return None
        resolved = self._resolved
        try:
            return resolved[model]
        except KeyError:
            pass
        price = self._resolve(model)
        if len(resolved) >= _RESOLVED_CACHE_LIMIT:
            resolved.clear()
        resolved[model] = price
        return price

    def cost(
        self, model: str | None, input_tokens: int | None, output_tokens: int | None
    ) -> float | None:
        """USD cost of a call; None if the model is unknown or no token count is known.

        A missing (None or negative) count on one side counts as 0 tokens.
        """
        inputs = input_tokens if input_tokens is not None and input_tokens >= 0 else None
        outputs = output_tokens if output_tokens is not None and output_tokens >= 0 else None
        if inputs is None and outputs is None:
            return None
        price = self.price(model)
        if price is None:
            return None
        total = 0.0
        if inputs is not None:
            total += inputs * price.input
        if outputs is not None:
            total += outputs * price.output
        return total / TOKENS_PER_UNIT

    def _resolve(self, model: str) -> ModelPrice | None:
        models = self.models
        for candidate in _candidate_names(model.strip().lower()):
            price = models.get(candidate)
            if price is not None:
                return price
        return self._longest_prefix(_strip_provider(model.strip().lower()))

    def _longest_prefix(self, name: str) -> ModelPrice | None:
        for known in self._by_length:  # longest first, so the first hit is the longest
            if (
                len(known) < len(name)
                and name.startswith(known)
                and name[len(known)] in _VARIANT_SEPARATORS
            ):
                return self.models[known]
        return None


def _candidate_names(name: str) -> Iterator[str]:
    """The lower-cased name as given, then without its provider prefix."""
    yield name
    stripped = _strip_provider(name)
    if stripped != name:
        yield stripped


def _strip_provider(name: str) -> str:
    """``openai/gpt-4o`` / ``models/gemini-1.5-pro`` / ``us.anthropic.claude-...`` -> bare name."""
    name = name.rsplit("/", 1)[-1]
    return _BEDROCK_PREFIX.sub("", name, count=1)


# --- reading and validating price files -------------------------------------------------


def _parse_price_file(data: Any, path: str) -> dict[str, ModelPrice]:
    if not isinstance(data, dict):
        raise ConfigurationError(
            f'price file {path}: expected an object like {{"version": 1, "models": {{...}}}}, '
            f"got {type(data).__name__}"
        )
    _check_header(data, path)
    models = data.get("models")
    if not isinstance(models, dict):
        raise ConfigurationError(
            f'price file {path}: needs a "models" object mapping model names to '
            '{"input": ..., "output": ...} prices in USD per 1M tokens'
        )
    return {
        _model_key(name, path): _parse_model(name, entry, path) for name, entry in models.items()
    }


def _check_header(data: dict[str, Any], path: str) -> None:
    unknown = sorted(set(data) - _FILE_FIELDS)
    if unknown:
        raise ConfigurationError(
            f"price file {path}: unknown top-level field(s) {', '.join(map(repr, unknown))}; "
            f"allowed: {', '.join(sorted(_FILE_FIELDS))}"
        )
    version = data.get("version", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise ConfigurationError(
            f'price file {path}: "version" is {version!r}; this Spyglass reads version '
            f"{FORMAT_VERSION}"
        )
    unit = data.get("unit", UNIT)
    if unit != UNIT:
        raise ConfigurationError(
            f'price file {path}: "unit" is {unit!r}; prices must be given in {UNIT!r} '
            "(convert them and set the unit accordingly)"
        )


def _model_key(name: Any, path: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ConfigurationError(f"price file {path}: model names must be non-empty strings")
    return name.strip().lower()


def _parse_model(name: str, entry: Any, path: str) -> ModelPrice:
    where = f"price file {path}: model {name!r}"
    if not isinstance(entry, dict):
        raise ConfigurationError(
            f'{where}: expected an object like {{"input": 0.15, "output": 0.60}}, '
            f"got {type(entry).__name__}"
        )
    unknown = sorted(set(entry) - _MODEL_FIELDS)
    if unknown:
        raise ConfigurationError(
            f"{where}: unknown field(s) {', '.join(map(repr, unknown))}; "
            f"allowed: {', '.join(sorted(_MODEL_FIELDS))}"
        )
    for required in ("input", "output"):
        if required not in entry:
            raise ConfigurationError(
                f'{where}: missing "{required}" (price in USD per 1M tokens; use 0 if free)'
            )
    provider = entry.get("provider")
    if provider is not None and not isinstance(provider, str):
        raise ConfigurationError(f'{where}: "provider" must be a string, got {provider!r}')
    cached = entry.get("cached_input")
    return ModelPrice(
        input=_price(entry["input"], "input", where),
        output=_price(entry["output"], "output", where),
        cached_input=None if cached is None else _price(cached, "cached_input", where),
        provider=provider,
    )


def _price(value: Any, name: str, where: str) -> float:
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not is_number or not math.isfinite(value) or value < 0:
        raise ConfigurationError(
            f'{where}: "{name}" must be a non-negative number of USD per 1M tokens, got {value!r}'
        )
    return float(value)
