"""The search filter parser (spyglass.collector.store.traces.filters), without a database.

Proves: every operator on every kind of field parses to the expected AST; AND binds tighter
than OR, NOT and parentheses group as written; keywords are case-insensitive; backticks,
doubled quotes, numbers and TRUE/FALSE read as documented; and every mistake raises
InvalidFilterError whose message names the problem and puts a caret under its position —
including hostile input (NUL, huge, deeply nested, too many values, too long a pattern,
text that is not Unicode), which never reaches RecursionError or UnicodeEncodeError. Sort
keys for order_by are checked the same way.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from spyglass.collector.store.traces.experiment_queries import compile_filter as experiment_filter
from spyglass.collector.store.traces.filters import (
    MAX_CONDITIONS,
    MAX_DEPTH,
    MAX_FILTER_LENGTH,
    MAX_IN_VALUES,
    MAX_PATTERN_LENGTH,
    MAX_VALUES,
    And,
    Comparison,
    Field,
    Not,
    Or,
    compile_filter,
    compile_order_by,
    parse_filter,
)
from spyglass.errors import InvalidFilterError, SpyglassError


def cmp(kind: str, name: str, op: str, value: object = None) -> Comparison:
    return Comparison(Field(kind, name), op, value)  # type: ignore[arg-type]


def tag(name: str, op: str, value: object = None) -> Comparison:
    return cmp("tag", name, op, value)


A, B, C = tag("a", "=", "1"), tag("b", "=", "2"), tag("c", "=", "3")


# --- what parses, and into what ------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        # trace fields, both prefixes, every operator family
        ("attributes.name = 'chat'", cmp("trace", "name", "=", "chat")),
        ("trace.name != 'chat'", cmp("trace", "name", "!=", "chat")),
        ("attributes.name == 'chat'", cmp("trace", "name", "=", "chat")),
        ("attributes.name <> 'chat'", cmp("trace", "name", "!=", "chat")),
        ("Attributes.NAME like 'c%'", cmp("trace", "name", "LIKE", "c%")),
        ("attributes.name ILIKE 'C%'", cmp("trace", "name", "ILIKE", "C%")),
        ("attributes.name IN ('a', \"b\")", cmp("trace", "name", "IN", ("a", "b"))),
        ("attributes.name not in ('a')", cmp("trace", "name", "NOT IN", ("a",))),
        ("attributes.name is null", cmp("trace", "name", "IS NULL")),
        ("attributes.name IS NOT NULL", cmp("trace", "name", "IS NOT NULL")),
        ("attributes.status = 'error'", cmp("trace", "status", "=", "ERROR")),
        (
            "attributes.status IN ('ok', 'IN_PROGRESS')",
            cmp("trace", "status", "IN", ("OK", "IN_PROGRESS")),
        ),
        (
            "attributes.timestamp_ms > 1700000000000",
            cmp("trace", "timestamp_ms", ">", 1700000000000),
        ),
        ("attributes.timestamp_ms<=1.5", cmp("trace", "timestamp_ms", "<=", 1.5)),
        ("attributes.execution_time_ms >= 100", cmp("trace", "execution_time_ms", ">=", 100)),
        ("attributes.end_time_ms < 5", cmp("trace", "end_time_ms", "<", 5)),
        ("attributes.experiment_id = '3'", cmp("trace", "experiment_id", "=", 3)),
        ("attributes.experiment_id IN (1, '2')", cmp("trace", "experiment_id", "IN", (1, 2))),
        ("attributes.total_tokens != -1", cmp("trace", "total_tokens", "!=", -1)),
        ("attributes.cost > .5", cmp("trace", "cost", ">", 0.5)),
        ("trace.model = 'gpt-4o'", cmp("trace", "model", "=", "gpt-4o")),
        ("trace.text = 'refund'", cmp("trace", "text", "=", "refund")),
        ("trace.session_id = 's'", cmp("trace", "session_id", "=", "s")),
        ("trace.trace_id = 'abc'", cmp("trace", "trace_id", "=", "abc")),
        # key/value fields
        ("tags.env = 'prod'", tag("env", "=", "prod")),
        ("tag.env = 'prod'", tag("env", "=", "prod")),
        ("tags.env < 0.7", tag("env", "<", 0.7)),
        ("tags.env >= -3", tag("env", ">=", -3)),
        ("tags.env = TRUE", tag("env", "=", True)),
        ("tags.env != false", tag("env", "!=", False)),
        ("tags.env IN (1, 2.5)", tag("env", "IN", (1, 2.5))),
        ("tags.env IN (TRUE, FALSE)", tag("env", "IN", (True, False))),
        ("tags.env IS NULL", tag("env", "IS NULL")),
        ("tags.Env-Name_2 = 'x'", tag("Env-Name_2", "=", "x")),
        ("metadata.version = '1'", cmp("metadata", "version", "=", "1")),
        ("feedback.correctness = 'yes'", cmp("feedback", "correctness", "=", "yes")),
        ("expectation.count > 2", cmp("expectation", "count", ">", 2)),
        ("span.name = 'chat'", cmp("span", "name", "=", "chat")),
        ("span.type IN ('LLM')", cmp("span", "type", "IN", ("LLM",))),
        ("span.status = 'error'", cmp("span", "status", "=", "ERROR")),
        ("span.inputs LIKE '%q%'", cmp("span", "inputs", "LIKE", "%q%")),
        ("span.outputs IS NOT NULL", cmp("span", "outputs", "IS NOT NULL")),
        ("span.attributes.temperature > 0.5", cmp("span.attributes", "temperature", ">", 0.5)),
        # keys: backticks, dots, doubled backticks, anything inside
        ("tags.`my.key` = 'v'", tag("my.key", "=", "v")),
        ("tags.my.key = 'v'", tag("my.key", "=", "v")),
        ("tags.`my key` = 'v'", tag("my key", "=", "v")),
        ("tags.`a``b` = 'v'", tag("a`b", "=", "v")),
        ("tags.`a'); DROP` = 'v'", tag("a'); DROP", "=", "v")),
        (
            "span.attributes.`gen_ai.request.model` = 'm'",
            cmp("span.attributes", "gen_ai.request.model", "=", "m"),
        ),
        (
            "span.attributes.gen_ai.usage.input_tokens = 1",
            cmp("span.attributes", "gen_ai.usage.input_tokens", "=", 1),
        ),
        ("tags.x.`y.z`.w = 'v'", tag("x.y.z.w", "=", "v")),
        # string literals: doubled quotes, backslash is literal, unicode
        ("tags.a = 'it''s'", tag("a", "=", "it's")),
        ('tags.a = "say ""hi"""', tag("a", "=", 'say "hi"')),
        ('tags.a = "it\'s"', tag("a", "=", "it's")),
        ("tags.a = 'back\\slash'", tag("a", "=", "back\\slash")),
        ("tags.a LIKE '100\\%'", tag("a", "LIKE", "100\\%")),
        ("tags.a = ''", tag("a", "=", "")),
        ("tags.a = 'café ☕'", tag("a", "=", "café ☕")),
        # numbers
        ("tags.a = 42", tag("a", "=", 42)),
        ("tags.a = -42", tag("a", "=", -42)),
        ("tags.a = 0.25", tag("a", "=", 0.25)),
        ("tags.a = -0.25", tag("a", "=", -0.25)),
        ("tags.a = 1e3", tag("a", "=", 1000.0)),
        ("tags.a = 2.5E-2", tag("a", "=", 0.025)),
        ("tags.a = 1.", tag("a", "=", 1.0)),
        ("tags.a = 123456789012345678901234567890", tag("a", "=", 123456789012345678901234567890)),
        ("\n\ttags.a\n=\n1\n", tag("a", "=", 1)),
    ],
)
def test_parses(text: str, expected: Comparison) -> None:
    node = parse_filter(text)
    assert node == expected
    assert type(node.value) is type(expected.value)  # 1 and 1.0, True and 1 stay apart


@pytest.mark.parametrize(
    "text, expected",
    [
        ("tags.a = '1' OR tags.b = '2' AND tags.c = '3'", Or((A, And((B, C))))),
        ("tags.a = '1' AND tags.b = '2' OR tags.c = '3'", Or((And((A, B)), C))),
        ("(tags.a = '1' OR tags.b = '2') AND tags.c = '3'", And((Or((A, B)), C))),
        ("NOT tags.a = '1' AND tags.b = '2'", And((Not(A), B))),
        ("NOT (tags.a = '1' AND tags.b = '2')", Not(And((A, B)))),
        ("not not tags.a = '1'", Not(Not(A))),
        ("tags.a = '1' and (tags.b = '2' and tags.c = '3')", And((A, B, C))),
        ("tags.a = '1' Or tags.b = '2' oR tags.c = '3'", Or((A, B, C))),
        ("((((tags.a = '1'))))", A),
        ("tags.a = '1' AND NOT (tags.b = '2' OR NOT tags.c = '3')", And((A, Not(Or((B, Not(C))))))),
    ],
)
def test_precedence_and_grouping(text: str, expected: object) -> None:
    assert parse_filter(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_empty_filter_is_none(text: str) -> None:
    assert parse_filter(text) is None
    assert compile_filter(text, "sqlite") is None


def test_session_and_user_ids_take_their_otel_names() -> None:
    session_id = Field("trace", "session_id")
    user_id = Field("trace", "user_id")
    assert parse_filter("session.id = 'chat-1'") == Comparison(session_id, "=", "chat-1")
    assert parse_filter("User.ID IN ('a')") == Comparison(user_id, "IN", ("a",))
    assert parse_filter("session.id IS NULL") == parse_filter("attributes.session_id IS NULL")
    assert compile_order_by(["session.id DESC"], "sqlite")
    with pytest.raises(InvalidFilterError, match=r"session\.id and user\.id"):
        parse_filter("session.name = 'x'")


def test_no_filter_compiles_to_none() -> None:
    assert compile_filter(None, "postgresql") is None


def test_unknown_dialect_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="mysql"):
        compile_filter("tags.a = 'b'", "mysql")


# --- errors: message and caret -------------------------------------------------------------


def error_for(text: str) -> InvalidFilterError:
    with pytest.raises(InvalidFilterError) as caught:
        parse_filter(text)
    return caught.value


def caret_column(message: str) -> int:
    *_, snippet, caret = message.split("\n")
    assert caret.strip() == "^" and snippet.startswith("  ")
    return len(caret) - len("  ^")


OPERATOR_LIST = "=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN, IS NULL, IS NOT NULL"


@pytest.mark.parametrize(
    "text, message, at",
    [
        ("tags.env 'prod'", f"expected an operator ({OPERATOR_LIST}) after 'tags.env'", "'prod'"),
        ("tags.env", "expected an operator", None),
        (
            "attributes.foo = 1",
            "unknown field 'attributes.foo'; fields are attributes.{name, status",
            "attributes.foo",
        ),
        ("name = 'x'", "unknown field 'name'; did you mean attributes.name?", "name"),
        ("tags = 'x'", "unknown field 'tags'", "tags"),
        ("span.foo = 'x'", "unknown field 'span.foo'", "span.foo"),
        ("span.attributes = 'x'", "unknown field 'span.attributes'", "span"),
        ("`tags`.a = 'x'", "unknown field", "`tags`"),
        ("attributes.name LIKE 5", "LIKE needs a string", "5"),
        ("tags.a ILIKE TRUE", "ILIKE needs a string", "TRUE"),
        ("tags.a LIKE 'x\\'", "ends with a lone backslash", "'x"),
        ("attributes.name = 'abc", "unterminated string", "'abc"),
        ('tags.a = "abc', "unterminated string", '"abc'),
        ("tags.a = 'b')", "unexpected ')'", ")"),
        (")", "unexpected ')'", ")"),
        ("(tags.a = 'b'", "expected ')' to close the '(' at position 0", None),
        (
            "tags.a = ",
            "expected a value after = (a 'string', a number, TRUE or FALSE), found the end",
            None,
        ),
        ("tags.a = prod", "text values are quoted: 'prod'", "prod"),
        ("tags.a = NULL", "test for a missing value with IS NULL or IS NOT NULL", "NULL"),
        ("tags.a IS 'x'", "expected NULL or NOT NULL after IS", "'x'"),
        ("tags.a IS NOT 'x'", "expected NULL or NOT NULL after IS", "'x'"),
        ("tags.a NOT LIKE 'x'", "expected IN after NOT", "LIKE"),
        ("tags.a IN 'x'", "expected '(' after IN", "'x'"),
        ("tags.a IN ()", "expected a value after IN", ")"),
        ("tags.a IN ('x' 'y')", "expected ',' or ')' in the IN list", "'y'"),
        ("tags.a IN ('x', 1)", "IN values must be all strings, all numbers or all TRUE/FALSE", "1"),
        ("tags.a NOT IN (1, TRUE)", "IN values must be all", "TRUE"),
        ("tags.a < 'x'", "'<' needs a number, got 'x'", "'x'"),
        ("tags.a > TRUE", "'>' needs a number, got TRUE", "TRUE"),
        (
            "attributes.name < 'x'",
            "attributes.name cannot be compared with <; use =, !=, LIKE",
            "<",
        ),
        ("trace.timestamp_ms = 'yesterday'", "trace.timestamp_ms is a time", "'yesterday'"),
        ("attributes.timestamp_ms LIKE '17%'", "cannot be compared with LIKE", "LIKE"),
        ("attributes.total_tokens = TRUE", "needs a number, got TRUE", "TRUE"),
        (
            "attributes.status = 'DONE'",
            "attributes.status is one of 'OK', 'ERROR', 'IN_PROGRESS', got 'DONE'",
            "'DONE'",
        ),
        ("attributes.status LIKE 'O%'", "cannot be compared with LIKE", "LIKE"),
        ("span.status = 'UNSET'", "span.status is one of 'OK', 'ERROR'", "'UNSET'"),
        ("attributes.experiment_id = 'abc'", "is an integer id, got 'abc'", "'abc'"),
        (
            "attributes.name = 5",
            "attributes.name is text: compare it with a quoted string such as '5'",
            "5",
        ),
        ("span.inputs IN (1)", "span.inputs is text", "1"),
        ("trace.text != 'x'", "trace.text cannot be compared with !=; use =, LIKE, ILIKE", "!="),
        ("tags. = 'x'", "expected a key after 'tags.'", " = "),
        ("tags.`` = 'x'", "empty `quoted key`", "``"),
        ("tags.`abc = 'x'", "unterminated `quoted key`", "`abc"),
        (
            "tags.a = 'x' AND",
            "expected a condition (a field such as attributes.name or tags.env, "
            "NOT, or '('), found the end",
            None,
        ),
        ("tags.a = 'x' AND OR tags.b = 'y'", "expected a condition", "OR"),
        (
            "tags.a = 'x' tags.b = 'y'",
            "expected AND, OR or the end of the filter, found 'tags.b'",
            "tags.b",
        ),
        ("tags.a = 1.2.3", "malformed number starting '1.2'", "1.2.3"),
        ("tags.a = 12abc", "malformed number", "12abc"),
        ("tags.a = 1e999", "number 1e999 is out of range", "1e999"),
        ("tags.a = " + "9" * 101, "number longer than 100 characters", "999"),
        ("tags.a = ‘x’", "typographic quotes are not quotes here", "‘"),
        ("tags.a = “x”", "typographic quotes", "“"),
        ("tags.a = 'x'; DROP TABLE traces", "unexpected character ';'", ";"),
        ("tags.a = 'x' -- comment", "unexpected character '-'", "--"),
        ("tags.a = 'x\x00'", "unexpected NUL character", "\x00"),
        ("tags.a = - 1", "unexpected character '-'", "- 1"),
    ],
)
def test_errors_say_what_and_where(text: str, message: str, at: str | None) -> None:
    error = error_for(text)
    assert message in str(error)
    assert str(error).startswith("invalid filter: ")
    assert message in error.reason and error.text == text
    expected = len(text) if at is None else text.index(at)
    assert error.position == expected
    assert caret_column(str(error)) == expected
    assert isinstance(error, SpyglassError)


def test_snippet_shows_the_line_of_the_error() -> None:
    text = "tags.a = 'x'\nAND tags.b ~ 'y'"
    error = error_for(text)
    *_, snippet, caret = str(error).split("\n")
    assert snippet == "  AND tags.b ~ 'y'"
    assert caret == "  " + " " * len("AND tags.b ") + "^"


def test_long_filters_are_shown_around_the_error() -> None:
    text = "tags.a = 'x' AND " * 20 + "tags.b = 'y' ? " + "AND tags.c = 'z' " * 20
    error = error_for(text)
    *_, snippet, caret = str(error).split("\n")
    assert len(snippet) < 120 and snippet.count("…") == 2
    assert snippet[len(caret) - 1] == "?"


# --- limits: clear errors, never RecursionError --------------------------------------------


def nested_parentheses(levels: int) -> str:
    return "(" * levels + "tags.a = 'b'" + ")" * levels


def test_nesting_up_to_the_limit_parses() -> None:
    assert parse_filter(nested_parentheses(MAX_DEPTH)) == tag("a", "=", "b")
    assert parse_filter("NOT " * MAX_DEPTH + "tags.a = 'b'") is not None


@pytest.mark.parametrize(
    "text, position",
    [
        (nested_parentheses(MAX_DEPTH + 1), MAX_DEPTH),
        (nested_parentheses(5_000), MAX_DEPTH),
        ("NOT " * (MAX_DEPTH + 1) + "tags.a = 'b'", 4 * MAX_DEPTH),
    ],
)
def test_deep_nesting_is_a_clear_error(text: str, position: int) -> None:
    error = error_for(text)
    assert f"nested more than {MAX_DEPTH} levels deep" in str(error)
    assert error.position == position


def test_too_many_conditions() -> None:
    text = " OR ".join(f"tags.a = '{i}'" for i in range(MAX_CONDITIONS + 1))
    error = error_for(text)
    assert f"more than {MAX_CONDITIONS} conditions" in str(error)
    assert error.position == text.rindex("tags.a")


def test_too_many_in_values() -> None:
    error = error_for("tags.a IN (" + ", ".join(["1"] * (MAX_IN_VALUES + 1)) + ")")
    assert f"more than {MAX_IN_VALUES} values in one IN list" in str(error)


def test_too_long() -> None:
    error = error_for("tags.a = '" + "x" * MAX_FILTER_LENGTH + "'")
    assert f"the limit is {MAX_FILTER_LENGTH:,}" in str(error)
    assert len(str(error)) < 1000


def test_not_a_string() -> None:
    with pytest.raises(InvalidFilterError, match="a filter is a string"):
        parse_filter(42)  # type: ignore[arg-type]


def test_too_many_values_in_all() -> None:
    in_list = "tags.a IN (" + ", ".join(["1"] * MAX_IN_VALUES) + ")"
    lists = [in_list] * (MAX_VALUES // MAX_IN_VALUES)
    parse_filter(" OR ".join(lists))  # exactly at the limit
    error = error_for(" OR ".join(lists) + " OR tags.b = 1")
    assert f"more than {MAX_VALUES:,} values in the filter" in str(error)


@pytest.mark.parametrize("text", ["tags.a LIKE '{}'", "span.name ILIKE '{}'", "trace.text = '{}'"])
def test_pattern_length_limit(text: str) -> None:
    parse_filter(text.format("%" * MAX_PATTERN_LENGTH))
    error = error_for(text.format("x" * (MAX_PATTERN_LENGTH + 1)))
    assert (
        f"is {MAX_PATTERN_LENGTH + 1:,} characters long; the limit is "
        f"{MAX_PATTERN_LENGTH:,}" in str(error)
    )
    assert error.position == text.index("'")
    assert len(str(error)) < 1000


@pytest.mark.parametrize(
    ("char", "message"),
    [
        ("\udcff", "byte 0xFF is not UTF-8 text"),
        ("\ud800", "U+D800 is a lone surrogate"),
    ],
)
def test_text_that_is_not_unicode(char: str, message: str) -> None:
    text = f"tags.env = 'pr{char}d'"
    error = error_for(text)
    assert message in str(error)
    assert error.position == text.index(char)
    str(error).encode("utf-8")  # the message itself is sendable


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name LIKE '" + "a" * (MAX_PATTERN_LENGTH + 1) + "'", "the limit is 10,000"),
        (
            "name = 'a' AND " * MAX_CONDITIONS + "name = 'b'",
            f"more than {MAX_CONDITIONS} conditions",
        ),
        ("name = '" + "a" * MAX_FILTER_LENGTH + "'", f"the limit is {MAX_FILTER_LENGTH:,}"),
        ("name = '\udcff'", "byte 0xFF is not UTF-8 text"),
    ],
)
def test_experiment_filter_limits(text: str, message: str) -> None:
    with pytest.raises(InvalidFilterError, match=message) as error:
        experiment_filter(text, "sqlite")
    assert len(str(error.value)) < 1000


# --- order_by keys -------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_order_by_keys_compile(dialect: str) -> None:
    keys = [
        "attributes.timestamp_ms DESC",
        "trace.execution_time_ms",
        "attributes.name asc",
        "attributes.status",
        "attributes.total_tokens Desc",
        "tags.`my.key`",
        "metadata.version DESC",
    ]
    clauses = compile_order_by(keys, dialect)
    assert len(clauses) == len(keys) + 1  # + traces.id DESC
    assert len(compile_order_by(None, dialect)) == 2
    assert len(compile_order_by("attributes.name", dialect)) == 2


def test_text_sort_keys_use_code_point_order_on_postgresql() -> None:
    """SQLite compares text with BINARY; PostgreSQL gets COLLATE "C" to sort the same."""

    def sql(key: str, dialect: str) -> str:
        engine_dialect = postgresql.dialect() if dialect == "postgresql" else sqlite.dialect()
        clause = compile_order_by([key], dialect)[0]
        return str(clause.compile(dialect=engine_dialect))

    for key in ("attributes.name", "attributes.status", "tags.env", "metadata.v"):
        assert 'COLLATE "C"' in sql(key, "postgresql")
        assert "COLLATE" not in sql(key, "sqlite")
    assert "COLLATE" not in sql("attributes.timestamp_ms", "postgresql")


@pytest.mark.parametrize(
    "keys, message, at",
    [
        (["attributes.foo DESC"], "unknown field 'attributes.foo'", "attributes.foo"),
        (
            ["attributes.name", "feedback.score"],
            "cannot sort by 'feedback.score'; sort by attributes.{name, status",
            "feedback",
        ),
        (["trace.text"], "cannot sort by 'trace.text'", "trace"),
        (
            ["attributes.timestamp_ms DOWN"],
            "expected ASC, DESC or the end of the sort key, found 'DOWN'",
            "DOWN",
        ),
        (["attributes.timestamp_ms DESC, attributes.name"], "expected ASC, DESC or the end", ","),
        ([""], "expected a field to sort by, such as attributes.timestamp_ms", ""),
        (["DESC"], "expected a field to sort by", "DESC"),
        (["tags.`x"], "unterminated `quoted key`", "`x"),
    ],
)
def test_bad_order_by(keys: list[str], message: str, at: str) -> None:
    with pytest.raises(InvalidFilterError) as caught:
        compile_order_by(keys, "sqlite")
    text = str(caught.value)
    assert text.startswith(f"invalid order_by[{len(keys) - 1}]: ") and message in text
    position = keys[-1].index(at)
    assert caught.value.position == position and caret_column(text) == position


def test_order_by_key_must_be_a_string() -> None:
    with pytest.raises(InvalidFilterError, match=r"order_by\[0\]: a sort key is a string"):
        compile_order_by([None], "sqlite")  # type: ignore[list-item]


# --- dates and ages in time fields -----------------------------------------------------------

JAN_1_2026_MS = 1_767_225_600_000


@pytest.mark.parametrize(
    "text, expected_ms",
    [
        ("attributes.timestamp_ms > '2026-01-01'", JAN_1_2026_MS),  # no zone: UTC
        ("attributes.timestamp_ms > '2026-01-01T00:00:00Z'", JAN_1_2026_MS),
        ("attributes.timestamp_ms > '2026-01-01T02:00:00+02:00'", JAN_1_2026_MS),
        ("trace.end_time_ms <= '2026-01-01 00:00:01.5'", JAN_1_2026_MS + 1500),
        (f"attributes.timestamp_ms > {JAN_1_2026_MS}", JAN_1_2026_MS),
        (f"attributes.timestamp_ms > '{JAN_1_2026_MS}'", JAN_1_2026_MS),
    ],
)
def test_time_fields_read_dates(text: str, expected_ms: int) -> None:
    node = parse_filter(text)
    assert isinstance(node, Comparison) and node.value == expected_ms


@pytest.mark.parametrize(
    "literal, seconds",
    [("-7d", 7 * 86400), ("7d", 7 * 86400), ("'-24h'", 86400), ("'90m'", 5400), ("-1.5w", 907200)],
)
def test_time_fields_read_ages_before_now(literal: str, seconds: int) -> None:
    before = time.time()
    node = parse_filter(f"attributes.timestamp_ms > {literal}")
    after = time.time()
    assert isinstance(node, Comparison) and isinstance(node.value, int)
    assert int((before - seconds) * 1000) <= node.value <= int((after - seconds) * 1000) + 1


def test_ages_work_in_lists_and_combinations() -> None:
    node = parse_filter("attributes.timestamp_ms IN (-1d, '2026-01-01') AND tags.env = '-1d'")
    assert isinstance(node, And)
    first, second = node.items
    assert isinstance(first, Comparison) and first.value[1] == JAN_1_2026_MS  # type: ignore[index]
    assert second == tag("env", "=", "-1d")


@pytest.mark.parametrize(
    "text, message, at",
    [
        (
            "attributes.timestamp_ms > 'yesterday'",
            "attributes.timestamp_ms is a time: compare it with ms since the epoch, an age such "
            "as -7d, or a quoted ISO 8601 date",
            "'yesterday'",
        ),
        ("attributes.timestamp_ms > '2026-13-01'", "is a time", "'2026"),
        ("tags.env = -7d", "tags.env is not a time: an age such as -7d compares only", "-7d"),
        ("attributes.execution_time_ms > 5s", "attributes.execution_time_ms is not a time", "5s"),
        ("attributes.cost < 1d", "attributes.cost is not a time", "1d"),
        ("attributes.timestamp_ms > 7days", "malformed number starting '7'", "7days"),
    ],
)
def test_time_literal_errors(text: str, message: str, at: str) -> None:
    error = error_for(text)
    assert message in str(error)
    assert caret_column(str(error)) == text.index(at)


def test_dataset_times_read_dates_and_ages() -> None:
    from spyglass.collector.store.datasets.filters import compile_filter as dataset_filter

    expr = dataset_filter("create_time >= '2026-01-01' AND last_update_time > -1d", "sqlite")
    params = expr.compile().params  # type: ignore[union-attr]
    assert JAN_1_2026_MS in params.values()
    assert any(abs(v - (time.time() - 86400) * 1000) < 5000 for v in params.values())
