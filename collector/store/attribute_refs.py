"""Span attributes stored without the text the span's ``inputs``/``outputs`` columns hold.

The GenAI conventions carry a span's content in attributes (``input.value``,
``gen_ai.input.messages``, ``mlflow.spanInputs``, ...), and the store keeps that content
twice: as the canonical ``inputs``/``outputs`` column and in the raw ``attributes`` JSON. So
that it is stored once, :func:`encode` replaces an attribute value that can be rebuilt exactly
from a column with a **reference**, and every reader rebuilds it (:func:`resolve` for Python
readers, :func:`resolve_sql` for filters), so the API returns the attributes as sent (after
redaction and truncation), byte for byte.

A reference is a JSON integer between 2**63 and 2**64. No attribute can hold one (OTLP
integers are signed 64-bit), every JSON reader reads it as a number, and the attribute keeps
its key and its place, so rows stored without references (and values that differ from the
column, which are kept as they are) read unchanged. Which column it points to follows from
the key (:data:`COLUMN_OF`); the number says how the value is rebuilt from that column's
text ``c``:

* :data:`COPY`: ``c`` itself (``input.value`` with a JSON mime type, ``mlflow.spanInputs``,
  ``traceloop.entity.input``, ...);
* :data:`STRING`: the JSON string ``c`` decoded (plain-text ``input.value``, a string that is
  not JSON);
* :data:`MESSAGES`: the messages array of ``{"messages":<array>[,"system_instructions":…]}``
  (``gen_ai.input.messages``/``gen_ai.output.messages``), as text;
* :data:`CONTENT`: ``messages[i].content`` of ``c`` parsed, ``i`` from the key
  (OpenLLMetry's ``gen_ai.prompt.<i>.content`` / ``gen_ai.completion.<i>.content``).

A value becomes a reference only when the rebuilt value equals it exactly, so nothing can
be lost. The marker numbers are multiples of 10**18, which SQLite (reading integers beyond
64 bits as doubles) still tells apart.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    Text,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import JSONB

from spyglass.collector.genai import normalize as n
from spyglass.lenient_json import dumps, stand_in
from spyglass.semconv import SPAN_INPUTS, SPAN_OUTPUTS

__all__ = [
    "COLUMN_OF",
    "CONTENT",
    "COPY",
    "MESSAGES",
    "STRING",
    "column_of",
    "encode",
    "resolve",
    "resolve_sql",
]

COPY = 10_000_000_000_000_000_000
STRING = 11_000_000_000_000_000_000
MESSAGES = 12_000_000_000_000_000_000
CONTENT = 13_000_000_000_000_000_000
_MARKERS = frozenset({COPY, STRING, MESSAGES, CONTENT})
_HINT = "000000000000000000"  # in the JSON text of every marker: rows without one skip parsing
# A marker as an object member's value, '"' closing the member name. It may also match in a
# string, after an escaped quote; resolve() then reads a "name" ending in a backslash, which
# no key that can be a reference does, and skips it. No member nested deeper can hold such
# an integer, so every match with a name that can be a reference is a top-level reference.
_MARKER = re.compile(r'":(1[0-3]000000000000000000)(?=[,}])')

INPUTS, OUTPUTS = "inputs", "outputs"
COLUMN_OF: dict[str, str] = {
    **dict.fromkeys(
        (
            SPAN_INPUTS,
            n.MLFLOW_INPUTS,
            n.OI_INPUT_VALUE,
            n.GENAI_INPUT_MESSAGES,
            n.GENAI_TOOL_ARGUMENTS,
            n.TRACELOOP_INPUT,
        ),
        INPUTS,
    ),
    **dict.fromkeys(
        (
            SPAN_OUTPUTS,
            n.MLFLOW_OUTPUTS,
            n.OI_OUTPUT_VALUE,
            n.GENAI_OUTPUT_MESSAGES,
            n.GENAI_TOOL_RESULT,
            n.TRACELOOP_OUTPUT,
        ),
        OUTPUTS,
    ),
}
"""Keys whose whole value may be a reference, and the column it points to."""
_MESSAGE_KEYS = frozenset({n.GENAI_INPUT_MESSAGES, n.GENAI_OUTPUT_MESSAGES})
_INDEXED = re.compile(r"gen_ai\.(prompt|completion)\.(0|[1-9][0-9]{0,3})\.content")
_INPUT_SOURCES = tuple(key for key, column in COLUMN_OF.items() if column == INPUTS)
_OUTPUT_SOURCES = tuple(key for key, column in COLUMN_OF.items() if column == OUTPUTS)
_PROMPT, _COMPLETION = "gen_ai.prompt.", "gen_ai.completion."
_MESSAGES_HEAD = '{"messages":'
_INSTRUCTIONS = ',"system_instructions":'
_ORJSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY
_MIN_CHARS = 24
"""Shorter values stay as they are: a reference (20 digits) would save next to nothing."""


def column_of(key: str) -> tuple[str, int | None] | None:
    """The column an attribute ``key`` may reference, with the message index of an
    OpenLLMetry content key; None for keys that are always stored as they are."""
    column = COLUMN_OF.get(key)
    if column is not None:
        return column, None
    match = _INDEXED.fullmatch(key)
    if match is None:
        return None
    return (INPUTS if match.group(1) == "prompt" else OUTPUTS), int(match.group(2))


# --- writing ------------------------------------------------------------------------------


def encode(attrs: dict[str, Any], inputs: str | None, outputs: str | None) -> str:
    """The ``attributes`` column of a span: ``attrs`` as JSON text, each value that the
    span's ``inputs``/``outputs`` column text already holds replaced with a reference."""
    stored: dict[str, Any] | None = None
    for text, keys, prefix in (
        (inputs, _INPUT_SOURCES, _PROMPT),
        (outputs, _OUTPUT_SOURCES, _COMPLETION),
    ):
        if text is None:
            continue
        for key in keys:
            value = attrs.get(key)
            if type(value) is str and len(value) >= _MIN_CHARS:
                marker = _marker(key, value, text)
                if marker:
                    if stored is None:
                        stored = dict(attrs)
                    stored[key] = marker
        if prefix + "0.content" in attrs:
            for key in _content_references(attrs, prefix, text):
                if stored is None:
                    stored = dict(attrs)
                stored[key] = CONTENT
    if stored is None:
        return dumps(attrs)
    try:  # as lenient_json.dumps writes it when orjson can (see resolve)
        return orjson.dumps(stored, default=stand_in, option=_ORJSON_OPTIONS).decode()
    except TypeError:  # written by a fallback: stored in full
        return dumps(attrs)


def _marker(key: str, value: str, text: str) -> int | None:
    """The reference that rebuilds ``value`` (of ``key``) from the column ``text``; None if
    none does."""
    if value == text:
        return COPY
    if key in _MESSAGE_KEYS:
        return MESSAGES if _is_messages(value, text) else None
    if text[0] == '"' and "\x00" not in value and _string(text) == value:
        return STRING
    return None


def _content_references(attrs: dict[str, Any], prefix: str, text: str) -> list[str]:
    """OpenLLMetry's ``<prefix><i>.content`` keys whose value is ``messages[i].content``."""
    if "\\u0000" in text:  # PostgreSQL's jsonb, which filters read it with, refuses NUL
        return []
    messages = _parsed_messages(text)
    found = []
    for index, message in enumerate(messages):
        key = f"{prefix}{index}.content"
        value = attrs.get(key)
        if (
            type(value) is str
            and len(value) >= _MIN_CHARS
            and isinstance(message, dict)
            and message.get("content") == value
            and _INDEXED.fullmatch(key)
        ):
            found.append(key)
    return found


# --- reading ------------------------------------------------------------------------------


def resolve(text: str, inputs: str | None, outputs: str | None) -> str:
    """The ``attributes`` column as the span sent its attributes: references rebuilt from
    the span's ``inputs``/``outputs`` columns. Text without references is returned as is.

    Each reference is replaced in the text where it stands (no parse of the whole object):
    :func:`encode` writes references only into text that orjson wrote, so the value written
    in its place is exactly what orjson wrote for the whole object.
    """
    if _HINT not in text:
        return text
    columns = {INPUTS: inputs, OUTPUTS: outputs}
    parts: list[str] = []
    done = 0
    for match in _MARKER.finditer(text):
        name_end = match.start()  # the quote closing the member name
        name_start = text.rfind('"', 0, name_end)
        if name_start < 1 or text[name_start - 1] not in "{,":
            continue
        value = _rebuild(text[name_start + 1 : name_end], int(match[1]), columns)
        if value is not None:
            parts += (text[done : name_end + 2], orjson.dumps(value).decode())
            done = match.end()
    if not parts:
        return text
    parts.append(text[done:])
    return "".join(parts)


def _rebuild(key: str, marker: int, columns: dict[str, str | None]) -> str | None:
    target = column_of(key)
    if target is None:
        return None
    column, index = target
    text = columns[column]
    if text is None:
        return None
    if marker == COPY:
        return text
    if marker == STRING:
        return _string(text)
    if marker == MESSAGES:
        return _messages(text)
    if index is None:
        return None
    messages = _parsed_messages(text)
    message = messages[index] if index < len(messages) else None
    content = message.get("content") if isinstance(message, dict) else None
    return content if type(content) is str else None


def _string(text: str) -> str | None:
    """The JSON string ``text`` decoded; None when ``text`` is not one."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    return value if type(value) is str else None


def _messages(text: str) -> str | None:
    """The messages array text of ``{"messages":<array>[,"system_instructions":…]}``."""
    if not text.startswith(_MESSAGES_HEAD) or text[-1] != "}":
        return None
    body = text[len(_MESSAGES_HEAD) : -1]
    cut = body.find(_INSTRUCTIONS)
    return body if cut < 0 else body[:cut]


def _is_messages(value: str, text: str) -> bool:
    """Whether ``_messages(text) == value``, without copying ``text``."""
    head = len(_MESSAGES_HEAD)
    if not text.startswith(_MESSAGES_HEAD) or text[-1] != "}":
        return False
    cut = text.find(_INSTRUCTIONS, head, len(text) - 1)
    end = len(text) - 1 if cut < 0 else cut
    return end - head == len(value) and text.startswith(value, head)


def _parsed_messages(text: str) -> list[Any]:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return []
    messages = value.get("messages") if isinstance(value, dict) else None
    return messages if isinstance(messages, list) else []


# --- filters ------------------------------------------------------------------------------


def resolve_sql(
    key: str,
    value: ColumnElement,
    stored: ColumnElement,
    stored_type: ColumnElement | None,
    columns: Mapping[str, ColumnElement],
) -> ColumnElement:
    """SQL for an attribute's value as a filter compares it, references rebuilt.

    ``value`` is the expression the filter compares for a value stored as is; ``stored``
    is the stored value itself: on PostgreSQL the ``jsonb`` element (``stored_type`` None;
    its text is the bare number for a reference, quoted for a string), on SQLite
    ``json_each``'s ``value``, with its ``type`` as ``stored_type``. ``columns`` holds the
    ``inputs`` and ``outputs`` columns. Keys that are never references get ``value``.
    """
    target = column_of(key)
    if target is None:
        return value
    name, index = target
    column = columns[name]
    postgres = stored_type is None
    if index is not None:
        rebuilt = {CONTENT: _json_path(column, ("messages", index, "content"), postgres)}
    elif key in _MESSAGE_KEYS:
        rebuilt = {COPY: column, MESSAGES: _messages_sql(column, postgres)}
    else:
        rebuilt = {COPY: column, STRING: _json_path(column, (), postgres)}
    if stored_type is None:
        element = cast(stored, Text)
        whens = [(element == str(marker), text) for marker, text in rebuilt.items()]
    else:  # SQLite reads these integers as doubles, of the "integer" JSON type
        whens = [
            (and_(stored_type == "integer", stored == literal(float(marker))), text)
            for marker, text in rebuilt.items()
        ]
    return type_coerce(case(*whens, else_=value), Text)


def _json_path(column: ColumnElement, path: tuple[Any, ...], postgres: bool) -> ColumnElement:
    """The string at ``path`` of the column's JSON text (the whole text for ``()``)."""
    if postgres:  # the path holds fixed words and integers only
        steps = "'{" + ",".join(str(step) for step in path) + "}'"
        return cast(column, JSONB).op("#>>", return_type=Text)(literal_column(steps))
    return func.json_extract(
        column, "$" + "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in path)
    )


def _messages_sql(column: ColumnElement, postgres: bool) -> ColumnElement:
    """:func:`_messages` in SQL: the text between the head and the instructions (or the end)."""
    position = func.strpos if postgres else func.instr
    body = func.substr(
        column, len(_MESSAGES_HEAD) + 1, func.length(column) - len(_MESSAGES_HEAD) - 1
    )
    cut = position(body, _INSTRUCTIONS)
    return case((cut > 0, func.substr(body, 1, cut - 1)), else_=body)
