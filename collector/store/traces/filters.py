"""The trace search filter language: parsed into an AST, compiled to SQLAlchemy expressions.

``parse_filter`` turns a filter string into frozen dataclass nodes (:class:`Comparison`,
:class:`And`, :class:`Or`, :class:`Not`), checking every field, operator and literal on the
way so that a bad filter fails here, with a caret under the spot. ``compile_filter`` turns the
tree into one boolean expression over ``traces`` (use it as
``select(TraceRow.trace_id).where(expr)``) for SQLite or PostgreSQL; ``compile_order_by``
does the same for sort keys. Every user-supplied text (values, keys, LIKE patterns) becomes
a bound parameter; nothing the user writes is pasted into SQL.

Grammar (keywords case-insensitive)::

    filter     := or_expr
    or_expr    := and_expr ("OR" and_expr)*
    and_expr   := unary ("AND" unary)*               AND binds tighter than OR
    unary      := "NOT" unary | "(" or_expr ")" | comparison
    comparison := field ("=" | "!=" | "<" | "<=" | ">" | ">=" | "LIKE" | "ILIKE") literal
                | field ("IN" | "NOT" "IN") "(" literal ("," literal)* ")"
                | field "IS" ["NOT"] "NULL"
    field      := word ("." key)*                    key := [A-Za-z0-9_-]+ | `any text`
    literal    := 'text' | "text" | number | age | TRUE | FALSE   age := -?number(s|m|h|d|w)
    order_key  := field ["ASC" | "DESC"]

``==`` and ``<>`` are accepted for ``=`` and ``!=``. A quote inside a string is written twice
(``'it''s'``, ``"a ""b"" c"``); backslash is an ordinary character in strings, so LIKE
patterns can use it as their escape (``'100\\%'`` matches a literal ``100%``). A backtick
inside a quoted key is written twice too.

Fields (``attributes.`` and ``trace.`` are interchangeable prefixes):

* trace columns: ``name``, ``trace_id``, ``session_id``, ``user_id`` (text; also written
  ``session.id`` and ``user.id``, without a prefix, as the OTel attributes are named);
  ``status`` (``OK``, ``ERROR``, ``IN_PROGRESS``); numbers ``timestamp_ms`` (trace start),
  ``end_time_ms``, ``execution_time_ms``, ``experiment_id`` (also as a string),
  ``input_tokens``, ``output_tokens``, ``total_tokens``, ``cost``, ``span_count``,
  ``error_count``; ``model`` (any span of the trace used that model); ``text`` (search).
* ``tags.<key>`` / ``tag.<key>``, ``metadata.<key>``, ``feedback.<name>``,
  ``expectation.<name>``, ``span.attributes.<key>``: key/value fields. Everything after the
  prefix is the key, so ``tags.a.b`` and ``tags.`a.b``` are the same key ``a.b`` (OTel keys
  with dots are one key, never a path).
* ``span.name``, ``span.type``, ``span.inputs``, ``span.outputs`` (text), ``span.status``
  (``OK`` or ``ERROR``; an UNSET span status counts as OK, as on the trace row).

Semantics:

* A comparison is true only when the field has a value that satisfies it, and ``NOT``
  negates that: ``attributes.name != 'x'`` skips traces without a name, ``NOT
  attributes.name = 'x'`` keeps them.
* Key/value and span fields are correlated ``EXISTS`` subqueries: ``tags.env != 'prod'``
  means "has tag env with another value"; ``NOT tags.env = 'prod'`` means "has no env=prod
  tag" (untagged traces included); ``tags.env IS NULL`` means "has no env tag" (a tag whose
  value is NULL counts as absent). Span conditions are checked one by one: ``span.name = 'a'
  AND span.type = 'LLM'`` may be satisfied by two different spans.
* Key/value values compare by the literal's type. A string compares the text (JSON string
  values of feedback, expectations and span attributes without their quotes; numbers as
  their text; booleans as ``true``/``false``). A number compares numerically, and only
  values that are JSON numbers (``-?digits[.digits][e[+-]dd]``, at most 100 characters
  after trimming whitespace, exponent of at most two digits) take part: ``'abc'``, ``'1e999'``
  or ``''`` never match and never make the query fail. TRUE/FALSE match the values ``true`` /
  ``false`` (any case) only. Feedback and expectations count only while valid; their
  ``value`` column holds JSON as the write path stores it (SQLite skips a value that is not
  JSON, PostgreSQL's ``::jsonb`` cast would reject the query).
* Times are milliseconds; the literal is converted to nanoseconds so the stored columns are
  compared as they are (the ``(experiment_id, start_time_ns)`` index stays usable).
  ``timestamp_ms`` and ``end_time_ms`` also take a quoted ISO 8601 date or time
  (``'2026-01-01'``, ``'2026-01-01T09:30:00+02:00'``; without a zone it is UTC) and an age
  before now, unquoted or quoted (``-7d``, ``'24h'``; units s, m, h, d, w), read when the
  filter is parsed. ``execution_time_ms`` is a duration and takes numbers only.
* LIKE is case-sensitive on both stores (SQLite runs it as GLOB with the pattern
  translated); ILIKE is case-insensitive (SQLite folds ASCII letters only). ``%`` and ``_``
  are wildcards, backslash escapes them. Text comparisons ``=``/``!=``/``IN`` are exact and
  case-sensitive; ``<``/``>`` do not apply to text (collations differ between stores).
* ``trace.text`` matches traces with any span whose inputs or outputs (JSON text) contain the
  value: ``= 'word'`` looks for the literal text, ``LIKE``/``ILIKE`` (alike here) for the
  pattern anywhere. ASCII letters match either case, other characters as written. A value
  that begins with an ASCII letter or digit matches only where a word begins (at the start
  of the text or after an ASCII character that is neither): ``'fund'`` does not find
  "refund"; one that begins otherwise (``'%fund'``, ``'-fund'``) matches anywhere. A word
  index (:mod:`~spyglass.collector.store.traces.text_index`) finds candidate traces when
  the value holds a word it can look up; the rule is then checked on their spans.
* Sorting puts missing values last in both directions; text sorts by code point on both
  stores (``COLLATE "C"`` on PostgreSQL); ties are broken by ``traces.id`` descending.

Limits, each a clear :class:`InvalidFilterError` checked before any SQL runs: 100,000
characters, 100 levels of parentheses/NOT, 256 conditions, 1,000 values in one IN list and
5,000 values in all (both stores cap the parameters of one statement: SQLite at 32,766,
PostgreSQL at 65,535), 10,000 characters in one LIKE/ILIKE pattern or ``trace.text`` value
(SQLite refuses patterns over 50,000 bytes; a character may take four), and only Unicode
text: a lone surrogate such as the ``'\\udcff'`` that stands for a byte that was not UTF-8
is refused with its position.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timezone
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Double,
    Text,
    and_,
    case,
    cast,
    column,
    false,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    table,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB, TSQUERY, TSVECTOR

from spyglass.collector.store.attribute_refs import resolve_sql
from spyglass.collector.store.models import (
    AssessmentRow,
    SpanRow,
    TraceMetadata,
    TraceRow,
    TraceTag,
)
from spyglass.collector.store.traces import probes, text_index
from spyglass.collector.store.traces.probes import Probe
from spyglass.errors import InvalidFilterError, not_unicode
from spyglass.times import parse_time_ms

MAX_FILTER_LENGTH = 100_000
MAX_DEPTH = 100
MAX_CONDITIONS = 256  # n ORs make an expression n deep; SQLite allows 1000
MAX_IN_VALUES = 1_000
MAX_VALUES = 5_000
MAX_PATTERN_LENGTH = 10_000
MAX_NUMBER_LENGTH = 100

# ---------------------------------------------------------------------------------------
# AST

Scalar = str | int | float | bool
Value = Scalar | tuple[Scalar, ...] | None


@dataclass(frozen=True, slots=True)
class Field:
    """What a comparison looks at: ``kind`` says where, ``name`` which column or key.

    kind: "trace" (name = column-like field, lower case), "tag", "metadata", "feedback",
    "expectation" (name = key), "span" (name, type, status, inputs, outputs) or
    "span.attributes" (name = attribute key).
    """

    kind: str
    name: str

    def __str__(self) -> str:
        prefix = {"trace": "attributes", "tag": "tags"}.get(self.kind, self.kind)
        return f"{prefix}.{_quote_key(self.name)}"


@dataclass(frozen=True, slots=True)
class Comparison:
    """``field op value``; value is a tuple for IN / NOT IN and None for IS [NOT] NULL."""

    field: Field
    op: str
    value: Value = None


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: Node


Node = Comparison | And | Or | Not

# ---------------------------------------------------------------------------------------
# Fields and what each kind of field accepts

OPERATORS = (
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "LIKE",
    "ILIKE",
    "IN",
    "NOT IN",
    "IS NULL",
    "IS NOT NULL",
)
_ORDERING = frozenset({"<", "<=", ">", ">="})
_LIKES = frozenset({"LIKE", "ILIKE"})
_LISTS = frozenset({"IN", "NOT IN"})
_PRESENCE = frozenset({"IS NULL", "IS NOT NULL"})


@dataclass(frozen=True, slots=True)
class _Kind:
    name: str  # "text" | "number" | "enum" | "search" | "key_value"
    ops: tuple[str, ...]
    choices: tuple[str, ...] = ()
    time: bool = False  # a number of ms since the epoch that also takes dates and ages


_TEXT = _Kind("text", ("=", "!=", "LIKE", "ILIKE", "IN", "NOT IN", "IS NULL", "IS NOT NULL"))
_NUMBER = _Kind(
    "number", ("=", "!=", "<", "<=", ">", ">=", "IN", "NOT IN", "IS NULL", "IS NOT NULL")
)
_TIME = _Kind("number", _NUMBER.ops, time=True)
_SEARCH = _Kind("search", ("=", "LIKE", "ILIKE"))
_KEY_VALUE = _Kind("key_value", OPERATORS)
_TRACE_STATUS = _Kind("enum", ("=", "!=", "IN", "NOT IN"), ("OK", "ERROR", "IN_PROGRESS"))
_SPAN_STATUS = _Kind("enum", ("=", "!=", "IN", "NOT IN"), ("OK", "ERROR"))

TRACE_FIELDS: dict[str, _Kind] = {
    "name": _TEXT,
    "status": _TRACE_STATUS,
    "timestamp_ms": _TIME,
    "end_time_ms": _TIME,
    "execution_time_ms": _NUMBER,
    "trace_id": _TEXT,
    "experiment_id": _NUMBER,
    "session_id": _TEXT,
    "user_id": _TEXT,
    "model": _TEXT,
    "input_tokens": _NUMBER,
    "output_tokens": _NUMBER,
    "total_tokens": _NUMBER,
    "cost": _NUMBER,
    "span_count": _NUMBER,
    "error_count": _NUMBER,
    "text": _SEARCH,
}
SPAN_FIELDS: dict[str, _Kind] = {
    "name": _TEXT,
    "type": _TEXT,
    "status": _SPAN_STATUS,
    "inputs": _TEXT,
    "outputs": _TEXT,
}
_KEY_PREFIXES = {
    "tags": "tag",
    "tag": "tag",
    "metadata": "metadata",
    "feedback": "feedback",
    "expectation": "expectation",
}
_UNSORTABLE = frozenset({"model", "text"})
# the OTel/OpenInference attribute names, accepted for the trace columns they fill
_DOTTED_ALIASES = {("session", "id"): "session_id", ("user", "id"): "user_id"}

FIELDS_HELP = (
    "attributes.{" + ", ".join(TRACE_FIELDS) + "} (or trace.<same>; session.id and "
    "user.id for session_id and user_id), tags.<key> "
    "(or tag.<key>), metadata.<key>, feedback.<name>, expectation.<name>, "
    "span.{" + ", ".join(SPAN_FIELDS) + "}, span.attributes.<key>; quote keys with "
    "spaces or other characters in backticks: tags.`my key`"
)


def _kind_of(field: Field) -> _Kind:
    if field.kind == "trace":
        return TRACE_FIELDS[field.name]
    if field.kind == "span":
        return SPAN_FIELDS[field.name]
    return _KEY_VALUE


@dataclass(frozen=True, slots=True)
class FieldSet:
    """The fields of one search's filters; the grammar, literal checks and SQL for values
    are shared. ``resolve`` maps a path's segments (text, was-backticked) to a Field (None
    when unknown), ``kind_of`` says what a field accepts, ``unknown`` words the error for
    an unknown field. ``label`` names the filter in error messages and ``example`` shows
    what a condition starts with. ``conjunctions_only`` keeps the search to conditions
    joined by AND (no OR, NOT or parentheses). Trace search uses :data:`TRACE_FIELD_SET`;
    other searches (datasets, experiments) bring their own and compile with a
    :class:`Compiler` subclass."""

    resolve: Callable[[tuple[tuple[str, bool], ...]], Field | None]
    kind_of: Callable[[Field], _Kind]
    unknown: Callable[[str], str]
    label: str = "filter"
    example: str = "a field such as attributes.name or tags.env"
    conjunctions_only: bool = False


# what a field of another search may be (see FieldSet)
Kind = _Kind
TEXT_KIND, NUMBER_KIND, TIME_KIND, KEY_VALUE_KIND = _TEXT, _NUMBER, _TIME, _KEY_VALUE


def _quote_key(key: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_\-]*", key):
        return key
    return "`" + key.replace("`", "``") + "`"


# ---------------------------------------------------------------------------------------
# Errors with a caret


@dataclass(frozen=True, slots=True)
class _Source:
    """The text being parsed, how to name it in messages ("filter", "order_by[1]") and what
    it is ("filter", "sort key": where it ends is "the end of the filter")."""

    text: str
    label: str
    noun: str = "filter"

    def error(self, position: int, reason: str) -> InvalidFilterError:
        line, column = snippet(self.text, position)
        message = f"invalid {self.label}: {reason}\n  {line}\n  {' ' * column}^"
        return InvalidFilterError(message, text=self.text, position=position, reason=reason)

    def check_size(self) -> None:
        if len(self.text) > MAX_FILTER_LENGTH:
            raise self.error(
                MAX_FILTER_LENGTH,
                f"the {self.label} is {len(self.text):,} "
                f"characters long; the limit is {MAX_FILTER_LENGTH:,}",
            )
        nul = self.text.find("\x00")
        if nul >= 0:
            raise self.error(nul, "unexpected NUL character")
        surrogate = SURROGATE.search(self.text)
        if surrogate:
            raise self.error(surrogate.start(), not_unicode(surrogate.group()))


SURROGATE = re.compile("[\ud800-\udfff]")  # a lone surrogate: not Unicode text


def snippet(text: str, position: int, width: int = 50) -> tuple[str, int]:
    """The line holding ``position`` (a window of it when long) and the caret's column."""
    start = text.rfind("\n", 0, position) + 1
    end = text.find("\n", position)
    line = text[start:] if end < 0 else text[start:end]
    column = position - start
    if len(line) > 2 * width:
        left = max(0, column - width)
        right = min(len(line), left + 2 * width)
        prefix, suffix = ("…" if left else ""), ("…" if right < len(line) else "")
        line, column = prefix + line[left:right] + suffix, column - left + len(prefix)
    return "".join(c if c.isprintable() else " " for c in line), column


# ---------------------------------------------------------------------------------------
# Tokenizer


@dataclass(frozen=True, slots=True)
class _Token:
    """One lexeme at ``pos:end``. ``text`` is a punctuation mark, an operator or keyword
    (canonical spelling) or a string's content; ``number`` a number's value; ``segments``
    a path's keys, each with whether it was backticked."""

    kind: str  # "path" | "keyword" | "string" | "number" | "age" | "op" | "punct" | "eof"
    pos: int
    end: int
    text: str = ""
    number: int | float = 0
    segments: tuple[tuple[str, bool], ...] = ()


_SPACE = re.compile(r"\s*")
_NUMBER_TOKEN = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_AGE_TOKEN = re.compile(r"-?[0-9]+(?:\.[0-9]+)?[smhdw](?![A-Za-z0-9_.`])")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_\-]*")
_OP_TOKENS = {
    "!=": "!=",
    "<>": "!=",
    "<=": "<=",
    ">=": ">=",
    "==": "=",
    "=": "=",
    "<": "<",
    ">": ">",
}
_KEYWORDS = frozenset(
    {"AND", "OR", "NOT", "IN", "LIKE", "ILIKE", "IS", "NULL", "TRUE", "FALSE", "ASC", "DESC"}
)
_TYPOGRAPHIC_QUOTES = "‘’‚‛“”„‟′″«»‹›´＇＂"


class _Lexer:
    """Reads one token at a time, so that errors come out in reading order."""

    def __init__(self, source: _Source) -> None:
        self.source = source
        self.text = source.text

    def token_at(self, pos: int) -> _Token:
        space = _SPACE.match(self.text, pos)  # matches everywhere, if only the empty string
        pos = space.end() if space else pos
        if pos >= len(self.text):
            return _Token("eof", pos, pos)
        char = self.text[pos]
        if char in "'\"":
            return self._string(pos)
        if char in "(),":
            return _Token("punct", pos, pos + 1, char)
        for spelling, op in _OP_TOKENS.items():  # two-character spellings first
            if self.text.startswith(spelling, pos):
                return _Token("op", pos, pos + len(spelling), op)
        age = _AGE_TOKEN.match(self.text, pos)
        if age:
            return _Token("age", pos, age.end(), age.group())
        number = _NUMBER_TOKEN.match(self.text, pos)
        if number:
            return self._number(pos, number.end())
        if char == "`" or _WORD.match(self.text, pos):
            return self._path(pos)
        raise self.source.error(pos, _unexpected_character(char))

    def _string(self, pos: int) -> _Token:
        text, end = self._quoted(
            pos, "unterminated string (a quote inside a string is written twice: 'it''s')"
        )
        return _Token("string", pos, end, text)

    def _quoted(self, pos: int, unterminated: str) -> tuple[str, int]:
        """The text between the quote at ``pos`` and its match; a doubled quote is one."""
        quote, parts, i = self.text[pos], [], pos + 1
        while True:
            close = self.text.find(quote, i)
            if close < 0:
                raise self.source.error(pos, unterminated)
            parts.append(self.text[i:close])
            if not self.text.startswith(quote, close + 1):
                return "".join(parts), close + 1
            parts.append(quote)
            i = close + 2

    def _number(self, pos: int, end: int) -> _Token:
        spelling = self.text[pos:end]
        if end < len(self.text) and (self.text[end].isalnum() or self.text[end] in "._`"):
            raise self.source.error(pos, f"malformed number starting {spelling!r}")
        if len(spelling) > MAX_NUMBER_LENGTH:
            raise self.source.error(pos, f"number longer than {MAX_NUMBER_LENGTH} characters")
        if re.fullmatch(r"-?[0-9]+", spelling):
            return _Token("number", pos, end, number=int(spelling))
        value = float(spelling)
        if value in (float("inf"), float("-inf")):
            raise self.source.error(pos, f"number {spelling} is out of range")
        return _Token("number", pos, end, number=value)

    def _path(self, pos: int) -> _Token:
        """``word(.key)*`` where a key may be `backticked`; a lone keyword is a keyword."""
        segments: list[tuple[str, bool]] = []
        i = pos
        while True:
            i = self._segment(pos, i, segments)
            if not self.text.startswith(".", i):
                break
            i += 1
        first, quoted = segments[0]
        if len(segments) == 1 and not quoted and first.upper() in _KEYWORDS:
            return _Token("keyword", pos, i, first.upper())
        return _Token("path", pos, i, segments=tuple(segments))

    def _segment(self, start: int, i: int, segments: list[tuple[str, bool]]) -> int:
        if self.text.startswith("`", i):
            key, end = self._quoted(
                i, "unterminated `quoted key` (a backtick inside one is written twice)"
            )
            if not key:
                raise self.source.error(i, "empty `quoted key`")
            segments.append((key, True))
            return end
        match = (_KEY if segments else _WORD).match(self.text, i)
        if not match:
            raise self.source.error(
                i,
                f"expected a key after '{self.text[start:i]}' "
                "(quote unusual keys in backticks: tags.`my key`)",
            )
        segments.append((match.group(), False))
        return match.end()


def _unexpected_character(char: str) -> str:
    if char in _TYPOGRAPHIC_QUOTES:
        return (
            f"unexpected character {char!r}: quote strings with ' or \" "
            "(typographic quotes are not quotes here)"
        )
    return f"unexpected character {char!r}"


# ---------------------------------------------------------------------------------------
# Parser


class _Parser:
    """Recursive descent over the grammar in the module docstring."""

    def __init__(self, source: _Source, fields: FieldSet | None = None) -> None:
        self.source = source
        self.fields = fields or TRACE_FIELD_SET
        self.lexer = _Lexer(source)
        self.tok = self.lexer.token_at(0)
        self.depth = 0
        self.conditions = 0
        self.values = 0

    # -- token helpers
    def advance(self) -> _Token:
        token, self.tok = self.tok, self.lexer.token_at(self.tok.end)
        return token

    def at_keyword(self, *words: str) -> bool:
        return self.tok.kind == "keyword" and self.tok.text in words

    def at_punct(self, char: str) -> bool:
        return self.tok.kind == "punct" and self.tok.text == char

    def fail(self, reason: str, pos: int | None = None) -> InvalidFilterError:
        return self.source.error(self.tok.pos if pos is None else pos, reason)

    def found(self) -> str:
        if self.tok.kind == "eof":
            return f"the end of the {self.source.noun}"
        spelling = self.source.text[self.tok.pos : self.tok.end]
        spelling = spelling if len(spelling) <= 40 else spelling[:40] + "…"
        return spelling if self.tok.kind == "string" else f"'{spelling}'"

    def spelling(self, token: _Token) -> str:
        return self.source.text[token.pos : token.end]

    @contextlib.contextmanager
    def nested(self, pos: int) -> Iterator[None]:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"nested more than {MAX_DEPTH} levels deep (parentheses and NOT)", pos)
        yield
        self.depth -= 1

    # -- expressions
    def parse(self) -> Node:
        node = self.or_expr()
        if self.at_punct(")"):
            raise self.fail("unexpected ')' (it closes no '(')")
        if self.tok.kind != "eof":
            connectives = "AND" if self.fields.conjunctions_only else "AND, OR"
            raise self.fail(
                f"expected {connectives} or the end of the filter, found {self.found()}"
            )
        return node

    def or_expr(self) -> Node:
        items = [self.and_expr()]
        while self.at_keyword("OR") and not self.fields.conjunctions_only:
            self.advance()
            items.append(self.and_expr())
        return _join(Or, items)

    def and_expr(self) -> Node:
        items = [self.unary()]
        while self.at_keyword("AND"):
            self.advance()
            items.append(self.unary())
        return _join(And, items)

    def unary(self) -> Node:
        if self.tok.kind == "path":
            return self.comparison()
        if self.fields.conjunctions_only:
            raise self.fail(f"expected a condition ({self.fields.example}), found {self.found()}")
        if self.at_keyword("NOT"):
            with self.nested(self.advance().pos):
                return Not(self.unary())
        if self.at_punct("("):
            opening = self.advance()
            with self.nested(opening.pos):
                node = self.or_expr()
            if not self.at_punct(")"):
                raise self.fail(
                    f"expected ')' to close the '(' at position {opening.pos}, found {self.found()}"
                )
            self.advance()
            return node
        if self.at_punct(")"):
            raise self.fail("unexpected ')'")
        raise self.fail(
            f"expected a condition ({self.fields.example}, NOT, or '('), found {self.found()}"
        )

    # -- comparisons
    def comparison(self) -> Comparison:
        path = self.advance()
        field = self.field(path)
        self.conditions += 1
        if self.conditions > MAX_CONDITIONS:
            raise self.fail(f"more than {MAX_CONDITIONS} conditions", path.pos)
        op_pos = self.tok.pos
        op = self.operator(path)
        literals = self.operand(op)
        return Comparison(field, op, _Checker(self, field, path).value(op, op_pos, literals))

    def field(self, path: _Token) -> Field:
        field = self.fields.resolve(path.segments)
        if field is None:
            raise self.fail(self.fields.unknown(self.spelling(path)), path.pos)
        return field

    def operator(self, path: _Token) -> str:
        if self.tok.kind == "op" or self.at_keyword("LIKE", "ILIKE", "IN"):
            return self.advance().text
        if self.at_keyword("NOT"):
            self.advance()
            return self.expect_keyword(
                "IN",
                "NOT IN",
                "expected IN after NOT (to negate a condition, write NOT before its field)",
            )
        if self.at_keyword("IS"):
            self.advance()
            negated = self.at_keyword("NOT")
            if negated:
                self.advance()
            return self.expect_keyword(
                "NULL",
                "IS NOT NULL" if negated else "IS NULL",
                "expected NULL or NOT NULL after IS",
            )
        raise self.fail(
            f"expected an operator ({', '.join(OPERATORS)}) after "
            f"'{self.spelling(path)}', found {self.found()}"
        )

    def expect_keyword(self, word: str, result: str, reason: str) -> str:
        if not self.at_keyword(word):
            raise self.fail(f"{reason}, found {self.found()}")
        self.advance()
        return result

    def operand(self, op: str) -> list[tuple[Scalar, int]]:
        if op in _PRESENCE:
            return []
        if op not in _LISTS:
            return [self.literal(op)]
        if not self.at_punct("("):
            raise self.fail(f"expected '(' after {op}: {op} ('a', 'b'), found {self.found()}")
        self.advance()
        values = [self.literal(op)]
        while self.at_punct(","):
            self.advance()
            values.append(self.literal(op))
            if len(values) > MAX_IN_VALUES:
                raise self.fail(f"more than {MAX_IN_VALUES} values in one {op} list")
        if not self.at_punct(")"):
            raise self.fail(f"expected ',' or ')' in the {op} list, found {self.found()}")
        self.advance()
        return values

    def literal(self, op: str) -> tuple[Scalar, int]:
        token = self.tok
        self.values += 1
        if self.values > MAX_VALUES:
            raise self.fail(
                f"more than {MAX_VALUES:,} values in the filter (each value of "
                "an IN list counts); split the search into several, or narrow it "
                "with fewer values"
            )
        if token.kind == "string":
            self.advance()
            return token.text, token.pos
        if token.kind == "number":
            self.advance()
            return token.number, token.pos
        if token.kind == "age":
            self.advance()
            return _Age(token.text), token.pos
        if self.at_keyword("TRUE", "FALSE"):
            self.advance()
            return token.text == "TRUE", token.pos
        if self.at_keyword("NULL"):
            raise self.fail(
                "NULL is not a value: test for a missing value with IS NULL or IS NOT NULL"
            )
        hint = " (text values are quoted: 'prod')" if token.kind in ("path", "keyword") else ""
        raise self.fail(
            f"expected a value after {op} (a 'string', a number, TRUE or FALSE), "
            f"found {self.found()}{hint}"
        )


def _join(kind: type[And | Or], items: list[Node]) -> Node:
    if len(items) == 1:
        return items[0]
    flat: list[Node] = []
    for item in items:
        flat.extend(item.items if isinstance(item, kind) else (item,))
    return kind(tuple(flat))


def _resolve(segments: tuple[tuple[str, bool], ...]) -> Field | None:
    """The field a dotted path names, or None when it names none."""
    (head, head_quoted), rest = segments[0], segments[1:]
    if head_quoted or not rest:
        return None
    head = head.lower()
    key = ".".join(text for text, _ in rest)
    if head in ("attributes", "trace") and len(rest) == 1 and key.lower() in TRACE_FIELDS:
        return Field("trace", key.lower())
    if (head, key.lower()) in _DOTTED_ALIASES:
        return Field("trace", _DOTTED_ALIASES[head, key.lower()])
    if head in _KEY_PREFIXES:
        return Field(_KEY_PREFIXES[head], key)
    if head == "span" and len(rest) == 1 and key.lower() in SPAN_FIELDS:
        return Field("span", key.lower())
    if head == "span" and len(rest) > 1 and rest[0][0].lower() == "attributes":
        return Field("span.attributes", ".".join(text for text, _ in rest[1:]))
    return None


def _unknown_field(spelling: str) -> str:
    hint = f"did you mean attributes.{spelling}? " if spelling.lower() in TRACE_FIELDS else ""
    return f"unknown field '{spelling}'; {hint}fields are {FIELDS_HELP}"


TRACE_FIELD_SET = FieldSet(_resolve, _kind_of, _unknown_field)


class _Checker:
    """Checks an operator and its literals against a field; normalizes the value."""

    def __init__(self, parser: _Parser, field: Field, path: _Token) -> None:
        self.parser, self.field, self.kind = parser, field, parser.fields.kind_of(field)
        self.name = parser.spelling(path)

    def value(self, op: str, op_pos: int, literals: list[tuple[Scalar, int]]) -> Value:
        if op not in self.kind.ops:
            raise self.parser.fail(
                f"{self.name} cannot be compared with {op}; use {', '.join(self.kind.ops)}", op_pos
            )
        values = [self.literal(op, value, pos) for value, pos in literals]
        if op in _PRESENCE:
            return None
        if op in _LISTS:
            if self.kind is _KEY_VALUE:  # the literals' type picks how values compare
                self.same_types(literals)
            return tuple(values)
        return values[0]

    def literal(self, op: str, value: Scalar, pos: int) -> Scalar:
        if isinstance(value, _Age) and not self.kind.time:
            raise self.fail(
                f"{self.name} is not a time: an age such as {value} compares only with a "
                f"time field; quote it to compare text: '{value}'",
                pos,
            )
        if op in _LIKES or self.kind is _SEARCH:
            self.pattern_length(op, value, pos)
        if op in _LIKES:
            return self.pattern(op, value, pos)
        check = {"number": self.number, "enum": self.choice, "key_value": self.any_value}
        return check.get(self.kind.name, self.text)(op, value, pos)

    def fail(self, reason: str, pos: int) -> InvalidFilterError:
        return self.parser.fail(reason, pos)

    def pattern_length(self, op: str, value: Scalar, pos: int) -> None:
        if isinstance(value, str) and len(value) > MAX_PATTERN_LENGTH:
            what = f"{op} pattern" if op in _LIKES else f"{self.name} value"
            raise self.fail(
                f"the {what} is {len(value):,} characters long; the limit is "
                f"{MAX_PATTERN_LENGTH:,}: search for a shorter, distinctive part "
                "of the text",
                pos,
            )

    def pattern(self, op: str, value: Scalar, pos: int) -> str:
        if not isinstance(value, str):
            raise self.fail(
                f"{op} needs a string pattern such as '%word%', got {_show(value)}", pos
            )
        if (len(value) - len(value.rstrip("\\"))) % 2:
            raise self.fail(
                f"{op} pattern ends with a lone backslash, which escapes nothing "
                "(write \\\\ for a backslash)",
                pos,
            )
        return value

    def text(self, op: str, value: Scalar, pos: int) -> str:
        if not isinstance(value, str):
            raise self.fail(
                f"{self.name} is text: compare it with a quoted string such as '{_show(value)}'",
                pos,
            )
        return value

    def number(self, op: str, value: Scalar, pos: int) -> int | float:
        if isinstance(value, str) and self.kind.time:
            return self.time(value, pos)
        if isinstance(value, str) and self.field == Field("trace", "experiment_id"):
            if re.fullmatch(r"\s*[0-9]{1,19}\s*", value):
                return int(value)
            raise self.fail(f"{self.name} is an integer id, got {_show(value)}", pos)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(f"{self.name} needs a number, got {_show(value)}", pos)
        return value

    def time(self, value: str, pos: int) -> int:
        """A date, time or age as ms since the epoch (a time without a zone is UTC: the
        collector does not know the searcher's zone)."""
        moment = parse_time_ms(value, naive=timezone.utc)
        if moment is None:
            raise self.fail(
                f"{self.name} is a time: compare it with ms since the epoch, an age such as "
                f"-7d, or a quoted ISO 8601 date or time such as '2026-01-01' or "
                f"'2026-01-01T12:00:00Z'; got {_show(value)}",
                pos,
            )
        return moment

    def choice(self, op: str, value: Scalar, pos: int) -> str:
        if isinstance(value, str) and value.upper() in self.kind.choices:
            return value.upper()
        choices = ", ".join(f"'{c}'" for c in self.kind.choices)
        raise self.fail(f"{self.name} is one of {choices}, got {_show(value)}", pos)

    def any_value(self, op: str, value: Scalar, pos: int) -> Scalar:
        if op in _ORDERING and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise self.fail(f"'{op}' needs a number, got {_show(value)}", pos)
        return value

    def same_types(self, literals: list[tuple[Scalar, int]]) -> None:
        first = _literal_type(literals[0][0])
        for value, pos in literals[1:]:
            if _literal_type(value) != first:
                raise self.fail(
                    "IN values must be all strings, all numbers or all TRUE/FALSE; "
                    f"got {_show(value)} after {first}s",
                    pos,
                )


class _Age(str):
    """An unquoted age literal (``-7d``): text that only a time field reads."""

    __slots__ = ()


def _literal_type(value: Scalar) -> str:
    if isinstance(value, bool):
        return "boolean"
    return "string" if isinstance(value, str) else "number"


def _show(value: Scalar) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


def parse_filter(text: str, fields: FieldSet | None = None) -> Node | None:
    """The AST of a filter string over ``fields`` (default: trace search's); None when it
    is empty or only whitespace."""
    if not isinstance(text, str):
        raise InvalidFilterError(f"a filter is a string, got {type(text).__name__}")
    source = _Source(text, (fields or TRACE_FIELD_SET).label)
    source.check_size()
    if not text.strip():
        return None
    return _Parser(source, fields).parse()


# ---------------------------------------------------------------------------------------
# Compiler

_TRACES = TraceRow.__table__
_T = _TRACES.c
_SPANS = SpanRow.__table__
_S = _SPANS.c
# the word index (text_index): FTS5 on SQLite (its rowid is traces.id), rows on PostgreSQL
_SPAN_TEXT = table(
    "span_text",
    column("rowid", BigInteger),
    column("span_text", Text),
    column("trace_id", Text),
    column("words", TSVECTOR),
)
_ASSESSMENTS = AssessmentRow.__table__
_KEY_TABLES = {"tag": TraceTag.__table__, "metadata": TraceMetadata.__table__}

_DURATION = _T.end_time_ns - _T.start_time_ns
_TRACE_COLUMNS: dict[str, ColumnElement] = {
    "name": _T.name,
    "status": _T.status,
    "timestamp_ms": _T.start_time_ns,
    "end_time_ms": _T.end_time_ns,
    "execution_time_ms": _DURATION,
    "trace_id": _T.trace_id,
    "experiment_id": _T.experiment_id,
    "session_id": _T.session_id,
    "user_id": _T.user_id,
    "input_tokens": _T.input_tokens,
    "output_tokens": _T.output_tokens,
    "total_tokens": _T.total_tokens,
    "cost": _T.cost,
    "span_count": _T.span_count,
    "error_count": _T.error_count,
}
_NANOSECOND_FIELDS = frozenset({"timestamp_ms", "end_time_ms", "execution_time_ms"})
_NULLABLE = frozenset(
    {"execution_time_ms"}
    | {
        name
        for name, column in _TRACE_COLUMNS.items()
        if name != "execution_time_ms" and column.nullable
    }
)
_SPAN_COLUMNS = {"name": _S.name, "type": _S.span_type, "inputs": _S.inputs, "outputs": _S.outputs}
_STATUS_CODE_ERROR = 2  # OTLP Status.STATUS_CODE_ERROR; UNSET (0) and OK (1) count as OK
_COMPARE: dict[str, Callable[[ColumnElement, object], ColumnElement[bool]]] = {
    "=": lambda column, value: column == value,
    "!=": lambda column, value: column != value,
    "<": lambda column, value: column < value,
    "<=": lambda column, value: column <= value,
    ">": lambda column, value: column > value,
    ">=": lambda column, value: column >= value,
}
_INT64 = range(-(2**63), 2**63)
# A JSON number whose exponent has at most two digits (with the 100-character cap, every
# such number is a finite, normal double: PostgreSQL's cast can neither overflow nor fail).
_PG_NUMBER = r"^[ \t\n\r]*-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]{1,2})?[ \t\n\r]*$"
_JSON_SPACE = " \t\n\r"
DIALECTS = ("sqlite", "postgresql")


def compile_filter(text: str | None, dialect: str) -> ColumnElement[bool] | None:
    """The filter as one boolean expression over ``traces`` (None for no filter)."""
    _check_dialect(dialect)
    node = None if text is None else parse_filter(text)
    return None if node is None else _Compiler(dialect).node(node)


def _check_dialect(dialect: str) -> None:
    if dialect not in DIALECTS:
        raise ValueError(f"dialect {dialect!r} is not one of {', '.join(DIALECTS)}")


class _Compiler:
    """AST → SQLAlchemy Core for one dialect (``postgresql`` or ``sqlite``)."""

    def __init__(self, dialect: str) -> None:
        self.postgres = dialect == "postgresql"
        # one alias for every span attribute condition, so that merged ones share it
        attribute = func.json_each(_S.attributes).table_valued("key", "value", "type")
        self.attribute = attribute.alias("attribute")

    def node(self, node: Node) -> ColumnElement[bool]:
        return probes.render(self.normalized(_normalize(node)), self.postgres)

    def normalized(self, node: Node) -> probes.Part:
        """The compiled tree, conditions on related rows still as mergeable probes."""
        if isinstance(node, Comparison):
            return self.comparison(node)
        if isinstance(node, Not):
            assert isinstance(node.item, Comparison), "NOT is pushed down to the comparisons"
            return probes.negate(self.comparison(node.item))
        parts = [self.normalized(item) for item in node.items]
        return probes.combine(isinstance(node, And), parts)

    def comparison(self, c: Comparison) -> probes.Part:
        compile_kind = {
            "trace": self.trace,
            "tag": self.key_value,
            "metadata": self.key_value,
            "feedback": self.assessment,
            "expectation": self.assessment,
            "span": self.span,
            "span.attributes": self.span_attribute,
        }
        return compile_kind[c.field.kind](c)

    # -- the traces row
    def trace(self, c: Comparison) -> probes.Part:
        name = c.field.name
        if name == "text":
            return self.text_search(c)
        if name == "model":
            return self.presence(self.span_exists, _S.model, c, self.text_condition)
        column = _TRACE_COLUMNS[name]
        if c.op in _PRESENCE:
            return column.is_(None) if c.op == "IS NULL" else column.is_not(None)
        value = _map(c.value, _ms_to_ns if name in _NANOSECOND_FIELDS else _bindable)
        if TRACE_FIELDS[name].name == "number":
            condition = self.number_condition(column, c.op, value)
        else:
            condition = self.text_condition(column, c.op, value)
        # never NULL, so that NOT keeps the traces that lack the value
        return and_(column.is_not(None), condition) if name in _NULLABLE else condition

    def text_search(self, c: Comparison) -> probes.Part:
        """Spans whose text matches (module docstring), found through the word index when
        the value has a word it can look up (see text_index), else by scanning spans."""
        value = _string(c.value)
        pieces = text_index.parse_pattern(value, like=c.op != "=")
        like = f"%{_escape_like(value) if c.op == '=' else value}%"
        matches = [self.text_matches(col, pieces, like) for col in (_S.inputs, _S.outputs)]
        exact = self.span_exists(or_(*matches))
        terms = text_index.terms(pieces)
        if not terms:
            return exact
        # every match is a candidate, so NOT is "no span matches", without the index
        return probes.Group(True, (self.text_candidates(terms), exact), negation=exact.negate())

    def text_matches(
        self, column: ColumnElement, pieces: list[text_index.Piece], like: str
    ) -> ColumnElement[bool]:
        """The exact rule on one column: ``like`` (the value as a ``%…%`` pattern) first, as
        a cheap necessary condition, then a case-sensitive pattern that spells out ASCII case
        and the start of a word (PostgreSQL's ILIKE also folds other letters)."""
        if self.postgres:
            return and_(column.ilike(like), column.op("~")(text_index.regex_pattern(pieces)))
        matches = column.like(like, escape="\\")  # SQLite's LIKE ignores ASCII case only
        if not text_index.anchored(pieces):
            return matches
        spaced = literal(" ", Text) + column  # the start of the text begins a word
        return and_(matches, spaced.op("GLOB")(text_index.glob_pattern(pieces)))

    def text_candidates(self, terms: list[text_index.Term]) -> ColumnElement[bool]:
        """Traces whose words include every term (a superset of the matches)."""
        if self.postgres:
            query = cast(literal(text_index.tsquery(terms), Text), TSQUERY)
            found = select(_SPAN_TEXT.c.trace_id).where(_SPAN_TEXT.c.words.op("@@")(query))
            return _T.trace_id.in_(found)
        found = select(_SPAN_TEXT.c.rowid).where(
            _SPAN_TEXT.c.span_text.op("MATCH")(literal(text_index.fts5_query(terms), Text))
        )
        # "+ 0": SQLite then walks traces in the search's order, probing the candidates,
        # and stops at a full page, rather than reading every candidate and sorting
        return (_T.id + 0).in_(found)

    # -- spans
    def span_exists(self, condition: ColumnElement[bool]) -> Probe:
        return _probe("span", _S.trace_id, condition)

    def span(self, c: Comparison) -> Probe:
        if c.field.name == "status":
            return self.span_exists(_span_status(c.op, c.value))
        return self.presence(self.span_exists, _SPAN_COLUMNS[c.field.name], c, self.text_condition)

    def span_attribute(self, c: Comparison) -> Probe:
        key = c.field.name
        # a value the span's inputs/outputs hold is stored as a reference to the column
        content = {"inputs": _S.inputs, "outputs": _S.outputs}
        if self.postgres:
            element = cast(_S.attributes, JSONB)[key]
            value = resolve_sql(key, element.astext, element, None, content)
            return self.presence(self.span_exists, value, c, self.value_condition)
        # json_each rather than a JSON path: any key works, even one with '"' or '\'
        attribute = self.attribute
        value = case(
            (attribute.c.type == "true", "true"),
            (attribute.c.type == "false", "false"),
            else_=cast(attribute.c.value, Text),
        )
        value = resolve_sql(key, value, attribute.c.value, attribute.c.type, content)
        source = _SPANS.join(attribute, true())

        def exists(condition: ColumnElement[bool]) -> Probe:
            return _probe(
                "span.attributes", _S.trace_id, and_(attribute.c.key == key, condition), source
            )

        return self.presence(exists, value, c, self.value_condition)

    # -- tags, metadata, assessments
    def key_value(self, c: Comparison) -> Probe:
        table = _KEY_TABLES[c.field.kind]

        def exists(condition: ColumnElement[bool]) -> Probe:
            return _probe(
                c.field.kind, table.c.trace_id, and_(table.c.key == c.field.name, condition)
            )

        return self.presence(exists, table.c.value, c, self.value_condition)

    def assessment(self, c: Comparison) -> Probe:
        a = _ASSESSMENTS.c

        def exists(condition: ColumnElement[bool]) -> Probe:
            return _probe(
                "assessment",
                a.trace_id,
                and_(a.kind == c.field.kind, a.name == c.field.name, a.valid == true(), condition),
            )

        return self.presence(exists, self.json_scalar(a.value), c, self.value_condition)

    def json_scalar(self, column: ColumnElement) -> ColumnElement[str]:
        """A JSON document as text: strings unquoted, true/false, numbers, NULL for null."""
        if self.postgres:
            return cast(column, JSONB).op("#>>", return_type=Text)(literal_column("'{}'"))
        json_type = func.json_type(column)
        scalar = case(
            (json_type == "true", "true"),
            (json_type == "false", "false"),
            else_=cast(func.json_extract(column, "$"), Text),
        )
        return case((func.json_valid(column) == 1, scalar))

    # -- conditions on one value
    def presence(
        self,
        exists: Callable[[ColumnElement[bool]], Probe],
        value: ColumnElement,
        c: Comparison,
        condition: Callable[[ColumnElement, str, Value], ColumnElement[bool]],
    ) -> Probe:
        """An EXISTS over rows holding the value; IS NULL is "no row with a value"."""
        if c.op == "IS NULL":
            return exists(value.is_not(None)).negate()
        if c.op == "IS NOT NULL":
            return exists(value.is_not(None))
        return exists(condition(value, c.op, c.value))

    def value_condition(self, text: ColumnElement, op: str, value: Value) -> ColumnElement[bool]:
        """A key/value comparison, typed by the literal (see the module docstring)."""
        sample = value[0] if isinstance(value, tuple) else value
        if isinstance(sample, bool):
            return _boolean_condition(text, op, value)
        if isinstance(sample, (int, float)):
            return self.number_condition(self.numeric(text), op, _map(value, float))
        return self.text_condition(text, op, value)

    def numeric(self, text: ColumnElement) -> ColumnElement[float]:
        """The value as a double when it is a JSON number (module docstring), else NULL."""
        if self.postgres:
            short = func.length(func.btrim(text, _JSON_SPACE)) <= MAX_NUMBER_LENGTH
            return case((and_(text.op("~")(_PG_NUMBER), short), cast(text, Double)))
        long_exponent = or_(
            text.op("GLOB")("*[eE][0-9][0-9][0-9]*"), text.op("GLOB")("*[eE][-+][0-9][0-9][0-9]*")
        )
        number = and_(
            func.json_type(text).in_(["integer", "real"]),
            not_(long_exponent),
            func.length(func.trim(text, _JSON_SPACE)) <= MAX_NUMBER_LENGTH,
        )
        # nested CASEs: json_type raises on malformed JSON, so it runs only after json_valid
        return case((func.json_valid(text) == 1, case((number, cast(text, Double)))))

    def number_condition(
        self,
        expr: ColumnElement,
        op: str,
        value: Value,
    ) -> ColumnElement[bool]:
        if op in _LISTS:
            values = [_number_literal(v) for v in _items(value)]
            return expr.in_(values) if op == "IN" else expr.not_in(values)
        return _COMPARE[op](expr, _number_literal(_single(value)))

    def text_condition(self, expr: ColumnElement, op: str, value: Value) -> ColumnElement[bool]:
        if op == "LIKE":
            if self.postgres:
                return expr.like(value)
            return expr.op("GLOB")(_like_to_glob(_string(value)))
        if op == "ILIKE":
            return expr.ilike(value) if self.postgres else expr.like(value, escape="\\")
        if op in _LISTS:
            values = list(_items(value))
            return expr.in_(values) if op == "IN" else expr.not_in(values)
        return _COMPARE[op](expr, value)


Compiler = _Compiler  # other searches subclass it, overriding comparison() (see FieldSet)


def _normalize(node: Node, negate: bool = False) -> Node:
    """NOT pushed down to the comparisons (De Morgan; sound because every compiled
    comparison is TRUE or FALSE, never NULL), then each group's deepest member first.

    SQLite's parser has a fixed stack (100 entries in many builds): ``a AND (b OR (c AND
    (…)))`` costs it several entries per level and overflows at ~30 levels, while the
    same tree written ``(((…) AND c) OR b) AND a`` costs one per level.
    """
    if isinstance(node, Not):
        return _normalize(node.item, not negate)
    if isinstance(node, Comparison):
        return Not(node) if negate else node
    kind: type[And | Or] = type(node)
    if negate:
        kind = Or if kind is And else And
    items = sorted((_normalize(item, negate) for item in node.items), key=_depth, reverse=True)
    return _join(kind, items)


def _depth(node: Node) -> int:
    if isinstance(node, (And, Or)):
        return 1 + max(_depth(item) for item in node.items)
    return 0


def _probe(
    group: str, trace_id: ColumnElement, condition: ColumnElement[bool], source: object = None
) -> Probe:
    """Some row of ``trace_id``'s table (or ``source``) of the trace satisfies ``condition``."""
    return Probe(group, trace_id, _T.trace_id, (condition,), source)


def _span_status(op: str, value: Value) -> ColumnElement[bool]:
    def matches(status: Scalar) -> ColumnElement[bool]:
        is_error = _S.status_code == _STATUS_CODE_ERROR
        return is_error if status == "ERROR" else not_(is_error)

    if op in _LISTS:
        condition = or_(*(matches(v) for v in _items(value)))
        return condition if op == "IN" else not_(condition)
    return matches(_single(value)) if op == "=" else not_(matches(_single(value)))


def _boolean_condition(text: ColumnElement, op: str, value: Value) -> ColumnElement[bool]:
    """Only the values true/false (any case) take part in a TRUE/FALSE comparison."""
    given = value if isinstance(value, tuple) else (value,)
    negated = op in ("!=", "NOT IN")
    wanted = [b for b in (False, True) if (b in given) != negated]
    if not wanted:
        return false()
    return func.lower(text).in_(["true" if b else "false" for b in wanted])


def _single(value: Value) -> Scalar:
    """A one-value comparison's literal (see :class:`Comparison`)."""
    assert value is not None and not isinstance(value, tuple), "a comparison with one value"
    return value


def _items(value: Value) -> tuple[Scalar, ...]:
    """An IN / NOT IN comparison's literals (see :class:`Comparison`)."""
    assert isinstance(value, tuple), "an IN list is a tuple"
    return value


def _string(value: Value) -> str:
    """A text or pattern comparison's literal (the checker admits only strings)."""
    assert isinstance(value, str), "a text comparison's literal is a string"
    return value


def _map(value: Value, convert: Callable[[Scalar], Scalar]) -> Value:
    if isinstance(value, tuple):
        return tuple(convert(v) for v in value)
    return value if value is None or isinstance(value, str) else convert(value)


def _number_literal(value: Scalar) -> ColumnElement:
    """A number bound with its own type (BIGINT or DOUBLE PRECISION), never the compared
    column's: a fraction must not be cast to an integer column's type on its way in."""
    return literal(value, Double() if isinstance(value, float) else BigInteger())


def _bindable(value: Scalar) -> Scalar:
    """Integers beyond 64 bits bind as doubles (both drivers refuse them as integers)."""
    if isinstance(value, int) and not isinstance(value, bool) and value not in _INT64:
        return float(value)
    return value


def _ms_to_ns(value: Scalar) -> Scalar:
    """Milliseconds → nanoseconds, exactly (Decimal), as an int when whole."""
    nanos = Decimal(str(value)) * 1_000_000
    if nanos == nanos.to_integral_value():
        return _bindable(int(nanos))
    return float(nanos)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _like_to_glob(pattern: str) -> str:
    """A LIKE pattern (backslash escapes) as the equivalent, case-sensitive SQLite GLOB."""
    out: list[str] = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            out.append(_glob_literal(next(chars)))  # validated: never a trailing backslash
        elif char in "%_":
            out.append("*" if char == "%" else "?")
        else:
            out.append(_glob_literal(char))
    return "".join(out)


def _glob_literal(char: str) -> str:
    return f"[{char}]" if char in "*?[" else char


# ---------------------------------------------------------------------------------------
# order_by


def compile_order_by(order_by: Sequence[str] | None, dialect: str) -> list[ColumnElement]:
    """Sort keys (``"attributes.timestamp_ms DESC"``, ``"tags.rank"``, …) as ORDER BY
    clauses, missing values last, ending with ``traces.id DESC`` for a stable order.

    No keys: newest first (``attributes.timestamp_ms DESC``).
    """
    _check_dialect(dialect)
    if isinstance(order_by, str):
        order_by = [order_by]
    keys = [_parse_order_key(item, index) for index, item in enumerate(order_by or ())]
    if not keys:
        keys = [(Field("trace", "timestamp_ms"), True)]
    clauses = [
        _order_clause(field, descending, dialect == "postgresql") for field, descending in keys
    ]
    return [*clauses, _T.id.desc()]


def _parse_order_key(item: str, index: int) -> tuple[Field, bool]:
    label = f"order_by[{index}]"
    if not isinstance(item, str):
        raise InvalidFilterError(
            f"invalid {label}: a sort key is a string, got {type(item).__name__}"
        )
    source = _Source(item, label, "sort key")
    source.check_size()
    parser = _Parser(source)
    if parser.tok.kind != "path":
        raise parser.fail(
            f"expected a field to sort by, such as attributes.timestamp_ms, found {parser.found()}"
        )
    path = parser.advance()
    field = parser.field(path)
    if not _sortable(field):
        raise parser.fail(
            f"cannot sort by '{parser.spelling(path)}'; sort by attributes."
            f"{{{', '.join(n for n in TRACE_FIELDS if n not in _UNSORTABLE)}}}, "
            "tags.<key> or metadata.<key>",
            path.pos,
        )
    descending = False
    if parser.at_keyword("ASC", "DESC"):
        descending = parser.advance().text == "DESC"
    if parser.tok.kind != "eof":
        raise parser.fail(f"expected ASC, DESC or the end of the sort key, found {parser.found()}")
    return field, descending


def _sortable(field: Field) -> bool:
    return field.kind in _KEY_TABLES or (field.kind == "trace" and field.name not in _UNSORTABLE)


def _order_clause(field: Field, descending: bool, postgres: bool) -> ColumnElement:
    expr: ColumnElement
    if field.kind in _KEY_TABLES:
        table = _KEY_TABLES[field.kind]
        expr = (
            select(table.c.value)
            .where(table.c.trace_id == _T.trace_id, table.c.key == field.name)
            .correlate(_TRACES)
            .scalar_subquery()
        )
        is_text = True
    else:
        expr = _TRACE_COLUMNS[field.name]
        is_text = TRACE_FIELDS[field.name].name != "number"
    if postgres and is_text:
        expr = expr.collate("C")  # code point order, as SQLite's BINARY collation
    return (expr.desc() if descending else expr.asc()).nulls_last()
