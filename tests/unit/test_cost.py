"""Price table loading, model-name matching and cost arithmetic (spyglass.collector.genai.cost)."""

from __future__ import annotations

import json
from importlib.resources import files
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


# --- the shipped table --------------------------------------------------------------------


def test_shipped_table_is_package_data_with_required_models() -> None:
    data = json.loads(
        (files("spyglass.collector.genai") / "prices.json").read_text(encoding="utf-8")
    )
    assert data["version"] == 1
    assert data["unit"] == "USD per 1M tokens"
    required = [
        "gpt-4o",
        "gpt-4o-mini",
        "gpt-4.1",
        "gpt-4.1-mini",
        "gpt-4.1-nano",
        "o1",
        "o3",
        "o3-mini",
        "o4-mini",
        "gpt-3.5-turbo",
        "text-embedding-3-small",
        "text-embedding-3-large",
        "text-embedding-ada-002",
        "claude-3-5-sonnet",
        "claude-3-5-haiku",
        "claude-3-opus",
        "claude-sonnet-4",
        "claude-opus-4",
        "gemini-1.5-pro",
        "gemini-1.5-flash",
        "gemini-2.0-flash",
        "gemini-2.5-pro",
        "gemini-2.5-flash",
    ]
    assert [m for m in required if m not in data["models"]] == []


def test_shipped_table_loads_and_every_price_is_sane(table: PriceTable) -> None:
    assert len(table.models) > 40
    for name, price in table.models.items():
        assert name == name.lower()
        assert price.input >= 0 and price.output >= 0, name
        if price.cached_input is not None:
            assert price.cached_input <= price.input, name


# --- model matching -----------------------------------------------------------------------


def test_exact_match(table: PriceTable) -> None:
    assert table.price("gpt-4o-mini") == ModelPrice(0.15, 0.60, 0.075, "openai")
    assert table.price("claude-3-opus").output == 75.0


def test_exact_match_is_case_insensitive(table: PriceTable) -> None:
    assert table.price("GPT-4o-Mini") == table.price("gpt-4o-mini")
    assert table.price("  gpt-4o  ") == table.price("gpt-4o")


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),  # longest prefix, not gpt-4o
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("gpt-4.1-mini-2025-04-14", "gpt-4.1-mini"),
        ("o3-mini-2025-01-31", "o3-mini"),
        ("claude-3-5-sonnet-20241022", "claude-3-5-sonnet"),
        ("claude-3-5-sonnet@20240620", "claude-3-5-sonnet"),  # Vertex AI spelling
        ("claude-sonnet-4-20250514", "claude-sonnet-4"),
        ("claude-opus-4-1-20250805", "claude-opus-4-1"),
        ("gemini-1.5-pro-002", "gemini-1.5-pro"),
        ("gemini-2.0-flash-lite-001", "gemini-2.0-flash-lite"),
        ("GPT-4O-MINI-2024-07-18", "gpt-4o-mini"),
    ],
)
def test_longest_prefix_match(table: PriceTable, model: str, expected: str) -> None:
    assert table.price(model) is table.models[expected]


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("openai/gpt-4o", "gpt-4o"),
        ("openai/gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
        ("models/gemini-2.5-flash", "gemini-2.5-flash"),
        ("anthropic/claude-3-5-haiku-20241022", "claude-3-5-haiku"),
        ("meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo", "meta-llama-3.1-8b-instruct-turbo"),
        ("anthropic.claude-3-5-sonnet-20240620-v1:0", "claude-3-5-sonnet"),  # Bedrock
        ("us.anthropic.claude-3-7-sonnet-20250219-v1:0", "claude-3-7-sonnet"),
    ],
)
def test_provider_prefixed_names(table: PriceTable, model: str, expected: str) -> None:
    assert table.price(model) is table.models[expected]


def test_exact_key_with_a_slash_wins_over_stripping(tmp_path: Path) -> None:
    path = write_json(tmp_path, {"models": {"acme/gpt-4o": {"input": 1, "output": 1}}})
    table = PriceTable.load(path)
    assert table.price("acme/gpt-4o").input == 1.0
    assert table.price("other/gpt-4o").input == 2.5


@pytest.mark.parametrize(
    "model",
    ["gpt-4.5-preview", "o1x", "gpt-4oo", "llama-2-70b", "totally-unknown", "", None],
)
def test_unknown_models_have_no_price(table: PriceTable, model: str | None) -> None:
    assert table.price(model) is None
    assert table.cost(model, 100, 100) is None


def test_resolution_is_memoised(table: PriceTable) -> None:
    first = table.price("gpt-4o-mini-2099-01-01")
    assert table._resolved["gpt-4o-mini-2099-01-01"] is first
    assert table.price("gpt-4o-mini-2099-01-01") is first


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
    assert isinstance(table.cost("text-embedding-3-small", 10, None), float)


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
    assert len(merged.models) == len(table.models) + 1
    assert merged.cost("acme-llm", 1_000_000, 1_000_000) == pytest.approx(2.0)


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
