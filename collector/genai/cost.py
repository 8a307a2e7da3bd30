"""Cost (USD) of an LLM call from its token counts and a price table.

The collector stamps a cost on every LLM span so that traces can be summed and compared
without each app reporting prices itself. Prices come from the ``genai-prices`` package
(pydantic's maintained price data for OpenAI, Anthropic, Google, Mistral, Bedrock, Azure and
more; upgrading the package updates them; nothing is fetched at run time), and an optional
override file (``--price-file``, JSON or TOML) whose models are looked up first, so a
deployment can correct a price or add a private model without a release.

Override format (prices are USD per 1M tokens; ``cached_input`` and ``provider`` are
optional)::

    {"version": 1, "unit": "USD per 1M tokens",
     "models": {"gpt-4o-mini": {"provider": "openai", "input": 0.15, "output": 0.60,
                                "cached_input": 0.075}}}

A model neither knows has no cost (never a guessed one); :meth:`PriceTable.cost` returns
None and the ingest path counts it.

:meth:`PriceTable.cost` runs once per LLM span on the ingest hot path, so resolving a span's
model name to a price is done once per distinct name and remembered in a dict. The order:
the override file's exact name (also without a provider prefix); genai-prices' matching
(also with the provider prefix as a hint), where an override of the model it found wins,
so overriding ``gpt-4o`` also prices ``gpt-4o-2024-08-06``; last the override file's
longest known prefix (``acme-llm`` prices ``acme-llm-v2``). Prices that change with the
prompt's size (tiers) are computed by genai-prices per call; flat prices by plain arithmetic.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from genai_prices import Usage
from genai_prices import types as catalog_types
from genai_prices.data_snapshot import DataSnapshot, get_snapshot

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
    tiers: catalog_types.ModelPrice | None = field(default=None, compare=False, repr=False)
    """genai-prices' price when it varies with the prompt's size (``input``/``output`` are
    then the base prices); None for a flat price."""


@dataclass(frozen=True)
class PriceTable:
    """Override prices by model name (lower case) over a genai-prices catalog, with
    memoised name resolution.

    Build it with :meth:`load`; the constructor takes already validated prices. ``catalog``
    None prices only the given models.
    """

    models: Mapping[str, ModelPrice]
    catalog: DataSnapshot | None = field(default=None, repr=False, compare=False)
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
        """genai-prices' catalog, with the models of ``override_path`` (if any) over it."""
        models: dict[str, ModelPrice] = {}
        if override_path is not None:
            override = read_config_file(override_path, "price file")
            models.update(_parse_price_file(override, override_path))
        return cls(models, get_snapshot())

    def price(self, model: str | None, provider: str | None = None) -> ModelPrice | None:
        """The price of ``model``, matched leniently (see module docstring); None if unknown.

        ``provider`` (the span's ``gen_ai.system`` / ``gen_ai.provider.name``) helps find
        models whose name alone names no provider (``text-embedding-3-small``).
        """
        if not model:
            return None
        if provider and "/" not in model:
            model = f"{provider}/{model}"
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
        self,
        model: str | None,
        input_tokens: int | None,
        output_tokens: int | None,
        provider: str | None = None,
    ) -> float | None:
        """USD cost of a call; None if the model is unknown or no token count is known.

        A missing (None or negative) count on one side counts as 0 tokens.
        """
        inputs = input_tokens if input_tokens is not None and input_tokens >= 0 else None
        outputs = output_tokens if output_tokens is not None and output_tokens >= 0 else None
        if inputs is None and outputs is None:
            return None
        price = self.price(model, provider)
        if price is None:
            return None
        if price.tiers is not None:
            usage = Usage(input_tokens=inputs or 0, output_tokens=outputs or 0)
            return float(price.tiers.calc_price(usage)["total_price"])
        total = 0.0
        if inputs is not None:
            total += inputs * price.input
        if outputs is not None:
            total += outputs * price.output
        return total / TOKENS_PER_UNIT

    def _resolve(self, model: str) -> ModelPrice | None:
        name = model.strip().lower()
        models = self.models
        for candidate in _candidate_names(name):
            price = models.get(candidate)
            if price is not None:
                return price
        if self.catalog is not None:
            found = _from_catalog(self.catalog, name)
            if found is not None:  # an override of the model the catalog found wins
                model_id, price = found
                return models.get(model_id, price)
        return self._longest_prefix(_strip_provider(name))

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


# --- genai-prices' catalog ----------------------------------------------------------------


def _from_catalog(catalog: DataSnapshot, name: str) -> tuple[str, ModelPrice | None] | None:
    """The catalog's model id and current price for ``name``: matched as given, then without
    a provider prefix, then with that prefix (``openai/``, Bedrock's ``anthropic.``) as the
    provider. None when no provider lists the model; the price is None when the model has
    no input token price (an image model: a token cost would be wrong)."""
    hint = _provider_hint(name)
    attempts: list[tuple[str, str | None]] = [(c, None) for c in _candidate_names(name)]
    if hint is not None:
        attempts.append((_strip_provider(name), hint))
    for ref, provider_id in attempts:
        try:
            provider, info = catalog.find_provider_model(ref, None, provider_id, None)
        except LookupError:
            continue
        price = _model_price(info.get_prices(datetime.now(timezone.utc)), provider.id)
        return info.id.lower(), price
    return None


def _provider_hint(name: str) -> str | None:
    """``openai`` of ``openai/gpt-4o``; ``anthropic`` of ``us.anthropic.claude-…``."""
    if "/" in name:
        return name.split("/", 1)[0] or None
    bedrock = _BEDROCK_PREFIX.match(name)
    if bedrock is not None:
        return bedrock.group().rstrip(".").rsplit(".", 1)[-1]
    return None


def _model_price(price: catalog_types.ModelPrice, provider: str) -> ModelPrice | None:
    input_price, output_price = price.input_mtok, price.output_mtok
    if input_price is None:
        return None
    if output_price is None:
        output_price = Decimal(0)  # embedding models: no output tokens
    cached = price.cache_read_mtok
    tiered = any(
        isinstance(p, catalog_types.TieredPrices) for p in (input_price, output_price, cached)
    )
    return ModelPrice(
        input=_base(input_price),
        output=_base(output_price),
        cached_input=None if cached is None else _base(cached),
        provider=provider,
        tiers=price if tiered else None,
    )


def _base(price: Decimal | catalog_types.TieredPrices) -> float:
    return float(price.base if isinstance(price, catalog_types.TieredPrices) else price)


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
