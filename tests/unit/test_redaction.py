"""Attribute redaction rules (spyglass.collector.ingest.redaction)."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spyglass.collector.ingest import redaction
from spyglass.collector.ingest.redaction import (
    BUILTIN_NAMES,
    DEFAULT_BUILTINS,
    DEFAULT_KEYS,
    REDACTED,
    RedactionRules,
)
from spyglass.errors import ConfigurationError

OPENAI_KEY = "sk-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKL"
OPENAI_PROJECT_KEY = "sk-proj-AbC123_def-456ghiJKLmnoPQRstuVWXyz0123456789"
ANTHROPIC_KEY = "sk-ant-api03-AbC123_def-456ghiJKLmnoPQRstuVWXyz0123456789-AA"
AWS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
    "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
)
VISA = "4111111111111111"  # Luhn-valid test number
BASIC = "dXNlcjpwYXNz"  # base64("user:pass")


def only(*builtins: str) -> RedactionRules:
    return RedactionRules(builtins=builtins)


# --- built-in patterns --------------------------------------------------------------------

POSITIVE = [
    ("openai_api_key", f"key={OPENAI_KEY};", "key=[REDACTED:openai_api_key];"),
    ("openai_api_key", f"use {OPENAI_PROJECT_KEY}", "use [REDACTED:openai_api_key]"),
    ("openai_api_key", "sk-svcacct-Zx9yW8vU7tS6rQ5pO4nM3lK2", "[REDACTED:openai_api_key]"),
    ("anthropic_api_key", f"'{ANTHROPIC_KEY}'", "'[REDACTED:anthropic_api_key]'"),
    ("aws_access_key_id", f"id {AWS_KEY_ID} ok", "id [REDACTED:aws_access_key_id] ok"),
    ("aws_access_key_id", "ASIAY34FZKBOKMUTVV7A", "[REDACTED:aws_access_key_id]"),
    (
        "bearer_token",
        "Authorization: Bearer abc123def456ghi",
        "Authorization: [REDACTED:bearer_token]",
    ),
    ("bearer_token", "bearer AbCdEf0123456789==", "[REDACTED:bearer_token]"),
    ("bearer_token", f"Bearer {JWT}", "[REDACTED:bearer_token]"),
    ("basic_auth", f"Authorization: Basic {BASIC}", "Authorization: [REDACTED:basic_auth]"),
    (
        "basic_auth",
        "curl -H 'authorization: basic OmFwaWtleQ=='",  # ":apikey"
        "curl -H 'authorization: [REDACTED:basic_auth]'",
    ),
    ("jwt", f"token: {JWT}.", "token: [REDACTED:jwt]."),
    ("email", "write to alice.smith+tag@example.co.uk.", "write to [REDACTED:email]."),
    ("email", "<bob@mail.example.com>", "<[REDACTED:email]>"),
    ("credit_card", f"card {VISA} exp", "card [REDACTED:credit_card] exp"),
    ("credit_card", "4111 1111 1111 1111", "[REDACTED:credit_card]"),
    ("credit_card", "5500-0000-0000-0004!", "[REDACTED:credit_card]!"),
    ("credit_card", "amex 378282246310005", "amex [REDACTED:credit_card]"),
    ("credit_card", "amex 3782 822463 10005.", "amex [REDACTED:credit_card]."),
    ("credit_card", "qty 2 4111111111111111", "qty 2 [REDACTED:credit_card]"),
    ("credit_card", "qty 2 4111 1111 1111 1111", "qty 2 [REDACTED:credit_card]"),
]

NEGATIVE = [
    ("openai_api_key", "sk-short"),
    ("openai_api_key", "use sk-learn-style-identifiers-everywhere-please"),  # no digit
    ("openai_api_key", "task-abcdefghijklmnopqrstuvwxyz0123456789"),  # inside a word
    ("openai_api_key", ANTHROPIC_KEY),  # an Anthropic key is not an OpenAI key
    ("anthropic_api_key", "sk-ant-short"),
    ("aws_access_key_id", "AKIAIOSFODNN7EXAMPLEXYZ"),  # too long
    ("aws_access_key_id", "xAKIAIOSFODNN7EXAMPLE"),  # inside a word
    ("aws_access_key_id", "AKIA-not-a-key"),
    ("bearer_token", "he is the bearer of bad news"),
    ("bearer_token", "uses Bearer authentication-schemes"),  # no digit: prose
    ("basic_auth", "the basic settings are fine"),  # "settings" is not base64 of user:pass
    ("basic_auth", "Basic auth is enabled"),
    ("basic_auth", f"xBasic {BASIC}"),  # inside a word
    ("jwt", "eyJhbGciOiJIUzI1NiJ9 alone"),
    ("jwt", "not.a.jwt"),
    ("email", "user@localhost and @handle and a@b"),
    ("credit_card", "4111111111111112"),  # Luhn-invalid 16 digits
    ("credit_card", "order 1234567890123456"),  # Luhn-invalid
    ("credit_card", "phone 0123 456 789"),  # too short
    ("credit_card", "id 12345678901234567890123"),  # longer than 19 digits
    ("credit_card", "ts 2024-05-01 12:00:00"),
    ("credit_card", "4111 11111 111 1111"),  # not a card layout
    ("credit_card", "ms 1700000000000"),  # 13-digit timestamp, Luhn-invalid
]


@pytest.mark.parametrize(("builtin", "text", "expected"), POSITIVE)
def test_builtin_redacts(builtin: str, text: str, expected: str) -> None:
    assert only(builtin).redact_text(text) == expected


@pytest.mark.parametrize(("builtin", "text"), NEGATIVE)
def test_builtin_leaves_lookalikes(builtin: str, text: str) -> None:
    assert only(builtin).redact_text(text) == text


def test_every_builtin_is_tested() -> None:
    assert {name for name, _, _ in POSITIVE} == set(BUILTIN_NAMES)
    assert {name for name, _ in NEGATIVE} == set(BUILTIN_NAMES)


def test_several_matches_in_one_string() -> None:
    rules = RedactionRules.from_config(builtins=["email"])
    text = f"a@example.com {OPENAI_KEY} b@example.org {AWS_KEY_ID}"
    assert rules.redact_text(text) == (
        "[REDACTED:email] [REDACTED:openai_api_key] [REDACTED:email] [REDACTED:aws_access_key_id]"
    )


def test_builtins_never_match_the_empty_string_or_short_text() -> None:
    rules = RedactionRules(builtins=BUILTIN_NAMES)
    for text in ["", "a", "sk-", "Bearer", "eyJ", "@", "0" * 12]:
        assert rules.redact_text(text) == text


def test_long_text_without_secrets_is_returned_unchanged() -> None:
    text = "lorem ipsum 42 " * 2000
    assert RedactionRules.default().redact_text(text) is text


# --- defaults and none --------------------------------------------------------------------


def test_default_rules() -> None:
    rules = RedactionRules.default()
    assert rules.keys == DEFAULT_KEYS
    assert rules.builtins == DEFAULT_BUILTINS
    assert "email" not in rules.builtins and "credit_card" not in rules.builtins
    assert rules.enabled


def test_defaults_do_not_redact_email_or_cards() -> None:
    attributes = {"user": "alice@example.com", "card": f"paid with {VISA}"}
    assert RedactionRules.default().apply(attributes) == 0
    assert attributes == {"user": "alice@example.com", "card": f"paid with {VISA}"}


def test_none_leaves_everything_untouched() -> None:
    attributes = {"api_key": OPENAI_KEY, "prompt": f"my key is {OPENAI_KEY}", "n": [JWT]}
    before = copy.deepcopy(attributes)
    rules = RedactionRules.none()
    assert not rules.enabled
    assert rules.apply(attributes) == 0
    assert attributes == before


# --- key rules ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "api_key",
        "OPENAI_API_KEY",
        "llm.Api-Key",
        "x-apikey",
        "http.request.header.authorization",
        "HTTP.REQUEST.HEADER.AUTHORIZATION",
        "db.password",
        "client_secret",
        "oauth.access_token",
        "http.request.header.x-api-key",
    ],
)
def test_default_key_globs_match_case_insensitively(key: str) -> None:
    attributes = {key: "value-1", "other": "value-2"}
    assert RedactionRules.default().apply(attributes) == 1
    assert attributes == {key: REDACTED, "other": "value-2"}


@pytest.mark.parametrize("key", ["gen_ai.request.model", "keyboard", "token_count", "api"])
def test_default_key_globs_leave_other_keys(key: str) -> None:
    attributes = {key: "value"}
    assert RedactionRules.default().apply(attributes) == 0


def test_exact_key_glob() -> None:
    rules = RedactionRules(keys=("http.request.header.authorization",))
    attributes = {"http.request.header.authorization": "Basic abc", "authorization": "x"}
    assert rules.apply(attributes) == 1
    assert attributes == {"http.request.header.authorization": REDACTED, "authorization": "x"}


def test_key_rule_replaces_any_value_type_whole() -> None:
    attributes: dict[str, Any] = {
        "api_key": 12345,
        "secret": {"a": 1},
        "password": ["x", "y"],
        "apikey": b"raw",
    }
    assert RedactionRules.default().apply(attributes) == 4
    assert set(attributes.values()) == {REDACTED}


def test_key_rule_skips_empty_and_already_redacted_values() -> None:
    attributes = {"api_key": None, "password": "", "secret": REDACTED}
    assert RedactionRules.default().apply(attributes) == 0
    assert attributes == {"api_key": None, "password": "", "secret": REDACTED}


def test_key_decisions_are_memoised() -> None:
    rules = RedactionRules.default()
    rules.apply({"api_key": "x", "model": "y"})
    assert rules._key_cache == {"api_key": True, "model": False}


# --- values: nesting, JSON, counts --------------------------------------------------------


def test_nested_lists_and_dicts() -> None:
    attributes: dict[str, Any] = {
        "messages": [
            {"role": "user", "content": f"my key is {OPENAI_KEY}"},
            {"role": "tool", "headers": {"Authorization": "Basic dXNlcjpwYXNz"}},
        ],
        "matrix": [[f"{AWS_KEY_ID}", 1, 2.5, True, None]],
        "config": {"inner": {"client_secret": "s3cr3t", "ok": "fine"}},
    }
    assert RedactionRules.default().apply(attributes) == 4
    assert attributes == {
        "messages": [
            {"role": "user", "content": "my key is [REDACTED:openai_api_key]"},
            {"role": "tool", "headers": {"Authorization": REDACTED}},
        ],
        "matrix": [["[REDACTED:aws_access_key_id]", 1, 2.5, True, None]],
        "config": {"inner": {"client_secret": REDACTED, "ok": "fine"}},
    }


def test_tuples_are_rebuilt() -> None:
    attributes: dict[str, Any] = {"args": ("plain", JWT)}
    assert RedactionRules.default().apply(attributes) == 1
    assert attributes == {"args": ("plain", "[REDACTED:jwt]")}


def test_json_in_a_string_gets_pattern_rules() -> None:
    payload = json.dumps({"note": f"key {OPENAI_KEY}", "messages": [{"content": "hi"}]})
    attributes = {"spyglass.span.inputs": payload}
    assert RedactionRules.default().apply(attributes) == 1
    redacted = json.loads(attributes["spyglass.span.inputs"])
    assert redacted == {"note": "key [REDACTED:openai_api_key]", "messages": [{"content": "hi"}]}


@pytest.mark.parametrize(
    "key",
    ["spyglass.trace.tags", "spyglass.trace.metadata", "input.value", "gen_ai.tool.call.arguments"],
)
def test_key_rules_apply_to_keys_inside_json_text(key: str) -> None:
    payload = json.dumps(
        {
            "q": "hi",
            "api_key": "abc",
            "auth": {"Password": "pw1"},
            "items": [{"client_secret": "s"}, {"n": 1}],
        }
    )
    attributes = {key: payload}

    assert RedactionRules.default().apply(attributes) == 3

    assert json.loads(attributes[key]) == {
        "q": "hi",
        "api_key": REDACTED,
        "auth": {"Password": REDACTED},
        "items": [{"client_secret": REDACTED}, {"n": 1}],
    }


def test_json_array_text_with_leading_space_is_redacted_by_key() -> None:
    attributes = {"args": '  [{"password": "hunter2"}, "x"]'}
    assert RedactionRules.default().apply(attributes) == 1
    assert json.loads(attributes["args"]) == [{"password": REDACTED}, "x"]


@pytest.mark.parametrize(
    "text",
    [
        '{"q": "no secret keys here", "n": [1, 2, 3]}',  # JSON, no key a rule matches
        '{"api_key": broken json',  # looks like JSON, is not
        "the api_key is {not json}",  # mentions a key, is not JSON
        '"api_key"',  # a JSON string, not an object or array
    ],
)
def test_text_without_a_matching_json_key_is_left_as_written(text: str) -> None:
    attributes = {"v": text}
    assert RedactionRules.default().apply(attributes) == 0
    assert attributes["v"] is text


def test_json_key_redaction_is_idempotent_and_needs_only_key_rules() -> None:
    rules = RedactionRules(keys=("*token*",))
    attributes = {"v": '{"refresh_token": "r1", "other": "o"}'}
    assert rules.apply(attributes) == 1
    first = attributes["v"]
    assert json.loads(first) == {"refresh_token": REDACTED, "other": "o"}
    assert rules.apply(attributes) == 0
    assert attributes["v"] == first


def test_json_too_deep_to_walk_is_redacted_whole() -> None:
    deep = "[" * 1000 + '{"password": "x"}' + "]" * 1000
    attributes = {"v": deep}
    assert RedactionRules.default().apply(attributes) == 1
    assert attributes["v"] == REDACTED


def test_non_string_scalars_are_untouched() -> None:
    attributes: dict[str, Any] = {
        "n": 4111111111111111,
        "f": 1.5,
        "b": True,
        "raw": OPENAI_KEY.encode(),
        "none": None,
    }
    before = dict(attributes)
    rules = RedactionRules.from_config(builtins=["credit_card"])
    assert rules.apply(attributes) == 0
    assert attributes == before


def test_count_is_values_not_matches() -> None:
    attributes = {
        "a": f"{OPENAI_KEY} and {OPENAI_KEY}",
        "b": JWT,
        "c": "clean",
        "api_key": "x",
    }
    assert RedactionRules.default().apply(attributes) == 3


def test_apply_is_idempotent() -> None:
    attributes = {"a": f"Bearer {JWT}", "api_key": "x", "list": [AWS_KEY_ID]}
    rules = RedactionRules.default()
    assert rules.apply(attributes) == 3
    snapshot = copy.deepcopy(attributes)
    assert rules.apply(attributes) == 0
    assert attributes == snapshot


def test_event_attributes_same_as_span_attributes() -> None:
    event = {"exception.message": f"401: invalid key {ANTHROPIC_KEY}"}
    assert RedactionRules.default().apply(event) == 1
    assert event["exception.message"] == "401: invalid key [REDACTED:anthropic_api_key]"


# --- custom patterns ----------------------------------------------------------------------


def test_custom_patterns_in_constructor() -> None:
    rules = RedactionRules(patterns={"order_id": "ORD-[0-9]{6}", "ssn": r"\b\d{3}-\d{2}-\d{4}\b"})
    attributes = {"note": "ORD-123456 for 123-45-6789, not ORD-12"}
    assert rules.apply(attributes) == 1
    assert attributes["note"] == "[REDACTED:order_id] for [REDACTED:ssn], not ORD-12"


def test_custom_pattern_with_inline_flags() -> None:
    rules = RedactionRules(patterns={"ticket": "(?i)ticket-[0-9]+"})
    assert rules.redact_text("TICKET-42 and ticket-7") == "[REDACTED:ticket] and [REDACTED:ticket]"


# --- from_config --------------------------------------------------------------------------


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_from_config_without_arguments_is_default() -> None:
    assert RedactionRules.from_config() == RedactionRules.default()


def test_from_config_arguments_add_to_defaults() -> None:
    rules = RedactionRules.from_config(builtins=["email"], keys=["*session*"])
    assert rules.builtins == (*DEFAULT_BUILTINS, "email")
    assert rules.keys == (*DEFAULT_KEYS, "*session*")


def test_from_config_without_defaults() -> None:
    rules = RedactionRules.from_config(builtins=["email"], defaults=False)
    assert rules.keys == () and rules.builtins == ("email",)
    attributes = {"api_key": "x", "to": "a@example.com"}
    assert rules.apply(attributes) == 1
    assert attributes == {"api_key": "x", "to": "[REDACTED:email]"}


def test_json_config_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "redaction.json",
        json.dumps(
            {
                "keys": ["*session_id*"],
                "builtins": ["email"],
                "patterns": {"order_id": "ORD-[0-9]{6}"},
                "defaults": True,
            }
        ),
    )
    rules = RedactionRules.from_config(path, builtins=["credit_card"], keys=["user.ip"])
    assert rules.keys == (*DEFAULT_KEYS, "*session_id*", "user.ip")
    assert rules.builtins == (*DEFAULT_BUILTINS, "email", "credit_card")
    attributes = {
        "app.Session_ID": "abc",
        "user.ip": "10.0.0.1",
        "api_key": "k",
        "text": f"ORD-123456 by bob@example.com with {VISA} using {OPENAI_KEY}",
    }
    assert rules.apply(attributes) == 4
    assert attributes == {
        "app.Session_ID": REDACTED,
        "user.ip": REDACTED,
        "api_key": REDACTED,
        "text": "[REDACTED:order_id] by [REDACTED:email] with [REDACTED:credit_card] "
        "using [REDACTED:openai_api_key]",
    }


def test_toml_config_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "redaction.toml",
        (
            'keys = ["*token*"]\nbuiltins = ["credit_card"]\ndefaults = false\n'
            '[patterns]\norder_id = "ORD-[0-9]{6}"\n'
        ),
    )
    rules = RedactionRules.from_config(path)
    assert rules.keys == ("*token*",)
    assert rules.builtins == ("credit_card",)
    assert dict(rules.patterns) == {"order_id": "ORD-[0-9]{6}"}
    attributes = {"refresh_token": "t", "api_key": "kept", "x": f"ORD-000001 {VISA}"}
    assert rules.apply(attributes) == 2
    assert attributes == {
        "refresh_token": REDACTED,
        "api_key": "kept",
        "x": "[REDACTED:order_id] [REDACTED:credit_card]",
    }


def test_file_can_turn_defaults_off(tmp_path: Path) -> None:
    path = write(tmp_path, "r.json", '{"defaults": false}')
    assert not RedactionRules.from_config(path).enabled


# --- errors -------------------------------------------------------------------------------


def config_error(**kwargs: Any) -> str:
    with pytest.raises(ConfigurationError) as info:
        RedactionRules.from_config(**kwargs)
    return str(info.value)


def test_unknown_builtin_argument_lists_valid_ones() -> None:
    message = config_error(builtins=["phone_number"])
    assert "'phone_number'" in message
    assert all(name in message for name in BUILTIN_NAMES)


def test_unknown_builtin_in_file_names_file(tmp_path: Path) -> None:
    path = write(tmp_path, "r.json", '{"builtins": ["emails"]}')
    message = config_error(file=path)
    assert path in message and "'emails'" in message and "credit_card" in message


def test_bad_regex_names_pattern(tmp_path: Path) -> None:
    path = write(tmp_path, "r.json", '{"patterns": {"order_id": "ORD-[0-9"}}')
    message = config_error(file=path)
    assert path in message and "'order_id'" in message
    assert "not a valid regular expression" in message
    assert "openai_api_key" in message  # lists the built-ins


def test_bad_regex_in_constructor() -> None:
    with pytest.raises(ConfigurationError, match=r"'broken'.*not a valid regular expression"):
        RedactionRules(patterns={"broken": "(unclosed"})


@pytest.mark.parametrize("regex", ["a*", "", r"\b", "(?=x)"])
def test_pattern_matching_empty_string_rejected(regex: str) -> None:
    with pytest.raises(ConfigurationError, match="'empty'"):
        RedactionRules(patterns={"empty": regex})


def test_custom_pattern_cannot_reuse_builtin_name(tmp_path: Path) -> None:
    path = write(tmp_path, "r.json", '{"patterns": {"email": "x@y"}}')
    message = config_error(file=path)
    assert "'email'" in message and "built-in" in message


def test_bad_pattern_name() -> None:
    with pytest.raises(ConfigurationError, match="must be letters, digits"):
        RedactionRules(patterns={"has space": "abc"})


def test_missing_file(tmp_path: Path) -> None:
    path = str(tmp_path / "missing.toml")
    message = config_error(file=path)
    assert path in message and "not found" in message


def test_invalid_json_file(tmp_path: Path) -> None:
    path = write(tmp_path, "r.json", "{keys: [}")
    message = config_error(file=path)
    assert path in message and "not valid JSON" in message


def test_invalid_toml_file(tmp_path: Path) -> None:
    path = write(tmp_path, "r.toml", "keys = [\n")
    message = config_error(file=path)
    assert path in message and "not valid TOML" in message


def test_unknown_field_in_file(tmp_path: Path) -> None:
    path = write(tmp_path, "r.json", '{"key": ["*x*"]}')
    message = config_error(file=path)
    assert "'key'" in message and "keys, builtins, patterns, defaults" in message


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ('{"keys": "*x*"}', '"keys" must be a list of non-empty strings'),
        ('{"keys": [""]}', '"keys" must be a list of non-empty strings'),
        ('{"builtins": [1]}', '"builtins" must be a list of non-empty strings'),
        ('{"patterns": ["ORD-[0-9]+"]}', '"patterns" must map names to regular expressions'),
        ('{"patterns": {"n": 5}}', "'n' must be a non-empty regular expression string"),
        ('{"defaults": "yes"}', '"defaults" must be true or false'),
        ("[1, 2]", "expected an object"),
    ],
)
def test_malformed_file_contents(tmp_path: Path, content: str, fragment: str) -> None:
    path = write(tmp_path, "r.json", content)
    message = config_error(file=path)
    assert path in message and fragment in message


def test_keys_argument_must_be_a_list() -> None:
    assert "key patterns must be a list" in config_error(keys="*secret*")


# --- performance-relevant behaviour -------------------------------------------------------


def test_shortest_match_lengths_are_known() -> None:
    rules = RedactionRules(builtins=BUILTIN_NAMES)
    lengths = {rule.name: rule.min_length for rule in rules._passes}
    assert lengths["email"] == 6 and lengths["credit_card"] == 13
    assert all(length > 0 for length in lengths.values())


def test_every_builtin_match_contains_a_trigger() -> None:
    """The trigger shortcut must never hide a match: check it on every positive example."""
    rules = RedactionRules(builtins=BUILTIN_NAMES)
    for rule in rules._passes:
        for name, text, _ in POSITIVE:
            if name != rule.name:
                continue
            for match in re.finditer(rule.regex, text):
                assert not rule.triggers or any(t in match.group() for t in rule.triggers)


# --- the screen that proves "nothing to redact" without the full walk ----------------------

# Pieces that hit every corner of the screen: key needles inside and outside JSON keys,
# quotes, colons, escapes, whitespace, triggers and near-misses, and characters whose
# lower case differs from their case-insensitive match (final sigma, dotted I, Kelvin sign).
_PIECES = [
    '"',
    ":",
    " ",
    "\t",
    "\n",
    "\\",
    "{",
    "[",
    "}",
    "]",
    ",",
    "password",
    "PassWord",
    "api_key",
    "Secret",
    "x-api-key",
    "\u03a3",
    "\u0130",
    "\u212a",
    "sk-",
    "sk-ant-",
    "abc123DEF456ghi789JKL0",
    "AKIA",
    "ASIA",
    "IOSFODNN7EXAMPLE",
    "Bearer ",
    "BEARER\t",
    "basic ",
    "Basic ",
    "dXNlcjpwYXNz",
    "eyJhbGciOi",
    ".",
    "\\u0073k-",
    "text",
    "1",
]
_TEXTS = st.lists(st.sampled_from(_PIECES), max_size=30).map("".join)
_JSON_TEXTS = st.recursive(
    st.none() | st.integers() | _TEXTS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["a", "password", "Api_Key", "content"]) | _TEXTS, inner, max_size=3
        )
    ),
    max_leaves=8,
).flatmap(
    lambda value: st.sampled_from([(", ", ": "), (",", ":"), (" , ", " :\n")]).map(
        lambda separators: json.dumps(value, separators=separators)
    )
)
_VALUES = (
    _TEXTS
    | _JSON_TEXTS
    | st.sampled_from([" ", "\n"]).flatmap(lambda lead: _JSON_TEXTS.map(lambda j: lead + j))
    | st.sampled_from([1, 2.5, True, None, b"bytes"])
    | st.lists(_TEXTS, max_size=2)
    | st.dictionaries(st.sampled_from(["k", "password"]), _TEXTS, max_size=2)
)
_ATTRIBUTES = st.dictionaries(
    st.sampled_from(["input.value", "gen_ai.input.messages", "session.id", "x_api_key", "a"])
    | _TEXTS,
    _VALUES,
    max_size=6,
)
_RULE_SETS = [
    RedactionRules.default(),
    RedactionRules(keys=("*password*",)),
    RedactionRules(builtins=("bearer_token", "jwt")),
    RedactionRules(keys=("*tok?n*", "x*"), builtins=DEFAULT_BUILTINS),
]


@settings(max_examples=200, deadline=None)
@given(attributes=_ATTRIBUTES, which=st.sampled_from(range(len(_RULE_SETS))))
def test_screen_gives_the_same_result_as_the_full_walk(
    attributes: dict[str, Any], which: int
) -> None:
    """``apply`` (screen first) and the full walk alone redact the same values the same way."""
    rules = _RULE_SETS[which]
    screened, walked = copy.deepcopy(attributes), copy.deepcopy(attributes)
    assert rules.apply(screened) == rules._redact_dict(walked)
    assert screened == walked


@settings(max_examples=200, deadline=None)
@given(text=_TEXTS | _JSON_TEXTS)
def test_anchored_needle_search_equals_plain_search(text: str) -> None:
    rules = RedactionRules.default()
    assert rules._needles is not None and rules._anchored is not None
    expected = any(needle in text for needle in rules._needles)
    assert redaction._holds_any(text, rules._anchored) == expected
    for rule in RedactionRules(builtins=BUILTIN_NAMES)._passes:
        expected = any(trigger in text for trigger in rule.triggers)
        assert redaction._holds_any(text, rule.anchored) == expected, rule.name


@settings(max_examples=200, deadline=None)
@given(text=_TEXTS | _JSON_TEXTS, lead=st.sampled_from(["", " ", "{", "["]))
def test_json_key_screen_sees_every_key_the_full_check_sees(text: str, lead: str) -> None:
    """The screen may say "maybe" too often, never "no" where the full check says "yes"."""
    rules = RedactionRules.default()
    text = lead + text
    if text and rules._may_hold_json_key(text):
        assert rules._json_keys_may_match(text)


def test_prose_mentioning_a_key_word_is_screened_out() -> None:
    """The common case takes the screen: JSON whose prose (not keys) says "password"."""
    rules = RedactionRules.default()
    attributes = {
        "input.value": json.dumps({"question": "reset my password please", "top_k": 5}),
        "gen_ai.input.messages": json.dumps(
            [{"role": "user", "parts": [{"type": "text", "content": "password secret"}]}]
        ),
        "gen_ai.request.model": "gpt-4o-mini-2024-07-18",
        "gen_ai.usage.input_tokens": 12,
    }
    before = copy.deepcopy(attributes)
    assert rules._nothing_to_redact(attributes)
    assert rules.apply(attributes) == 0 and attributes == before
    attributes["input.value"] = json.dumps({"password": "hunter2"})
    assert not rules._nothing_to_redact(attributes)
    assert rules.apply(attributes) == 1
    assert json.loads(attributes["input.value"]) == {"password": REDACTED}
