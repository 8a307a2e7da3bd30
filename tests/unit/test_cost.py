"""Price table loading, model-name matching and cost arithmetic (spyglass.collector.genai.cost)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spyglass.collector.genai.cost import ModelPrice, PriceTable
from spyglass.errors import ConfigurationError


@pytest.fixture(scope="module")
def table() -> PriceTable:
    return PriceTable.load()


def write_json(tmp_path: Path, data: object, name: str = "prices.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


# --- the genai-prices catalog ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "provider", "input_price", "output_price"),
    [
        ("gpt-4o-mini", None, 0.15, 0.60),
        ("GPT-4o-Mini", None, 0.15, 0.60),
        ("  gpt-4o  ", None, 2.5, 10.0),
        ("gpt-4o-mini-2024-07-18", None, 0.15, 0.60),  # a dated variant
        ("gpt-4o-2024-08-06", None, 2.5, 10.0),
        ("openai/gpt-4o", None, 2.5, 10.0),  # provider prefix
        ("claude-3-opus-20240229", None, 15.0, 75.0),
        ("anthropic.claude-3-haiku-20240307-v1:0", None, 0.25, 1.25),  # Bedrock
        ("us.anthropic.claude-3-5-sonnet-20240620-v1:0", None, 3.0, 15.0),
        ("models/gemini-2.0-flash", None, 0.10, 0.40),
        ("text-embedding-3-small", "openai", 0.02, 0.0),  # found with the span's provider
    ],
)
def test_catalog_prices(
    table: PriceTable, model: str, provider: str | None, input_price: float, output_price: float
) -> None:
    price = table.price(model, provider)
    assert price is not None
    assert (price.input, price.output) == pytest.approx((input_price, output_price))


@pytest.mark.parametrize(
    "model", ["o1x", "gpt-4oo", "llama3", "local-model", "totally-unknown", "dall-e-3", "", None]
)
def test_unknown_models_have_no_price(table: PriceTable, model: str | None) -> None:
    assert table.price(model) is None
    assert table.cost(model, 100, 100) is None


def test_resolution_is_memoised(table: PriceTable) -> None:
    first = table.price("gpt-4o-mini-2099-01-01")
    assert table._resolved["gpt-4o-mini-2099-01-01"] is first
    assert table.price("gpt-4o-mini-2099-01-01") is first
    assert (
        table.price("text-embedding-3-large", "openai")
        is table._resolved["openai/text-embedding-3-large"]
    )


def test_tiered_prices_follow_the_prompt_size(table: PriceTable) -> None:
    # gemini-1.5-pro: 1.25 / 5.00 per 1M tokens, 2.50 / 10.00 past 128k prompt tokens
    price = table.price("gemini-1.5-pro")
    assert price is not None and price.tiers is not None
    assert table.cost("gemini-1.5-pro", 1000, 1000) == pytest.approx(0.00625)
    assert table.cost("gemini-1.5-pro", 200_000, 1000) == pytest.approx(0.51)


# --- arithmetic ---------------------------------------------------------------------------


def test_cost_arithmetic_on_a_known_price(table: PriceTable) -> None:
    # gpt-4o-mini: 0.15 in / 0.60 out per 1M tokens
    assert table.cost("gpt-4o-mini", 1_000_000, 0) == pytest.approx(0.15)
    assert table.cost("gpt-4o-mini", 1000, 500) == pytest.approx(0.00045)
    assert table.cost("claude-3-opus-20240229", 2_000, 1_000) == pytest.approx(0.105)


def test_missing_side_counts_as_zero(table: PriceTable) -> None:
    assert table.cost("gpt-4o", 1000, None) == pytest.approx(0.0025)
    assert table.cost("gpt-4o", None, 1000) == pytest.approx(0.01)
    assert table.cost("gpt-4o", 0, 0) == 0.0


def test_no_tokens_is_none(table: PriceTable) -> None:
    assert table.cost("gpt-4o", None, None) is None
    assert table.cost("gpt-4o", -1, None) is None


def test_cost_returns_float(table: PriceTable) -> None:
    assert isinstance(table.cost("text-embedding-3-small", 10, None, "openai"), float)
    assert isinstance(table.cost("gemini-1.5-pro", 10, 10), float)


# --- overrides ----------------------------------------------------------------------------


def test_json_override_changes_one_model_adds_one_keeps_others(
    table: PriceTable, tmp_path: Path
) -> None:
    path = write_json(
        tmp_path,
        {
            "version": 1,
            "unit": "USD per 1M tokens",
            "models": {
                "GPT-4o": {"provider": "openai", "input": 1.0, "output": 4.0},
                "acme-llm": {"provider": "acme", "input": 0.5, "output": 1.5, "cached_input": 0.1},
            },
        },
    )
    merged = PriceTable.load(path)
    assert merged.price("gpt-4o") == ModelPrice(1.0, 4.0, None, "openai")
    assert merged.price("gpt-4o-2024-08-06").input == 1.0
    assert merged.price("acme-llm-v2") == ModelPrice(0.5, 1.5, 0.1, "acme")
    assert merged.price("gpt-4o-mini") == table.price("gpt-4o-mini")
    assert set(merged.models) == {"gpt-4o", "acme-llm"}
    assert merged.cost("acme-llm", 1_000_000, 1_000_000) == pytest.approx(2.0)


def test_exact_key_with_a_slash_wins_over_stripping(tmp_path: Path) -> None:
    path = write_json(tmp_path, {"models": {"acme/gpt-4o": {"input": 1, "output": 1}}})
    table = PriceTable.load(path)
    assert table.price("acme/gpt-4o").input == 1.0
    assert table.price("other/gpt-4o").input == 2.5


def test_toml_override(tmp_path: Path) -> None:
    path = tmp_path / "prices.toml"
    path.write_text(
        'version = 1\n[models."gpt-4o-mini"]\ninput = 1\noutput = 2\n'
        '[models.local-model]\nprovider = "vllm"\ninput = 0\noutput = 0\n',
        encoding="utf-8",
    )
    merged = PriceTable.load(str(path))
    assert merged.price("gpt-4o-mini") == ModelPrice(1.0, 2.0)
    assert merged.cost("local-model", 500, 500) == 0.0
    assert merged.price("gpt-4o").input == 2.5


def test_override_does_not_change_other_tables(table: PriceTable, tmp_path: Path) -> None:
    PriceTable.load(write_json(tmp_path, {"models": {"gpt-4o": {"input": 9, "output": 9}}}))
    assert PriceTable.load().price("gpt-4o").input == 2.5


# --- bad override files -------------------------------------------------------------------


def load_error(path: str) -> str:
    with pytest.raises(ConfigurationError) as info:
        PriceTable.load(path)
    return str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    path = str(tmp_path / "nope.json")
    message = load_error(path)
    assert path in message and "not found" in message


def test_not_json(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text("{models: ", encoding="utf-8")
    message = load_error(str(path))
    assert str(path) in message and "not valid JSON" in message


def test_not_toml(tmp_path: Path) -> None:
    path = tmp_path / "prices.toml"
    path.write_text("[models\n", encoding="utf-8")
    message = load_error(str(path))
    assert str(path) in message and "not valid TOML" in message


def test_negative_price(tmp_path: Path) -> None:
    path = write_json(tmp_path, {"models": {"gpt-4o": {"input": -1, "output": 10}}})
    message = load_error(path)
    assert path in message and "'gpt-4o'" in message
    assert '"input" must be a non-negative number' in message and "-1" in message


@pytest.mark.parametrize("value", ["2.5", True, None, float("inf")])
def test_non_numeric_price(tmp_path: Path, value: object) -> None:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"models": {"m": {"input": 1, "output": value}}}), "utf-8")
    message = load_error(str(path))
    assert "'m'" in message and '"output" must be a non-negative number' in message


def test_negative_cached_input(tmp_path: Path) -> None:
    path = write_json(tmp_path, {"models": {"m": {"input": 1, "output": 1, "cached_input": -2}}})
    assert '"cached_input" must be a non-negative number' in load_error(path)


@pytest.mark.parametrize("missing", ["input", "output"])
def test_missing_price_field(tmp_path: Path, missing: str) -> None:
    entry = {"input": 1.0, "output": 2.0}
    del entry[missing]
    path = write_json(tmp_path, {"models": {"my-model": entry}})
    message = load_error(path)
    assert path in message and "'my-model'" in message and f'missing "{missing}"' in message


def test_missing_models(tmp_path: Path) -> None:
    path = write_json(tmp_path, {"version": 1})
    message = load_error(path)
    assert path in message and '"models" object' in message


def test_top_level_not_an_object(tmp_path: Path) -> None:
    message = load_error(write_json(tmp_path, [1, 2]))
    assert "expected an object" in message and "list" in message


def test_model_entry_not_an_object(tmp_path: Path) -> None:
    message = load_error(write_json(tmp_path, {"models": {"gpt-4o": 2.5}}))
    assert "'gpt-4o'" in message and "expected an object" in message


def test_unknown_model_field_is_a_typo(tmp_path: Path) -> None:
    path = write_json(tmp_path, {"models": {"m": {"input": 1, "output": 1, "cachedinput": 1}}})
    message = load_error(path)
    assert "'m'" in message and "'cachedinput'" in message and "cached_input" in message


def test_wrong_unit_or_version(tmp_path: Path) -> None:
    unit = write_json(tmp_path, {"unit": "USD per 1K tokens", "models": {}}, "unit.json")
    assert "USD per 1M tokens" in load_error(unit)
    version = write_json(tmp_path, {"version": 2, "models": {}}, "version.json")
    assert '"version" is 2' in load_error(version)


def test_bad_provider(tmp_path: Path) -> None:
    path = write_json(tmp_path, {"models": {"m": {"input": 1, "output": 1, "provider": 3}}})
    assert '"provider" must be a string' in load_error(path)
